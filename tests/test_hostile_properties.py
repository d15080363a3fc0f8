"""Property tests: mutated real documents through processing; only reported failures come out.

Pages of the extraction dev set (``../shared/extraction-dev/``, read at test time), generated
sitemaps and feeds, mutated (control characters, broken URLs, invalid UTF-8, truncation, 100,000
nested elements, giant lines and attributes) and archived as WARC records: ``clean_warc`` never
raises; every page is either cleaned or listed as a failure, and a listing document either is
read or leaves the listing incomplete.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows.derive.process import clean_warc
from flows.sites import UnreadableListing, load_profile, read_listing
from tests.helpers import documents_warc, shared_dir

BASE = "http://127.0.0.1:8765"
ARTICLE = f"{BASE}/2017/07/some-article/"
SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
PROFILE = load_profile("replica")
PROPS = settings(
    max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


def dev_pages() -> list[Path]:
    pages = sorted((shared_dir() / "extraction-dev" / "html").glob("*.html.gz"))
    if not pages:
        pytest.fail("the extraction dev set is empty; set NEWSVAULT_SHARED")
    return pages[:: max(1, len(pages) // 20)]  # twenty pages across the set


def sitemap(n: int) -> bytes:
    urls = "".join(f"<url><loc>{BASE}/2017/07/a-{i}/</loc></url>" for i in range(n))
    return f'<?xml version="1.0"?><urlset {SM}>{urls}</urlset>'.encode()


def feed(n: int) -> bytes:
    items = "".join(f"<item><link>{BASE}/2017/07/a-{i}/</link></item>" for i in range(n))
    return f"<rss><channel>{items}</channel></rss>".encode()


MUTATIONS = ["control", "broken-url", "bad-utf8", "truncate", "nested", "giant-line", "giant-attr"]


def mutate(body: bytes, how: str, at: float) -> bytes:
    cut = int(len(body) * at)
    if how == "control":
        return body[:cut] + b"\x00\x01\x0b\x1f\x7f" + body[cut:]
    if how == "broken-url":
        link = b"http://[::1/oops/"
        return body[:cut] + b'<a href="' + link + b'">x</a><loc>' + link + b"</loc>" + body[cut:]
    if how == "bad-utf8":
        return body[:cut] + b"\xff\xfe\xc3\x28\xed\xa0\x80" + body[cut:]
    if how == "truncate":
        return body[:cut]
    if how == "nested":
        return body[:cut] + b"<div>" * 100_000 + b"deep text" + b"</div>" * 100_000 + body[cut:]
    if how == "giant-line":
        return body[:cut] + b"<p>" + b"word " * 400_000 + b"</p>" + body[cut:]
    assert how == "giant-attr"
    return body[:cut] + b'<span title="' + b"x" * 2_000_000 + b'">t</span>' + body[cut:]


def archive(tmp: Path, documents: list[tuple[str, str, bytes]]) -> Path:
    """The documents as response records of one WARC file (bodies gzipped, as sites send)."""
    return documents_warc(tmp / "warc", documents, gzipped=True)


@PROPS
@given(
    page=st.integers(0, 19),
    how=st.sampled_from(MUTATIONS),
    at=st.floats(0, 1),
    listing=st.sampled_from(["sitemap", "feed"]),
)
@example(page=0, how="nested", at=0.5, listing="sitemap")
@example(page=1, how="control", at=0.6, listing="feed")
@example(page=2, how="broken-url", at=0.0, listing="sitemap")
def test_mutated_documents_are_cleaned_or_reported(
    tmp_path_factory: pytest.TempPathFactory, page: int, how: str, at: float, listing: str
) -> None:
    pages = dev_pages()
    html = gzip.decompress(pages[page % len(pages)].read_bytes())
    doc = sitemap(30) if listing == "sitemap" else feed(30)
    kind = "application/xml" if listing == "sitemap" else "application/rss+xml"
    bad_doc = mutate(doc, how, at)
    tmp = tmp_path_factory.mktemp("mutated")
    path = archive(
        tmp,
        [
            (ARTICLE, "text/html; charset=UTF-8", mutate(html, how, at)),
            (f"{BASE}/{listing}.xml", kind, bad_doc),
            (f"{BASE}/2017/07/intact/", "text/html; charset=UTF-8", html),
        ],
    )
    result = clean_warc(path, PROFILE, "r", str)  # never raises: that is the property
    cleaned = {r["url"] for r in result.raw}
    failed = {url for url, _reason in result.failures}
    assert result.article_pages == 2
    assert cleaned | failed == {ARTICLE, f"{BASE}/2017/07/intact/"}
    assert f"{BASE}/2017/07/intact/" in cleaned  # the poison never takes its neighbours along
    try:
        read = read_listing(bad_doc, f"{BASE}/{listing}.xml")
    except UnreadableListing:  # the one error reading a listing may raise: a failure
        assert result.listing.urls == set()
    else:
        assert result.listing.urls == {u.url for u in read.urls}
        assert all(json.dumps(u) for u in read.unusable)
