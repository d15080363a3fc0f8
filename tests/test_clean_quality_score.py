"""A quality score per article: a truncated extraction scores low with its reason, the health
check counts it against coverage (``[health] min_quality``), and the run report lists it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import lxml.html
import pytest

from flows.clean.cleaner import clean_html
from flows.clean.quality import assess, link_texts, main_text_chars
from flows.derive import DerivedCounts
from flows.errors import ConfigError
from flows.orchestrate.health import check_health
from flows.orchestrate.report import RunReport
from flows.sites import Health, load_profile, load_profile_file

FIXTURES = Path(__file__).parent / "fixtures" / "clean"
SENTENCE = "The council approved the budget after a long debate about the new school. "
ARTICLE = "".join(f"<p>Part {n}. {SENTENCE * 3}</p>" for n in range(6))
PAGE = f"<html><body><nav><a href='/r'>The other story of the week in our town</a></nav>\
<article>{ARTICLE}</article></body></html>"


def tree() -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(PAGE)


def test_full_extraction_scores_one() -> None:
    paragraphs = [f"Part {n}. " + " ".join([SENTENCE.strip()] * 3) for n in range(6)]
    got = assess(paragraphs, main_text_chars(tree()), link_texts(tree()))
    assert (got.score, got.reasons) == (1.0, ())


def test_truncated_extraction_scores_low_and_says_why() -> None:
    main = main_text_chars(tree())
    assert main > 1200
    got = assess([SENTENCE.strip(), SENTENCE.strip()], main, link_texts(tree()))
    assert got.score < 0.5
    assert got.reasons[0].startswith("kept 1") and "of the page's main text" in got.reasons[0]


def test_links_and_furniture_lower_the_score() -> None:
    body = " ".join([SENTENCE.strip()] * 3)
    got = assess(
        [body] * 3 + ["The other story of the week in our town", "Read more"] + [body] * 3,
        main_text_chars(tree()),
        link_texts(tree()),
    )
    assert got.score == pytest.approx(0.875 * 0.875, abs=1e-3)
    assert got.reasons == (
        "1 of 8 paragraphs are link texts",
        "1 of 8 paragraphs read as page furniture",
    )
    assert assess([], 100, frozenset()).score == 0.0
    assert assess([body], 0, frozenset()).reasons == ("one paragraph only",)


def test_cleaner_scores_pages() -> None:
    seed = clean_html((FIXTURES / "seed.html").read_bytes(), "https://fort-russ.com/x/")
    assert seed.quality == 1.0 and seed.quality_reasons == ()
    page = clean_html(PAGE.encode(), "https://example.org/a")
    assert page.quality == 1.0

    # the same page when the extractor keeps a fragment: here the JSON-LD body is the article
    def fragment(sentences: int) -> bytes:
        return (
            '<html><head><script type="application/ld+json">{"@type": "NewsArticle", '
            f'"articleBody": "{SENTENCE * 20}"}}</script></head><body><article>'
            f"<p>{SENTENCE * sentences}</p></article></body></html>"
        ).encode()

    weak = clean_html(fragment(4), "https://example.org/b")
    assert weak.quality < 0.5 and "main text" in weak.quality_reasons[0]
    # a one-sentence fragment is weak enough for trafilatura's default mode, which falls back
    # to the JSON-LD body: the generic path keeps that instead (flows.clean.generic)
    rescued = clean_html(fragment(1), "https://example.org/c")
    assert rescued.text.count(SENTENCE.strip()) == 20


def counts(**kw: Any) -> DerivedCounts:
    base = {"article_pages": 40, "extraction_failures": 0, "responses_by_status": {"200": 40}}
    return cast("DerivedCounts", base | kw)


def test_health_counts_low_quality_against_coverage() -> None:
    health = Health(min_extraction_coverage=0.8, min_quality=0.5, stale_runs=0)
    assert check_health("s", health, counts(), low_quality=8) == []
    [problem] = check_health("s", health, counts(), low_quality=9)
    assert "31 of 40 article pages cleaned, 9 under quality 0.5" in problem
    [problem] = check_health("s", health, counts(extraction_failures=5), low_quality=4)
    assert "31 of 40" in problem


def test_report_lists_low_quality_pages() -> None:
    report = RunReport(
        site="s",
        run_id="r",
        base_url="http://x",
        where="s3://b",
        manifest_key="k",
        crawl_stats={},
        counts=counts(),
        objects=1,
        bytes_archived=1,
        failures=[],
        duration_s=1.0,
        low_quality=[("http://x/a/", 0.12, "kept 12% of the page's main text")],
    )
    text = report.markdown()
    assert "| cleaned under min_quality | 1 |" in text
    assert "| 0.12 | http://x/a/ | kept 12% of the page's main text |" in text


@pytest.mark.parametrize("value", ["1.5", "-0.1", '"high"', "true"])
def test_min_quality_is_validated(tmp_path: Path, value: str) -> None:
    profile = tmp_path / "site.toml"
    profile.write_text(
        f'name = "site"\nbase_url = "http://127.0.0.1:1"\n[health]\nmin_quality = {value}\n'
    )
    with pytest.raises(
        ConfigError, match=r"health\.min_quality( = \S+)? must be (a number|between 0 and 1)"
    ):
        load_profile_file(profile)


def test_min_quality_defaults_and_loads(tmp_path: Path) -> None:
    assert load_profile("replica").health.min_quality == 0.5
    profile = tmp_path / "site.toml"
    profile.write_text(
        'name = "site"\nbase_url = "http://127.0.0.1:1"\n[health]\nmin_quality = 0\n'
    )
    assert load_profile_file(profile).health.min_quality == 0
