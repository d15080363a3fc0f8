"""Site templates learned from the site's own pages. A multi-page site made of real articles (the
paragraphs of development-set pages, read in place from ../shared, set in one site's template
with a "Lesen Sie auch" box, a newsletter pitch and an author box inside the article container):
its template removes the boilerplate the per-page path keeps; the statistics are deterministic,
bounded and follow a redesign; and (e2e) archive runs of that site over HTTP learn the template,
keep it in the site state, clean with it, and reprocess to the same bytes."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from functools import lru_cache
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from flows.clean.cleaner import EXTRACTOR_VERSION, clean_html
from flows.clean.dom import text_of
from flows.clean.template import MAX_BLOCKS, WINDOW, SiteTemplate, TemplateStats, learn
from flows.state import SiteState
from infra.local.control import LocalStack
from tests.helpers import cli_env, get, newsvault, objects, run_report, shared_dir

PAGES = 8
READ_ALSO = "Lesen Sie auch: Warum der Stadtrat die Entscheidung über das neue Bad vertagt hat"
NEWSLETTER = (
    "Jeden Morgen die wichtigsten Nachrichten aus der Region direkt in Ihr Postfach: Melden Sie "
    "sich jetzt kostenlos für unseren Newsletter an und verpassen Sie keine Meldung mehr."
)
AUTHOR = (
    "Unsere Redakteurinnen und Redakteure berichten seit 1998 aus der Region und freuen sich über "
    "Ihre Hinweise und Leserbriefe an die Redaktion."
)
BOILERPLATE = (READ_ALSO, NEWSLETTER, AUTHOR)


@lru_cache(maxsize=1)
def real_articles() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(title, paragraphs) of the first German development-set pages whose main container
    holds five or more substantial paragraphs."""
    root = shared_dir() / "extraction-dev"
    index = json.loads((root / "pages.json").read_text(encoding="utf-8"))
    out = []
    for pid in sorted(index):
        if index[pid]["lang"] != "de":
            continue
        raw = gzip.decompress((root / "html" / index[pid]["file"]).read_bytes())
        tree = lxml.html.document_fromstring(raw)
        best: dict[Any, list[str]] = {}
        for p in tree.iter("p"):
            text = text_of(p)
            if len(text) > 80 and p.getparent() is not None:
                best.setdefault(p.getparent(), []).append(text)
        paragraphs = max(best.values(), key=len, default=[])
        if len(paragraphs) >= 5:
            out.append((pid, tuple(paragraphs[:8])))
        if len(out) == PAGES:
            break
    return tuple(out)


def page_html(n: int, title: str, paragraphs: tuple[str, ...]) -> bytes:
    half = len(paragraphs) // 2
    first = "".join(f"<p>{escape(p)}</p>" for p in paragraphs[:half])
    rest = "".join(f"<p>{escape(p)}</p>" for p in paragraphs[half:])
    return f"""<!DOCTYPE html><html lang="de"><head><meta charset="utf-8">
<title>{escape(title)} | Regionalzeitung</title><meta property="og:type" content="article">
</head><body><header><nav><a href="/">Start</a> <a href="/lokales/">Lokales</a></nav></header>
<main><article class="story"><h1>{escape(title)}</h1>
<div class="story-body">{first}<p><strong>{READ_ALSO}</strong></p>
<div class="nl-box"><p>{NEWSLETTER}</p></div>{rest}
<p class="about"><em>{AUTHOR}</em></p></div></article></main>
<footer><p>© Regionalzeitung. Alle Rechte vorbehalten.</p></footer></body></html>""".encode()


def site_pages(first: int = 0, last: int = PAGES) -> dict[str, bytes]:
    """path -> page of articles ``first`` to ``last - 1``."""
    articles = real_articles()
    return {
        f"/artikel/{n}/": page_html(n, f"Meldung {n}: {paras[0][:40]}", paras)
        for n, (_, paras) in list(enumerate(articles))[first:last]
    }


def test_learned_template_removes_boilerplate_the_page_path_kept() -> None:
    pages = site_pages()
    assert len(pages) == PAGES == len(real_articles())
    template = learn(pages.values())
    assert all(template.is_boilerplate(b) for b in BOILERPLATE)
    assert template.content_selector == "div.story-body"
    kept_before = kept_after = 0
    for path, html in sorted(pages.items()):
        url = "http://regional.example" + path
        alone = clean_html(html, url)
        learned = clean_html(html, url, template=template)
        kept_before += sum(b in alone.paragraphs for b in BOILERPLATE)
        kept_after += sum(b in learned.paragraphs for b in BOILERPLATE)
        # the article's own paragraphs stay
        assert [p for p in alone.paragraphs if p not in BOILERPLATE] == list(learned.paragraphs)
        assert learned.extractor_version == f"{EXTRACTOR_VERSION}+template-{template.digest()}"
    assert kept_before >= PAGES  # the per-page path keeps boilerplate on every page
    assert kept_after == 0


def test_statistics_are_deterministic_incremental_and_round_trip() -> None:
    pages = list(site_pages().values())
    a, b = TemplateStats().add(pages), TemplateStats().add(reversed(pages))
    assert a == b and a.to_bytes() == b.to_bytes()
    assert a.template().digest() == learn(pages).digest()
    assert TemplateStats.from_bytes(a.to_bytes()) == a
    # run by run (as a schedule archives them) gives the same template as all pages at once
    runs = TemplateStats().add(pages[:3]).add(pages[3:5]).add(pages[5:])
    assert runs.template() == a.template()
    # people read the texts of what is removed (the report), not only their hashes
    assert set(BOILERPLATE) | {"Start", "Lokales"} <= set(a.examples.values())
    assert set(a.examples) <= a.template().boilerplate


def test_too_few_pages_teach_nothing() -> None:
    one = page_html(0, "Titel", ("Ein Absatz mit genug Text für einen Artikel. " * 3,) * 5)
    template = learn([one, one])
    assert template == SiteTemplate(pages=2)
    assert not template.is_boilerplate(READ_ALSO)
    assert learn([b"", b"\x00binary", "<html></html>"]).boilerplate == frozenset()


def redesigned(html: bytes) -> bytes:
    """The same article after a redesign: a new related-articles box, no newsletter pitch."""
    text = html.decode()
    text = text.replace(NEWSLETTER, "Mehr aus dem Ressort: Verkehr, Schulen und der neue Radweg")
    return text.encode()


def test_a_redesign_replaces_the_old_template_within_the_window() -> None:
    pages = list(site_pages().values())
    stats = TemplateStats()
    for _ in range(WINDOW // len(pages) + 1):  # a site whose window is full of the old design
        stats = stats.add(pages)
    assert stats.pages == WINDOW and stats.template().is_boilerplate(NEWSLETTER)
    new_box = "Mehr aus dem Ressort: Verkehr, Schulen und der neue Radweg"
    runs = 0
    while stats.template().is_boilerplate(NEWSLETTER) or not stats.template().is_boilerplate(
        new_box
    ):
        stats = stats.add(redesigned(p) for p in pages)
        runs += 1
        assert runs * len(pages) <= WINDOW, "the redesign never took over"
    assert 0.5 * WINDOW <= runs * len(pages) <= 0.8 * WINDOW
    assert stats.template().is_boilerplate(READ_ALSO)  # what stayed the same stays boilerplate


def test_statistics_stay_bounded() -> None:
    unique = [
        f"<html><body>{''.join(f'<p>Seite {n} Absatz {i} mit Text</p>' for i in range(60))}"
        "<p>Impressum und Datenschutz</p></body></html>"
        for n in range(120)
    ]
    stats = TemplateStats().add(unique)
    assert len(stats.blocks) == MAX_BLOCKS  # 7,201 blocks seen, the heaviest kept
    assert stats.template().is_boilerplate("Impressum und Datenschutz")
    assert len(stats.to_bytes()) < 100_000


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"not gzip", "not a gzip'd JSON template"),
        (gzip.compress(b'{"schema": "other/1"}'), "schema is not newsvault.template/1"),
        (
            gzip.compress(b'{"schema": "newsvault.template/1", "pages": 3}'),
            "malformed template statistics",
        ),
        (
            gzip.compress(
                b'{"schema": "newsvault.template/1", "pages": "x", "blocks": {}, "containers": {}}'
            ),
            "malformed template statistics",
        ),
    ],
)
def test_broken_statistics_are_named(raw: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        TemplateStats.from_bytes(raw)


def test_poison_pages_teach_nothing_and_never_raise() -> None:
    good = list(site_pages(0, 3).values())
    poison: list[bytes | str] = [
        b"<html><body>" + b"<div>" * 100_000 + b"tief" + b"</div>" * 100_000 + b"</body></html>",
        b"<html><body><p>\x00\x01\x1b kaputt \xff\xfe\xc3</p></body></html>",
        "<html><body><p>" + "x" * 10_000_000 + "</p></body></html>",
        b"\x1f\x8b\x08 not html at all",
    ]
    stats = TemplateStats().add([*good, *poison])
    assert stats.pages == 5  # the pages with paragraph text: the good ones, control, huge
    assert stats.template().is_boilerplate(READ_ALSO)


# ---- e2e: archive runs of the site over HTTP (real SeaweedFS, Prefect server, Scrapy crawl) ----

PROFILE = """name = "regional"
title = "Regionalzeitung"
base_url = "{base}"
[discovery]
robots_txt = true
sitemaps = ["/sitemap.xml"]
feeds = []
listings = []
article_pattern = '^/artikel/\\d+/$'
[politeness]
obey_robots = true
download_delay = 0.0
concurrent_requests = 4
autothrottle = false
user_agent = "newsvault-test (+https://example.invalid/contact)"
[extract]
site_names = ["Regionalzeitung"]
[health]
min_article_pages = 1
"""


class TemplateSite:
    """The site over HTTP: robots.txt names a sitemap of every page in ``pages``."""

    def __init__(self, pages: dict[str, bytes]) -> None:
        self.pages = pages
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                kind, body = site.respond(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def respond(self, path: str) -> tuple[str, bytes]:
        if path == "/robots.txt":
            return "text/plain", f"User-agent: *\nSitemap: {self.base_url}/sitemap.xml\n".encode()
        if path == "/sitemap.xml":
            urls = "".join(f"<url><loc>{self.base_url}{p}</loc></url>" for p in self.pages)
            xml = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return "application/xml", xml.encode()
        return "text/html; charset=utf-8", self.pages.get(path, b"")


@pytest.fixture
def template_site() -> Iterator[TemplateSite]:
    site = TemplateSite(site_pages(0, 6))
    yield site
    site.server.shutdown()
    site.server.server_close()


def run(env: dict[str, str]) -> dict[str, Any]:
    proc = newsvault("run", "regional", env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = proc.stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    summary: dict[str, Any] = json.loads("\n".join(lines[start:]))
    assert summary["health"] == "ok", summary
    return summary


def archived(stack: LocalStack, prefix: str, run_id: str) -> tuple[list[Any], TemplateStats]:
    """A run's article records and template statistics, as archived in S3."""
    keys = [k for k in objects(stack, prefix) if f"/runs/{run_id}/" in k]
    articles = next(k for k in keys if k.endswith("/articles.jsonl.gz"))
    template = next(k for k in keys if k.endswith("/template.json.gz"))
    lines = gzip.decompress(get(stack, articles)).decode().splitlines()
    return [json.loads(line) for line in lines], TemplateStats.from_bytes(get(stack, template))


@pytest.mark.e2e
def test_archive_runs_learn_the_template_keep_it_and_reprocess_identically(
    stack: LocalStack, tmp_path: Path, template_site: TemplateSite
) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "regional.toml").write_text(PROFILE.format(base=template_site.base_url))
    prefix = f"tmpl-{tmp_path.name}"
    env = cli_env(
        stack, tmp_path / "spool", NEWSVAULT_PROFILES=str(profiles), NEWSVAULT_S3_PREFIX=prefix
    )
    # `site check` shows what the site's pages teach before anything is archived.
    check = newsvault("site", "check", "regional", "--pages", "6", env=env, timeout=300)
    assert check.returncode == 0 and "6 of 6 article pages cleaned" in check.stdout, check.stdout
    assert "suggested content_selector = 'div.story-body'" in check.stdout, check.stdout
    # The site's first run learns from its own six pages and cleans them with what they share.
    first = run(env)
    assert first["new_articles"] == 6, first
    records, stats = archived(stack, prefix, first["run_id"])
    template = stats.template()
    assert stats.pages == 6 and template.content_selector == "div.story-body"
    kept_alone = 0
    for record in records:
        page = template_site.pages[record["url"].removeprefix(template_site.base_url)]
        alone = clean_html(page, record["url"], site_names=["Regionalzeitung"])
        kept_alone += sum(b in alone.paragraphs for b in BOILERPLATE)
        assert not any(b in record["text"] for b in BOILERPLATE), record["url"]
        assert "\n".join(p for p in alone.paragraphs if p not in BOILERPLATE) == record["text"]
        assert record["provenance"]["extractor_version"].endswith(f"+template-{template.digest()}")
    assert kept_alone >= 6  # the per-page path keeps the boilerplate on every page
    report = run_report(stack, first["run_id"], site="regional")
    assert "suggested `content_selector = 'div.story-body'`" in report, report
    assert READ_ALSO in report
    # The template is in the site state, and the next run (a scheduled one: no --full) cleans
    # its new pages with it; the unchanged pages are re-checked, not learned twice.
    state_key = next(k for k in objects(stack, prefix) if k.endswith("/state/state.json.gz"))
    saved = SiteState.from_bytes(get(stack, state_key))
    assert saved.template == stats
    template_site.pages.update(site_pages(6, 8))
    second = run(env)
    assert second["new_articles"] == 2 and second["unchanged"] == 6, second
    records, stats = archived(stack, prefix, second["run_id"])
    assert stats.pages == 8 and len(records) == 2
    for record in records:
        assert not any(b in record["text"] for b in BOILERPLATE), record["url"]
        assert record["provenance"]["extractor_version"].endswith(
            f"+template-{stats.template().digest()}"
        )
    # The state rebuilt from the archive alone equals the saved one; reprocessing every run
    # with the template it archived gives the archived bytes.
    rebuilt = newsvault("state", "rebuild", "regional", env=env, timeout=300)
    assert rebuilt.returncode == 0 and "it equals the saved state" in rebuilt.stdout, (
        rebuilt.stdout + rebuilt.stderr[-2000:]
    )
    proc = newsvault("replay", "reprocess", "regional", "--workers", "2", env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    out = json.loads(proc.stdout[proc.stdout.index("{\n") :])
    assert [r["run_id"] for r in out["runs"]] == [first["run_id"], second["run_id"]]
    assert out["identical"], out
