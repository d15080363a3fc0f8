"""What the site listed, read back from archived sitemaps and feeds (flows.derive.listing), and
the deletions by disappearance judged from it: gzipped sitemaps (``.xml.gz``) and gzip-encoded
responses are read as the spider reads them, so the listing can be complete on such sites."""

from __future__ import annotations

import gzip
from io import BytesIO
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from flows.clean import canonical_url
from flows.derive.articles import content_hash, fingerprint
from flows.derive.deletions import detect_deletions
from flows.derive.process import process_warcs
from flows.sites import load_profile
from flows.state import FoldedRecord, SiteState

BASE = "http://127.0.0.1:8765"
SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
KEPT, GONE = f"{BASE}/2017/07/kept/", f"{BASE}/2017/07/gone/"


def write_warc(path: Path, responses: list[tuple[str, int, list[tuple[str, str]], bytes]]) -> Path:
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, status, headers, body in responses:
            http = StatusAndHeaders(f"{status} OK", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                url, "response", payload=BytesIO(body), http_headers=http
            )
            record.rec_headers.replace_header("WARC-Date", "2024-05-02T10:00:00Z")
            writer.write_record(record)
    return path


def sitemap_index(*locs: str) -> bytes:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex {SM}>{items}</sitemapindex>'.encode()


def urlset(*locs: str) -> bytes:
    items = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset {SM}>{items}</urlset>'.encode()


def state_with(*urls: str) -> SiteState:
    records: list[FoldedRecord] = []
    for n, url in enumerate(urls, 1):
        text = f"Article number {n} says something about the day it was written."
        records.append(
            {
                "id": f"replica:wp:{n}",
                "canonical_url": url,
                "version": 1,
                "content_hash": content_hash(text),
                "title": f"Article {n}",
                "simhash": fingerprint(text),
                "aliases": [],
                "provenance": {"fetched_at": "2024-05-01T10:00:00Z"},
            }
        )
    state = SiteState("replica")
    state.apply_run("r0", "k", records, [])
    return state


def listed_run(tmp_path: Path, post_sitemap: tuple[str, list[tuple[str, str]], bytes]) -> Any:
    url, headers, body = post_sitemap
    warc = write_warc(
        tmp_path / "run.warc.gz",
        [
            (
                f"{BASE}/sitemap_index.xml",
                200,
                [("Content-Type", "application/xml")],
                sitemap_index(url),
            ),
            (url, 200, headers, body),
        ],
    )
    return process_warcs([warc], load_profile("replica"), "r1", lambda name: f"k/{name}")


def unlisted(result: Any) -> list[str]:
    state = state_with(KEPT, GONE)
    events = detect_deletions(
        state, result, "r1", lambda u: canonical_url(u, base_host="127.0.0.1"), str
    )
    return [e["url"] for e in events if e["how"] == "unlisted"]


def test_an_xml_gz_sitemap_makes_the_listing_complete(tmp_path: Path) -> None:
    gz = (
        f"{BASE}/post-sitemap.xml.gz",
        [("Content-Type", "application/x-gzip")],
        gzip.compress(urlset(KEPT), mtime=0),
    )
    result = listed_run(tmp_path, gz)
    listing = result.listing
    assert listing.sitemaps_read == {f"{BASE}/sitemap_index.xml", f"{BASE}/post-sitemap.xml.gz"}
    assert listing.complete and listing.urls == {KEPT}
    assert listing.last_read == "2024-05-02T10:00:00Z"
    assert unlisted(result) == [GONE]


def test_a_gzip_encoded_sitemap_is_read_too(tmp_path: Path) -> None:
    encoded = (
        f"{BASE}/post-sitemap.xml",
        [("Content-Type", "application/xml"), ("Content-Encoding", "gzip")],
        gzip.compress(urlset(KEPT), mtime=0),
    )
    assert unlisted(listed_run(tmp_path, encoded)) == [GONE]


def test_an_unreadable_named_sitemap_leaves_the_listing_incomplete(tmp_path: Path) -> None:
    for body in (gzip.compress(urlset(KEPT))[:12], b"not a sitemap"):
        broken = (f"{BASE}/post-sitemap.xml.gz", [("Content-Type", "application/x-gzip")], body)
        result = listed_run(tmp_path, broken)
        assert not result.listing.complete
        assert result.listing.sitemaps_named == {f"{BASE}/post-sitemap.xml.gz"}
        assert unlisted(result) == []  # absence proves nothing


def test_feeds_count_and_name_their_items(tmp_path: Path) -> None:
    rss = f"<rss><channel><link>{BASE}/</link><item><link>{KEPT}</link></item></channel></rss>"
    warc = write_warc(
        tmp_path / "feed.warc.gz",
        [
            (f"{BASE}/feed/", 200, [("Content-Type", "application/rss+xml")], rss.encode()),
            (f"{BASE}/feed/", 404, [("Content-Type", "application/rss+xml")], rss.encode()),
            (f"{BASE}/page.html", 200, [("Content-Type", "text/html")], rss.encode()),
        ],
    )
    result = process_warcs([warc], load_profile("replica"), "r1", str)
    assert (result.listing.feeds_read, result.listing.urls) == (1, {KEPT})
    assert not result.listing.complete  # a feed alone lists only the latest articles
