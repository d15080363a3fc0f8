"""The cleaner's quality targets, measured as bench/clean_quality.py measures them: replica ground
truth over a few hundred generated pages (F1, every byline format parsed) and, on a fixed subset
of the shared development set, a pass rate at least trafilatura's in the same run."""

from __future__ import annotations

from collections import Counter

from flows.clean.cleaner import clean_html
from tests.helpers import bench_module, dev_set_dir

TAGDIV = "tagdiv-newspaper"
bench = bench_module("clean_quality")


def test_token_score_definition() -> None:
    score = bench.TokenScore()
    score.add("a b b c", "a b c d")
    assert (score.tp, score.out, score.truth) == (3, 4, 4)
    assert score.precision == score.recall == score.f1 == 0.75


def test_replica_pages_f1_and_every_byline_parsed() -> None:
    from infra.replica import BYLINE_KINDS, article_page, content, theme

    site = content.Site(articles=300, seed=11)
    th = theme.Theme(site, "http://127.0.0.1:8765")
    score = bench.TokenScore()
    kinds: Counter[str] = Counter()
    for k in range(site.count):
        art = site.article_at(k)
        page = article_page.article_page(th, k)
        got = clean_html(page, th.url(art.path), theme=TAGDIV, site_names=bench.REPLICA_SITE_NAMES)
        score.add(got.text, "\n".join(art.paragraphs))
        where = f"{art.path} ({art.byline_kind}: {art.byline_paragraphs!r})"
        assert got.paragraphs == art.paragraphs, where
        assert (got.original_source, got.translator) == (art.original_source, art.translator), where
        assert got.authors == (art.author,), where
        assert got.published == art.published.strftime("%Y-%m-%dT%H:%M:%SZ"), where
        assert got.modified == art.modified.strftime("%Y-%m-%dT%H:%M:%SZ"), where
        assert got.title == art.title and got.post_id == art.post_id, where
        assert got.categories == art.categories and got.tags == art.tags, where
        assert got.featured_image == th.url(art.featured_image), where
        assert got.language == "en", where
        kinds[art.byline_kind] += 1
    assert score.f1 >= 0.99
    assert set(kinds) == set(BYLINE_KINDS), kinds
    assert sum(kinds.values()) == site.count >= 250


def test_dev_subset_pass_rate_at_least_trafilatura() -> None:
    dev = dev_set_dir()
    ours, theirs = bench.SnippetScore(), bench.SnippetScore()
    for page in bench.dev_pages(limit=100, directory=dev):
        ours.add(bench.ours(page.html, page.url), page.with_, page.without)
        theirs.add(bench.theirs(page.html, page.url), page.with_, page.without)
    assert ours.pages == 100
    assert ours.passed >= theirs.passed, (ours.passed, theirs.passed)
