"""The Fort Russ replica: determinism, ground truth, routes and HTTP behaviour over loopback."""

from __future__ import annotations

import gzip
import http.client
import re
import signal
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import urlsplit

import lxml.html
import pytest

from flows.errors import InfraError
from infra.replica import BYLINE_KINDS, SEED_PATH, SEED_POST_ID, ReplicaServer, Site
from infra.replica.routes import Router
from tests.helpers import fetch, replica_process, shared_dir, xpath_elements

EXPECTED_TEXT = shared_dir() / "seed/expected_text.txt"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
STYLE = "@page { margin: 0.79in }\np { margin-bottom: 0.1in; line-height: 120% }"
ATA = (
    "<script>__ATA.cmd.push(function() { __ATA.initDynamicSlot({ id: "
    "'atatags-1476137431-60fc80971b44d', location: 120, formFactor: '001', label: { text: "
    "'Advertisements', }, creative: { reportAd: { text: 'Report this ad', }, privacySettings: "
    "{ text: 'Privacy settings', } } }); });</script>"
)
NEWSLETTER_TEXT = (
    "Sign up here to get the latest news, updates and special offers delivered directly to your "
    "inbox."
)


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles=30, seed=1) as srv:
        yield srv


@pytest.fixture(scope="module")
def site(server: ReplicaServer) -> Site:
    return server.site


def content_text(html_bytes: bytes) -> list[str]:
    doc = lxml.html.fromstring(html_bytes)
    (content,) = xpath_elements(doc, '//div[contains(@class, "td-post-content")]')
    return [s.strip() for s in content.itertext() if isinstance(s, str) and s.strip()]


# ----- determinism -----


def test_same_seed_gives_identical_bytes_and_other_seed_differs() -> None:
    a, b, c = Router(Site(30, seed=1)), Router(Site(30, seed=1)), Router(Site(30, seed=2))
    site = Site(30, seed=1)
    paths = [
        "/",
        "/page/2/",
        SEED_PATH,
        site.path(3),
        site.path(20) + "amp/",
        "/feed/",
        "/sitemap_index.xml",
        "/post-sitemap.xml",
        "/category/middle-east/",
        "/robots.txt",
        "/nope/",
    ]
    for path in paths:
        first = a.resolve(path, "http://127.0.0.1:1")
        assert first.body == b.resolve(path, "http://127.0.0.1:1").body, path
        assert first.status in (200, 404)
    assert a.resolve("/", "http://h").body != c.resolve("/", "http://h").body
    assert Site(30, seed=1).article_at(4) == Site(30, seed=1).article_at(4)
    assert Site(30, seed=1).article_at(4).paragraphs != Site(30, seed=2).article_at(4).paragraphs


@pytest.mark.e2e
def test_etag_is_identical_across_servers(server: ReplicaServer) -> None:
    host = {"Host": "fort-russ.test"}
    with ReplicaServer(articles=30, seed=1) as other:
        mine, theirs = fetch(server.port, SEED_PATH, host), fetch(other.port, SEED_PATH, host)
    assert mine.body == theirs.body
    assert mine.header("ETag") == theirs.header("ETag")


# ----- the seed article -----


def test_seed_ground_truth_matches_expected_text() -> None:
    if not EXPECTED_TEXT.is_file():
        pytest.fail(f"{EXPECTED_TEXT} is missing: the shared seed files must be present")
    expected = [line for line in EXPECTED_TEXT.read_text(encoding="utf-8").split("\n") if line]
    art = Site(30).article(SEED_POST_ID)
    assert list(art.paragraphs) == expected
    assert art.path == "/2017/07/iraq-to-join-forces-with-iran-in/" == SEED_PATH
    assert art.title == (
        "Iraq to Join Forces With Iran in Combating Terrorism and Maintaining Regional Security"
    )
    assert art.published.isoformat().startswith("2017-07-23T")
    assert art.published.tzinfo is not None
    assert art.author == "Fort Russ"
    assert art.original_source == "Al Mayadeen"
    assert art.translator == "Samer Hussein"
    assert art.byline_paragraphs == (
        "July 23rd, 2017 – Fort Russ News –",
        "– Al Mayadeen – – translated by Samer Hussein –",
    )


@pytest.mark.e2e
def test_seed_page_has_the_real_noise(server: ReplicaServer) -> None:
    reply = fetch(server.port, SEED_PATH)
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=UTF-8"
    html = reply.text
    assert html.count(STYLE) == 2
    assert "- Advertisement -" in html
    assert ATA in html
    assert "Subscribe to our newsletter" in html and NEWSLETTER_TEXT in html
    assert "between the two countries.&nbsp;</p>" in html
    assert f'id="post-{SEED_POST_ID}"' in html and f"postid-{SEED_POST_ID}" in html
    text = content_text(reply.body)
    expected = [line for line in EXPECTED_TEXT.read_text(encoding="utf-8").split("\n") if line]
    assert text[:2] == [
        "July 23rd, 2017 – Fort Russ News –",
        "– Al Mayadeen – – translated by Samer Hussein –",
    ]
    assert [s.rstrip("\xa0") for s in text[2:12]] == expected
    # the noise comes after the body, in article.txt's order
    tail = text[12:]
    assert tail[:2] == [STYLE, STYLE]
    assert tail[2] == "- Advertisement -"
    assert tail[-2:] == ["Subscribe to our newsletter", NEWSLETTER_TEXT]


@pytest.mark.e2e
def test_seed_page_head_metadata(server: ReplicaServer) -> None:
    html = fetch(server.port, SEED_PATH).text
    base = server.base_url
    assert '<meta charset="UTF-8" />' in html
    assert (
        "<title>Iraq to Join Forces With Iran in Combating Terrorism and Maintaining Regional "
        "Security - Fort Russ</title>" in html
    )
    assert f'<link rel="canonical" href="{base}{SEED_PATH}" />' in html
    assert f"<link rel='shortlink' href='{base}/?p={SEED_POST_ID}' />" in html
    assert f'<link rel="amphtml" href="{base}{SEED_PATH}amp/">' in html
    assert '<meta property="og:type" content="article" />' in html
    assert '<meta property="article:published_time" content="2017-07-23T14:32:00+00:00" />' in html
    assert '<meta property="article:section" content="Middle East" />' in html
    assert '"@type":"Article"' in html and '"datePublished":"2017-07-23T14:32:00+00:00"' in html


def test_small_site_still_has_the_seed() -> None:
    site = Site(articles=5)
    assert len(site) == 5
    assert site.by_path(SEED_PATH) is not None
    assert SEED_POST_ID in {a.post_id for a in site.iter_articles()}
    router = Router(site)
    assert router.resolve(SEED_PATH, "http://h").status == 200
    one = Site(articles=1)
    assert [a.post_id for a in one.iter_articles()] == [SEED_POST_ID]


# ----- generated articles and their ground truth -----


def test_every_byline_kind_appears_among_200_articles() -> None:
    site = Site(articles=200)
    articles = list(site.iter_articles())
    assert len(articles) == 200
    kinds = {a.byline_kind for a in articles}
    assert kinds == set(BYLINE_KINDS)
    patterns = {
        "source_translated": r"^\w+ \d+(st|nd|rd|th), \d{4} – Fort Russ News –$",
        "translated_for": r"^Translated by .+ for Fort Russ$",
        "fortruss_translation": r"^Fort Russ, \w+ \d+(st|nd|rd|th), \d{4}$",
        "written_by": r"^Written by .+$",
        "by": r"^By: .+$",
    }
    for art in articles:
        if art.byline_kind == "none":
            assert art.byline_paragraphs == ()
            continue
        assert re.match(patterns[art.byline_kind], art.byline_paragraphs[0]), art.byline_paragraphs
        if art.byline_kind in ("written_by", "by"):
            assert art.translator is None and art.author in art.byline_paragraphs[0]
        elif art.translator is not None:
            assert any(art.translator in line for line in art.byline_paragraphs)
        if art.original_source is not None:
            assert any(art.original_source in line for line in art.byline_paragraphs)
    # newest first, dates within 2015-2019, unique paths and ids
    dates = [a.published for a in articles]
    assert dates == sorted(dates, reverse=True)
    assert dates[-1].year >= 2015 and dates[0].year <= 2019
    assert len({a.path for a in articles}) == 200 == len({a.post_id for a in articles})
    assert len({c for a in articles for c in a.categories}) >= 10
    assert all(4 <= len(a.paragraphs) <= 14 for a in articles if a.post_id != SEED_POST_ID)


@pytest.mark.e2e
def test_pages_carry_exactly_the_ground_truth(server: ReplicaServer, site: Site) -> None:
    for art in site.iter_articles():
        reply = fetch(server.port, art.path)
        assert reply.status == 200, art.path
        text = content_text(reply.body)
        start = 0
        for line in art.byline_paragraphs + art.paragraphs:
            found = [i for i in range(start, len(text)) if text[i].rstrip("\xa0") == line]
            assert found, (art.path, line)
            start = found[0] + 1
        assert f">{art.title}</h1>" in reply.text.replace("&amp;", "&")
        assert "- Advertisement -" in text and "Subscribe to our newsletter" in text
        assert "__ATA.cmd.push" in reply.text
        assert site.by_path(art.path) == art == site.article(art.post_id)


@pytest.mark.e2e
def test_theme_structure(server: ReplicaServer, site: Site) -> None:
    art = site.article_at(site.count - 2)
    doc = lxml.html.fromstring(fetch(server.port, art.path).body)
    (body,) = xpath_elements(doc, "//body")
    classes = body.get("class") or ""
    assert "single-post" in classes and f"postid-{art.post_id}" in classes
    for xpath in (
        '//div[@id="td-outer-wrap"][contains(@class, "td-theme-wrap")]',
        '//div[contains(@class, "td-header-wrap")]//ul[@id="menu-main-menu"]/li/a',
        '//div[contains(@class, "td-crumb-container")]',
        '//div[contains(@class, "td-main-content")]//div[contains(@class, "td-ss-main-content")]',
        f'//article[@id="post-{art.post_id}"]//h1[@class="entry-title"]',
        '//div[contains(@class, "td-post-author-name")]/div[@class="td-author-by"]',
        '//span[@class="td-post-date"]/time[@datetime]',
        '//div[contains(@class, "td-post-sharing-top")]',
        '//img[contains(@class, "entry-thumb")]',
        '//div[contains(@class, "td-a-rec-id-content_inline")]/span[@class="td-adspot-title"]',
        '//div[@class="wpcnt"]/div[contains(@class, "wpa")]/span[@class="wpa-about"]',
        '//div[contains(@class, "tdn_block_newsletter_subscribe")]',
        '//div[@class="td-post-source-tags"]/ul[contains(@class, "td-tags")]',
        '//div[contains(@class, "td-post-next-prev")]',
        '//div[contains(@class, "td_block_related_posts")]//h3[contains(@class, "entry-title")]/a',
        '//div[@id="comments"]//div[@id="respond"]',
        '//div[contains(@class, "td-main-sidebar")]/div[@class="td-ss-main-sidebar"]',
        '//div[contains(@class, "td-footer-wrapper")]',
        '//div[contains(@class, "td-sub-footer-container")]',
    ):
        assert doc.xpath(xpath), xpath
    teasers = xpath_elements(
        doc, '//div[contains(@class, "td-main-sidebar")]//div[contains(@class, "td_module_wrap")]'
    )
    assert 20 <= len(teasers) <= 40
    (time_el,) = xpath_elements(doc, '//header[@class="td-post-title"]//time')
    assert time_el.get("datetime") == art.published.isoformat()


# ----- discovery: robots, sitemaps, feed, listings -----


@pytest.mark.e2e
def test_robots_lists_the_sitemap(server: ReplicaServer) -> None:
    reply = fetch(server.port, "/robots.txt")
    assert reply.status == 200 and reply.header("Content-Type") == "text/plain; charset=utf-8"
    assert "User-agent: *" in reply.text and "Disallow: /wp-admin/" in reply.text
    assert f"Sitemap: {server.base_url}/sitemap_index.xml" in reply.text.splitlines()


def _sitemap_urls(port: int, base: str) -> list[tuple[str, str]]:
    index = ET.fromstring(fetch(port, "/sitemap_index.xml").body)
    urls: list[tuple[str, str]] = []
    locs = [s.findtext(f"{SM}loc") or "" for s in index.iter(f"{SM}sitemap")]
    assert all(s.findtext(f"{SM}lastmod") for s in index.iter(f"{SM}sitemap"))
    assert f"{base}/post-sitemap.xml" in locs
    for loc in locs:
        if "post-sitemap" not in loc:
            continue
        reply = fetch(port, urlsplit(loc).path)
        assert reply.status == 200 and reply.header("Content-Type") == "text/xml; charset=UTF-8"
        for url in ET.fromstring(reply.body).iter(f"{SM}url"):
            urls.append((url.findtext(f"{SM}loc") or "", url.findtext(f"{SM}lastmod") or ""))
    return urls


@pytest.mark.e2e
def test_sitemaps_list_every_article_once_with_lastmod(server: ReplicaServer, site: Site) -> None:
    urls = _sitemap_urls(server.port, server.base_url)
    locs = [loc for loc, _ in urls]
    assert len(locs) == len(set(locs)) == site.count
    assert set(locs) == {server.base_url + a.path for a in site.iter_articles()}
    by_path = {a.path: a for a in site.iter_articles()}
    for loc, lastmod in urls:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$", lastmod)
        assert lastmod == by_path[urlsplit(loc).path].modified.isoformat()
    for extra in ("/page-sitemap.xml", "/category-sitemap.xml"):
        assert fetch(server.port, extra).status == 200


def test_post_sitemaps_split_at_1000_urls() -> None:
    router, site = Router(Site(2500)), Site(2500)
    index = ET.fromstring(router.resolve("/sitemap_index.xml", "http://h").body)
    names = [s.findtext(f"{SM}loc") for s in index.iter(f"{SM}sitemap")]
    assert names[:3] == [
        "http://h/post-sitemap.xml",
        "http://h/post-sitemap2.xml",
        "http://h/post-sitemap3.xml",
    ]
    seen: list[str] = []
    for name in ("/post-sitemap.xml", "/post-sitemap2.xml", "/post-sitemap3.xml"):
        doc = ET.fromstring(router.resolve(name, "http://h").body)
        seen += [u.findtext(f"{SM}loc") or "" for u in doc.iter(f"{SM}url")]
    assert len(seen) == len(set(seen)) == 2500
    assert {urlsplit(u).path for u in seen} == {site.path(k) for k in range(2500)}
    assert router.resolve("/post-sitemap4.xml", "http://h").status == 404


@pytest.mark.e2e
def test_feed_has_the_latest_ten_items(server: ReplicaServer, site: Site) -> None:
    reply = fetch(server.port, "/feed/")
    assert reply.status == 200
    assert reply.header("Content-Type") == "application/rss+xml; charset=UTF-8"
    channel = ET.fromstring(reply.body).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert len(items) == 10
    newest = list(site.iter_articles())[:10]
    for item, art in zip(items, newest, strict=True):
        assert item.findtext("title") == art.title
        assert item.findtext("link") == server.base_url + art.path
        guid = item.find("guid")
        assert guid is not None and guid.get("isPermaLink") == "false"
        assert guid.text == f"{server.base_url}/?p={art.post_id}"
        assert parsedate_to_datetime(item.findtext("pubDate") or "") == art.published
        dc = "{http://purl.org/dc/elements/1.1/}creator"
        assert item.findtext(dc) == art.author
        assert item.findtext("category") == art.categories[0]
        encoded = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded") or ""
        assert art.paragraphs[-1].split("“")[0][:40] in encoded.replace("&amp;", "&")


@pytest.mark.e2e
def test_home_pagination(server: ReplicaServer, site: Site) -> None:
    first = fetch(server.port, "/")
    assert first.status == 200
    assert f'<link rel="next" href="{server.base_url}/page/2/" />' in first.text
    second = fetch(server.port, "/page/2/")
    assert second.status == 200
    assert f'<link rel="prev" href="{server.base_url}/" />' in second.text
    doc = lxml.html.fromstring(second.body)
    titles = doc.xpath(
        '//div[contains(@class, "td-ss-main-content")]//div[contains(@class, "td_module_10")]'
        '//h3[contains(@class, "entry-title")]/a/text()'
    )
    assert titles == [a.title for a in list(site.iter_articles())[10:20]]
    assert doc.xpath('//div[contains(@class, "page-nav")]//a[contains(@href, "/page/3/")]')
    last = -(-site.count // 10)
    assert fetch(server.port, f"/page/{last}/").status == 200
    assert fetch(server.port, f"/page/{last + 1}/").status == 404
    redirect = fetch(server.port, "/page/1/")
    assert redirect.status == 301 and redirect.header("Location") == f"{server.base_url}/"


@pytest.mark.e2e
def test_category_and_tag_listings(server: ReplicaServer, site: Site) -> None:
    for name in site.categories:
        count = site.category_count(name)
        slug = name.lower().replace(" ", "-")
        reply = fetch(server.port, f"/category/{slug}/")
        assert reply.status == (200 if count else 404), name
        if count:
            newest = site.article_at(site.category_ranks(name)[0])
            assert newest.title.replace("&", "&amp;") in reply.text
            assert "category-" + slug in reply.text
            pages = -(-count // 10)
            assert fetch(server.port, f"/category/{slug}/page/{pages + 1}/").status == 404
    assert fetch(server.port, "/category/no-such-thing/").status == 404
    tag = site.seed_article.tags[0]
    reply = fetch(server.port, f"/tag/{tag.lower()}/")
    assert reply.status == 200 and site.seed_article.title in reply.text
    many = (
        next(t for t in site.tags if site.tag_count(t) > 10)
        if any(site.tag_count(t) > 10 for t in site.tags)
        else None
    )
    if many is not None:
        assert fetch(server.port, f"/tag/{many.lower().replace(' ', '-')}/page/2/").status == 200


@pytest.mark.e2e
def test_shortlink_redirects(server: ReplicaServer, site: Site) -> None:
    reply = fetch(server.port, f"/?p={SEED_POST_ID}")
    assert reply.status == 301
    assert reply.header("Location") == server.base_url + SEED_PATH
    other = site.article_at(3)
    tracked = fetch(server.port, f"/?p={other.post_id}&utm_source=x&utm_medium=y")
    assert tracked.header("Location") == server.base_url + other.path
    assert fetch(server.port, "/?p=1").status == 404
    plain = fetch(server.port, SEED_PATH)
    with_utm = fetch(server.port, SEED_PATH + "?utm_source=twitter&utm_campaign=z")
    assert with_utm.status == 200 and with_utm.body == plain.body
    slashless = fetch(server.port, SEED_PATH.rstrip("/"))
    assert slashless.status == 301 and slashless.header("Location") == server.base_url + SEED_PATH


@pytest.mark.e2e
def test_amp_variant(server: ReplicaServer) -> None:
    reply = fetch(server.port, SEED_PATH + "amp/")
    assert reply.status == 200
    assert "<html amp" in reply.text
    assert f'<link rel="canonical" href="{server.base_url}{SEED_PATH}" />' in reply.text
    assert "Brigadier General Hossein Dehqan" in reply.text


@pytest.mark.e2e
def test_unknown_paths_are_themed_404(server: ReplicaServer) -> None:
    for path in ("/no/such/page/", "/2017/07/no-such-article/", "/wp-json/", "/post-sitemap9.xml"):
        reply = fetch(server.port, path)
        assert reply.status == 404, path
        assert 'id="td-outer-wrap"' in reply.text and "error404" in reply.text


@pytest.mark.e2e
def test_static_pages_and_host_derived_urls(server: ReplicaServer) -> None:
    assert fetch(server.port, "/about-us/").status == 200
    reply = fetch(server.port, SEED_PATH, {"Host": "fort-russ.test:8080"})
    assert f'<link rel="canonical" href="http://fort-russ.test:8080{SEED_PATH}" />' in reply.text
    robots = fetch(server.port, "/robots.txt", {"Host": "fort-russ.test:8080"})
    assert "Sitemap: http://fort-russ.test:8080/sitemap_index.xml" in robots.text


# ----- HTTP behaviour -----


@pytest.mark.e2e
def test_gzip_is_negotiated(server: ReplicaServer) -> None:
    plain = fetch(server.port, SEED_PATH)
    assert plain.header("Content-Encoding") is None
    assert plain.header("Vary") == "Accept-Encoding"
    assert int(plain.header("Content-Length") or -1) == len(plain.body)
    zipped = fetch(server.port, SEED_PATH, {"Accept-Encoding": "gzip, deflate"})
    assert zipped.header("Content-Encoding") == "gzip"
    assert int(zipped.header("Content-Length") or -1) == len(zipped.body)
    assert gzip.decompress(zipped.body) == plain.body
    assert fetch(server.port, SEED_PATH, {"Accept-Encoding": "gzip, deflate"}).body == zipped.body
    refused = fetch(server.port, SEED_PATH, {"Accept-Encoding": "gzip;q=0, identity"})
    assert refused.header("Content-Encoding") is None


@pytest.mark.e2e
def test_etag_and_conditional_requests(server: ReplicaServer) -> None:
    first, second = fetch(server.port, SEED_PATH), fetch(server.port, SEED_PATH)
    etag = first.header("ETag")
    assert etag is not None and etag == second.header("ETag")
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.header("Last-Modified") == "Sun, 23 Jul 2017 16:05:00 GMT"
    assert first.header("Date") and first.header("Server")
    cached = fetch(server.port, SEED_PATH, {"If-None-Match": etag})
    assert cached.status == 304 and cached.body == b"" and cached.header("ETag") == etag
    stale = fetch(server.port, SEED_PATH, {"If-None-Match": '"something-else"'})
    assert stale.status == 200 and stale.body == first.body
    since = fetch(
        server.port, SEED_PATH, {"If-Modified-Since": first.header("Last-Modified") or ""}
    )
    assert since.status == 304 and since.body == b""
    older = formatdate(1_400_000_000, usegmt=True)
    assert fetch(server.port, SEED_PATH, {"If-Modified-Since": older}).status == 200
    zipped = fetch(server.port, SEED_PATH, {"Accept-Encoding": "gzip"})
    assert zipped.header("ETag") != etag
    assert (
        fetch(server.port, SEED_PATH, {"If-None-Match": zipped.header("ETag") or ""}).status == 304
    )


@pytest.mark.e2e
def test_multi_valued_headers(server: ReplicaServer) -> None:
    reply = fetch(server.port, SEED_PATH)
    links = reply.all("Link")
    assert len(links) == 2
    assert f'<{server.base_url}/wp-json/>; rel="https://api.w.org/"' in links
    assert f"<{server.base_url}/?p={SEED_POST_ID}>; rel=shortlink" in links
    assert len(reply.all("Set-Cookie")) == 2


@pytest.mark.e2e
def test_head_requests(server: ReplicaServer) -> None:
    get = fetch(server.port, SEED_PATH)
    head = fetch(server.port, SEED_PATH, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.header("Content-Length") == get.header("Content-Length")
    assert head.header("ETag") == get.header("ETag")
    assert fetch(server.port, "/nope/", method="HEAD").status == 404


@pytest.mark.e2e
def test_keep_alive_serves_several_requests_on_one_connection(server: ReplicaServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        for path in ("/robots.txt", SEED_PATH, "/nope/", "/feed/"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.status in (200, 404)
            assert resp.version == 11
    finally:
        conn.close()


@pytest.mark.e2e
def test_every_response_declares_a_charset(server: ReplicaServer) -> None:
    for path in (
        "/",
        "/robots.txt",
        "/feed/",
        "/sitemap_index.xml",
        "/nope/",
        f"/?p={SEED_POST_ID}",
    ):
        content_type = fetch(server.port, path).header("Content-Type") or ""
        assert "charset=" in content_type.lower(), path


# ----- server lifecycle -----


def test_refuses_non_loopback_hosts() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "::"):
        with pytest.raises(ValueError):
            ReplicaServer(articles=5, host=host)


def test_taken_port_is_an_infra_error() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(InfraError) as info:
            ReplicaServer(articles=5, port=port).start()
    message = str(info.value)
    assert message == f"port {port} on 127.0.0.1 is taken; stop what uses it or pass --port"
    assert "\n" not in message


@pytest.mark.e2e
def test_start_stop_and_base_url() -> None:
    srv = ReplicaServer(articles=5).start()
    port = srv.port
    try:
        assert srv.base_url == f"http://127.0.0.1:{port}"
        assert fetch(port, "/robots.txt").status == 200
    finally:
        srv.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


@pytest.mark.e2e
def test_module_entry_point_serves_until_sigterm() -> None:
    with replica_process("--articles", "12") as (port, line, proc):
        assert line == (
            f"replica: serving 12 articles at http://127.0.0.1:{port}/ "
            f"(images also at http://127.0.0.2:{port}/)"
        )
        assert fetch(port, SEED_PATH).status == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


# ----- scale -----


def test_hundred_thousand_articles_are_lazy() -> None:
    site = Site(articles=100_000, seed=7)
    last = site.article_at(99_999)
    assert last.post_id == site.meta(99_999).post_id
    assert site.article(last.post_id) == last
    assert site.by_path(last.path) == last
    assert site.by_path(SEED_PATH) is not None
    router = Router(site)
    index = ET.fromstring(router.resolve("/sitemap_index.xml", "http://h").body)
    posts = [
        s for s in index.iter(f"{SM}sitemap") if "post-sitemap" in (s.findtext(f"{SM}loc") or "")
    ]
    assert len(posts) == 100
    assert all(s.findtext(f"{SM}lastmod") for s in posts)
    assert router.resolve(last.path, "http://h").status == 200
