"""Page requisites found in HTML and CSS, scope and exclusions, and the refresh interval
(spiders/requisites.py), on hand-written pages; the crawl over HTTP is in test_replay_browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from flows.sites import Requisites
from flows.warc import CaptureEntry, CaptureIndex, css_urls, html_urls, srcset_urls
from spiders.requisites import STAT, RequisiteFetcher

BASE = "http://site.test/2020/01/a/"
NOW = datetime(2026, 1, 2, tzinfo=UTC)

PAGE = b"""<!doctype html><html><head>
<link rel="stylesheet" href="/wp-content/themes/t/style.css?ver=1">
<link rel="shortcut icon" href="/favicon.ico"><link rel="preload" as="image"
 imagesrcset="/p-300.jpg 300w, /p-600.jpg 600w"><link rel="canonical" href="/other/">
<link rel="alternate" href="/feed/">
<style>/* url(/commented.png) */ .hero { background: url('/bg.png') } @import "extra.css";</style>
<script src="https://cdn.test/js/app.js"></script>
<script src="https://ads.doubleclick.net/tag.js"></script></head>
<body style="background-image:url(&quot;/body.jpg&quot;)">
<img src="/f-1024.jpg" srcset="/f-300.jpg 300w,/f-768.jpg 768w, /f-1024.jpg 1024w">
<img src="data:image/gif;base64,R0lGOD" data-src="//cdn.test/thumb.jpg" data-srcset="/t2.jpg 2x">
<picture><source srcset="/pic.webp" type="image/webp"><img src="/pic.jpg"></picture>
<video poster="/poster.jpg"><source src="/v.mp4"><track src="/v.vtt"></video>
<iframe src="/embed/"></iframe><input type="image" src="/go.png"><input type="text" src="/no">
<a href="/2020/01/b/">next</a><img src="#frag">
</body></html>"""


def test_html_finds_what_a_browser_loads_and_nothing_else() -> None:
    urls = html_urls(PAGE, BASE)
    site = "http://site.test"
    expected = [
        f"{site}/wp-content/themes/t/style.css?ver=1",
        f"{site}/favicon.ico",
        f"{site}/p-300.jpg",
        f"{site}/p-600.jpg",
        "https://cdn.test/js/app.js",
        "https://ads.doubleclick.net/tag.js",
        f"{site}/f-1024.jpg",
        f"{site}/f-300.jpg",
        f"{site}/f-768.jpg",
        "http://cdn.test/thumb.jpg",
        f"{site}/t2.jpg",
        f"{site}/pic.webp",
        f"{site}/pic.jpg",
        f"{site}/poster.jpg",
        f"{site}/v.mp4",
        f"{site}/v.vtt",
        f"{site}/go.png",
        f"{site}/bg.png",
        f"{site}/2020/01/a/extra.css",
        f"{site}/body.jpg",
    ]
    assert sorted(urls) == sorted(expected)
    assert len(urls) == len(set(urls))


def test_css_imports_and_urls_resolve_against_the_stylesheet() -> None:
    css = b"""@import url("a.css"); @import 'b.css' screen; @import c.css;
    /* @import "gone.css"; url(gone.png) */
    @font-face { src: url(../fonts/lato.woff2) format("woff2"), url( "lato.ttf" ) }
    .x { background: url(data:image/png;base64,AAAA) } .y { background: URL(/img/y.png) }"""
    base = "http://site.test/theme/css/style.css"
    assert css_urls(css, base) == [  # once each: a.css is both an @import and a url()
        "http://site.test/theme/css/a.css",
        "http://site.test/theme/css/b.css",
        "http://site.test/theme/css/c.css",
        "http://site.test/theme/fonts/lato.woff2",
        "http://site.test/theme/css/lato.ttf",
        "http://site.test/img/y.png",
    ]


def test_srcset_candidates() -> None:
    assert srcset_urls(" a.jpg 1x,b.jpg 2x , c.jpg") == ["a.jpg", "b.jpg", "c.jpg"]
    assert srcset_urls("") == []


def _parse(response: Response) -> Iterator[Request]:
    yield from ()


def _failed(failure: Failure) -> None:
    pass


def _fetcher(prior: CaptureIndex | None = None, **policy: object) -> RequisiteFetcher:
    crawler = get_crawler(Spider)
    rules = Requisites(**{"hosts": ("cdn.test",), **policy})  # type: ignore[arg-type]
    return RequisiteFetcher(rules, ["site.test"], prior, crawler, (_parse, _failed), now=NOW)


def test_scope_is_the_site_and_its_requisite_hosts_less_exclusions() -> None:
    fetcher = _fetcher(exclude_extra=("site.test/wp-content/plugins/ads/",))
    assert fetcher.in_scope("http://site.test/a.css")
    assert fetcher.in_scope("https://img.cdn.test/x.jpg")
    assert not fetcher.in_scope("http://elsewhere.test/a.css")
    assert not fetcher.in_scope("http://169.254.169.254/latest/meta-data/x.png")
    assert not fetcher.in_scope("http://site.test/wp-content/plugins/ads/a.js")
    fetcher = _fetcher(hosts=("cdn.test", "securepubads.g.doubleclick.net"))
    assert not fetcher.in_scope("https://securepubads.g.doubleclick.net/tag.js")


def test_each_requisite_once_excluded_ones_counted_never_requested() -> None:
    fetcher = _fetcher()
    page = HtmlResponse(BASE, body=PAGE, headers={"Content-Type": "text/html"})
    urls = [r.url for r in fetcher.requests(page)]
    assert "https://ads.doubleclick.net/tag.js" not in urls
    assert "https://cdn.test/js/app.js" in urls and len(urls) == len(set(urls))
    assert list(fetcher.requests(page)) == []  # the second page sharing them asks for none
    stats = fetcher.crawler.stats
    assert stats is not None and stats.get_value(STAT + "excluded") == 1


def test_an_import_cycle_ends() -> None:
    fetcher = _fetcher()
    a = TextResponse(
        "http://site.test/a.css", body=b'@import "b.css";', headers={"Content-Type": "text/css"}
    )
    b = TextResponse(
        "http://site.test/b.css", body=b'@import "a.css";', headers={"Content-Type": "text/css"}
    )
    fetcher.seen.add("http://site.test/a.css")  # a.css was asked for by its page
    assert [r.url for r in fetcher.requests(a)] == ["http://site.test/b.css"]
    assert list(fetcher.requests(b)) == []


def _captured(url: str, age: timedelta) -> CaptureIndex:
    when = (NOW - age).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = CaptureEntry(url, when, "<urn:uuid:1>", "response", 200, "sha1:X", etag='"e"')
    return CaptureIndex().load([entry])


def test_an_archived_requisite_is_rechecked_only_after_the_refresh_interval() -> None:
    page = HtmlResponse(
        BASE, body=b'<link rel=stylesheet href="/s.css">', headers={"Content-Type": "text/html"}
    )
    recent = _fetcher(_captured("http://site.test/s.css", timedelta(hours=1)))
    assert list(recent.requests(page)) == []
    old = _fetcher(_captured("http://site.test/s.css", timedelta(hours=25)))
    [request] = list(old.requests(page))
    assert request.headers.get("If-None-Match") == b'"e"'
    assert request.meta["download_maxsize"] == Requisites().max_size


def test_error_pages_and_other_types_yield_nothing() -> None:
    fetcher = _fetcher()
    gone = HtmlResponse(BASE, status=404, body=PAGE, headers={"Content-Type": "text/html"})
    image = TextResponse(
        "http://site.test/x.png", body=b"\x89PNG", headers={"Content-Type": "image/png"}
    )
    assert list(fetcher.requests(gone)) == list(fetcher.requests(image)) == []
    assert html_urls(b"", BASE) == []


def test_requisite_requests_can_wait_on_disk() -> None:
    """Scrapy's disk queue stores callbacks by name: they must be the spider's own methods."""
    from spiders.news import NewsSpider

    crawler = get_crawler(NewsSpider)
    spider = NewsSpider.from_crawler(crawler, site="replica", base_url="http://127.0.0.1:8765")
    crawler.spider = spider
    page = HtmlResponse(
        "http://127.0.0.1:8765/",
        body=b'<link rel=stylesheet href="/a.css"><img src="http://127.0.0.2:8765/x.jpg">',
        headers={"Content-Type": "text/html"},
    )
    requests = list(spider.requisites.requests(page))
    assert len(requests) == 2
    for request in requests:
        data = request.to_dict(spider=spider)
        assert (data["callback"], data["errback"]) == ("parse_requisite", "requisite_failed")
