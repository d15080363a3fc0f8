"""Site templates learned from the site's own pages: a crawl of a multi-page site made of real
articles (the paragraphs of development-set pages, read in place from ../shared, set in one
site's template with a "Lesen Sie auch" box, a newsletter pitch and an author box inside the
article container) learns the template and removes boilerplate the per-page path keeps."""

from __future__ import annotations

import gzip
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from functools import lru_cache
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import lxml.html
import pytest

from flows.clean.cleaner import EXTRACTOR_VERSION, clean_html
from flows.clean.dom import text_of
from flows.clean.template import SiteTemplate, learn
from tests.helpers import shared_dir

PAGES = 6
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


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The site over HTTP: ``/`` lists the articles, ``/artikel/N/`` is one."""
    articles = real_articles()
    pages = {
        f"/artikel/{n}/": page_html(n, f"Meldung {n}: {paras[0][:40]}", paras)
        for n, (_, paras) in enumerate(articles)
    }
    links = "".join(f'<li><a href="{path}">{path}</a></li>' for path in pages)
    pages["/"] = f"<html><body><ul>{links}</ul></body></html>".encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def crawl(base: str) -> dict[str, bytes]:
    """Fetch the start page and every article it links to."""
    with urllib.request.urlopen(base + "/", timeout=10) as response:
        start = response.read().decode()
    out = {}
    for path in sorted(set(re.findall(r'href="(/artikel/\d+/)"', start))):
        with urllib.request.urlopen(base + path, timeout=10) as response:
            out[base + path] = response.read()
    return out


@pytest.mark.e2e  # the site is served over HTTP
def test_learned_template_removes_boilerplate_the_page_path_kept(site: str) -> None:
    pages = crawl(site)
    assert len(pages) == PAGES == len(real_articles())
    template = learn(pages.values())
    assert {b.casefold() for b in BOILERPLATE} <= template.boilerplate
    assert template.content_selector == "div.story-body"
    kept_before = kept_after = 0
    for url, html in sorted(pages.items()):
        alone = clean_html(html, url)
        learned = clean_html(html, url, template=template)
        kept_before += sum(b in alone.paragraphs for b in BOILERPLATE)
        kept_after += sum(b in learned.paragraphs for b in BOILERPLATE)
        # the article's own paragraphs stay
        assert [p for p in alone.paragraphs if p not in BOILERPLATE] == list(learned.paragraphs)
        assert learned.extractor_version == f"{EXTRACTOR_VERSION}+template-{template.digest()}"
    assert kept_before >= PAGES  # the per-page path keeps boilerplate on every page
    assert kept_after == 0


@pytest.mark.e2e  # the site is served over HTTP
def test_template_is_deterministic_and_round_trips(site: str) -> None:
    pages = list(crawl(site).values())
    a, b = learn(pages), learn(reversed(pages))
    assert a == b and a.digest() == b.digest()
    assert SiteTemplate.from_json(json.loads(json.dumps(a.to_json()))) == a


def test_too_few_pages_teach_nothing() -> None:
    one = page_html(0, "Titel", ("Ein Absatz mit genug Text für einen Artikel. " * 3,) * 5)
    template = learn([one, one])
    assert template == SiteTemplate(pages=2)
    assert not template.is_boilerplate(READ_ALSO)
    assert learn([b"", b"\x00binary", "<html></html>"]).boilerplate == frozenset()
