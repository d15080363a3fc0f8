"""The site rules the spider and processing share (flows.sites): the article and domain rules, and
the sitemap and feed reader, with its defences (XXE, billion laughs, gzip bombs), through both
callers: ``read_listing`` itself and the spider's callbacks."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.http import Response
from scrapy.utils.test import get_crawler

from flows.errors import ConfigError
from flows.sites import (
    SITEMAP_MAX_SIZE,
    ListedUrl,
    ListingTooLarge,
    UnreadableListing,
    host_allowed,
    load_profile,
    read_listing,
)
from spiders.news import NewsSpider

BASE = "http://127.0.0.1:8765"
SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def urlset(*locs: str, lastmod: str = "2024-05-01") -> bytes:
    items = "".join(f"<url><loc>{loc}</loc><lastmod>{lastmod}</lastmod></url>" for loc in locs)
    return f'<?xml version="1.0"?><urlset {SM}>{items}</urlset>'.encode()


def index(*locs: str) -> bytes:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex {SM}>{items}</sitemapindex>'.encode()


# ----- the article and domain rules ---------------------------------------------------------------


def test_article_rule_reads_path_and_query_whatever_the_host() -> None:
    profile = load_profile("replica")
    assert profile.is_article_url(f"{BASE}/2017/07/iraq-to-join/")
    assert profile.is_article_url("https://elsewhere.example/2017/07/iraq-to-join/")
    assert not profile.is_article_url(f"{BASE}/2017/07/iraq-to-join/?replytocom=3")
    assert not profile.is_article_url(f"{BASE}/category/world/page/2/")


def test_domain_rule() -> None:
    real = load_profile("fortruss")
    assert real.allows("https://www.fort-russ.com/x/")
    assert real.allows("https://cdn.Fort-Russ.com/x/")  # subdomains, any case
    assert not real.allows("https://notfort-russ.com/x/")
    assert not real.allows("https://fort-russ.com.evil.example/x/")
    assert not real.allows("http://[::1/x")  # malformed: nobody's host
    assert host_allowed("WWW.Example.org", ["example.ORG"])
    assert not host_allowed("", ["example.org"])


def test_site_names_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_profile("fortruss").extract.site_names == ("Fort Russ News", "Fort Russ")
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))
    for bad in ('"Fort Russ"', '["Fort Russ", 3]', '[""]'):
        (tmp_path / "bad.toml").write_text(
            f'base_url = "https://news.example"\n[extract]\nsite_names = {bad}\n'
        )
        with pytest.raises(ConfigError, match=r"extract.site_names must be a list"):
            load_profile("bad")


# ----- read_listing -------------------------------------------------------------------------------


def test_sitemap_index_and_urlset_plain_and_gzipped() -> None:
    doc = read_listing(index("/post-sitemap.xml.gz", f"{BASE}/page-sitemap.xml"), f"{BASE}/i.xml")
    assert doc.kind == "sitemapindex"
    assert [u.url for u in doc.urls] == [f"{BASE}/post-sitemap.xml.gz", f"{BASE}/page-sitemap.xml"]
    body = urlset(f"{BASE}/2017/07/a/", f"{BASE}/2017/07/b/")
    for raw in (body, gzip.compress(body, mtime=0)):
        doc = read_listing(raw, f"{BASE}/post-sitemap.xml.gz")
        assert doc.kind == "urlset"
        assert doc.urls == (
            ListedUrl(f"{BASE}/2017/07/a/", "2024-05-01"),
            ListedUrl(f"{BASE}/2017/07/b/", "2024-05-01"),
        )


def test_a_malformed_or_empty_loc_names_nothing_and_spoils_nothing() -> None:
    body = urlset("http://[::1/bad", "", f"{BASE}/2017/07/a/")
    assert [u.url for u in read_listing(body, BASE).urls] == [f"{BASE}/2017/07/a/"]


def test_feeds_name_their_items_only() -> None:
    rss = (
        b"<rss><channel><link>http://h/</link><item><link> /2017/07/a/ </link></item>"
        b"<item><link></link></item></channel></rss>"
    )
    doc = read_listing(rss, "http://h/feed/")
    assert (doc.kind, doc.urls) == ("rss", (ListedUrl("http://h/2017/07/a/"),))
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><link rel="self" href="http://h/feed/"/>'
        b'<entry><link href="http://h/2017/07/b/"/></entry></feed>'
    )
    doc = read_listing(gzip.compress(atom), "http://h/feed/atom/")
    assert (doc.kind, doc.urls) == ("feed", (ListedUrl("http://h/2017/07/b/"),))
    latin = '<?xml version="1.0" encoding="iso-8859-1"?><rss><item><link>/é/</link></item></rss>'
    assert read_listing(latin.encode("latin-1"), "http://h/").urls == (ListedUrl("http://h/é/"),)


def test_other_xml_names_nothing_and_non_xml_is_unreadable() -> None:
    assert read_listing(b"<html><body><a href='/x'>x</a></body></html>", BASE).urls == ()
    assert read_listing(b"<html><body><a href='/x'>x</a></body></html>", BASE).kind == "html"
    for junk in (b"", b"   ", b"plain text, no markup", b"\x00\x00\x00"):
        with pytest.raises(UnreadableListing):
            read_listing(junk, BASE)


def test_broken_gzip_is_unreadable_and_a_gzip_bomb_stops_at_the_limit() -> None:
    with pytest.raises(UnreadableListing, match="gzip"):
        read_listing(gzip.compress(urlset(f"{BASE}/2017/07/a/"))[:12], BASE)
    bomb = gzip.compress(b"<urlset>" + b" " * (4 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 16 * 1024
    with pytest.raises(ListingTooLarge, match="unzips to more than 1048576 bytes"):
        read_listing(bomb, BASE, max_size=1024 * 1024)
    assert read_listing(bomb, BASE).kind == "urlset"  # under the default limit
    assert SITEMAP_MAX_SIZE == 64 * 1024 * 1024


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOPSECRET")
    return path


@pytest.fixture
def dtd_server() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server that records what is asked of it: an external entity must not be."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            asked.append(self.path)
            body = b'<!ENTITY leak "LEAKED">'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", ["urlset", "rss"])
def test_external_entities_are_neither_read_nor_fetched(
    kind: str, secret_file: Path, dtd_server: tuple[str, list[str]]
) -> None:
    url, asked = dtd_server
    doctype = (
        f'<!DOCTYPE {kind} [<!ENTITY file SYSTEM "file://{secret_file}">'
        f'<!ENTITY net SYSTEM "{url}/net"><!ENTITY % dtd SYSTEM "{url}/dtd"> %dtd;]>'
    )
    inner = "http://h/a/&file;&net;&leak;"
    if kind == "urlset":
        body = f"<urlset {SM}><url><loc>{inner}</loc></url></urlset>"
    else:
        body = f"<rss><channel><item><link>{inner}</link></item></channel></rss>"
    doc = read_listing(f'<?xml version="1.0"?>{doctype}{body}'.encode(), "http://h/")
    assert doc.kind == kind
    for listed in doc.urls:
        assert "TOPSECRET" not in listed.url and "LEAKED" not in listed.url
    assert asked == []


@pytest.mark.parametrize("kind", ["urlset", "rss"])
def test_billion_laughs_are_not_expanded(kind: str) -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )
    if kind == "urlset":
        body = f"<urlset {SM}><url><loc>http://h/&lol9;</loc></url></urlset>"
    else:
        body = "<rss><channel><item><link>http://h/&lol9;</link></item></channel></rss>"
    doc = read_listing(f"<!DOCTYPE {kind} [{entities}]>{body}".encode(), "http://h/")
    assert doc.kind == kind
    assert all(len(listed.url) < 100 for listed in doc.urls)  # 10**9 "lol"s were not made


# ----- the spider's callbacks: the same reader ----------------------------------------------------


@pytest.fixture
def spider() -> NewsSpider:
    crawler = get_crawler(NewsSpider, {"NEWSVAULT_SITEMAP_MAXSIZE": 1024 * 1024})
    made = NewsSpider.from_crawler(crawler, site="replica")
    assert isinstance(made, NewsSpider)
    return made


def requested(results: Iterator[Any]) -> list[str]:
    return [r.url for r in results if isinstance(r, Request)]


def stat(spider: NewsSpider, key: str) -> Any:
    assert spider.crawler.stats is not None
    return spider.crawler.stats.get_value(f"newsvault/{key}")


def test_spider_follows_a_self_referencing_index_once(spider: NewsSpider) -> None:
    top = f"{BASE}/sitemap_index.xml"
    assert requested(spider._sitemap_request(top)) == [top]
    body = index(top, "/post-sitemap.xml.gz", "https://offsite.example/s.xml")
    response = Response(top, body=body)
    assert requested(spider.parse_sitemap(response)) == [f"{BASE}/post-sitemap.xml.gz"]
    assert requested(spider.parse_sitemap(response)) == []  # already asked for: not again
    articles = gzip.compress(urlset(f"{BASE}/2017/07/a/", f"{BASE}/about/"))
    got = requested(spider.parse_sitemap(Response(f"{BASE}/post-sitemap.xml.gz", body=articles)))
    assert got == [f"{BASE}/2017/07/a/"]
    assert stat(spider, "sitemaps") == 3


def test_spider_skips_bombs_and_junk_and_counts_them(spider: NewsSpider) -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (4 * 1024 * 1024), compresslevel=9)
    assert requested(spider.parse_sitemap(Response(f"{BASE}/s.xml.gz", body=bomb))) == []
    assert stat(spider, "sitemaps_too_large") == 1
    for junk in (b"   ", b"not xml", gzip.compress(b"<urlset/>")[:12]):
        assert requested(spider.parse_sitemap(Response(f"{BASE}/s.xml", body=junk))) == []
    assert stat(spider, "sitemaps_invalid") == 3
    assert requested(spider.parse_feed(Response(f"{BASE}/feed/", body=b"not xml"))) == []
    assert stat(spider, "sitemaps") is None


def test_spider_reads_feeds_like_processing(spider: NewsSpider) -> None:
    rss = (
        f"<rss><channel><link>{BASE}/</link><item><link>{BASE}/2017/07/a/</link></item>"
        f"<item><link>{BASE}/2017/07/b/</link></item></channel></rss>"
    ).encode()
    got = requested(spider.parse_feed(Response(f"{BASE}/feed/", body=rss)))
    assert got == [f"{BASE}/2017/07/a/", f"{BASE}/2017/07/b/"]
    assert [u.url for u in read_listing(rss, f"{BASE}/feed/").urls] == got
    # a sitemap where a feed was expected names no articles to the feed reader
    assert requested(spider.parse_feed(Response(f"{BASE}/feed/", body=urlset("/x/")))) == []
