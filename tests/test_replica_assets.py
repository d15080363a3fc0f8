"""The replica's page requisites over HTTP: every asset its pages reference is served, decodable
and validated like a page; images also come from the image CDN's host; a day updates the theme.

The requisites are found here from the pages' HTML and CSS with lxml and two regular expressions,
independently of any spider code.
"""

from __future__ import annotations

import gzip
import io
import re
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import lxml.html
import pytest
from PIL import Image

from flows.errors import InfraError
from infra.replica import SEED_PATH, THEME_UPDATE_DAY, Cdn, ReplicaServer, Site, asset_files, images
from infra.replica.__main__ import main as replica_main
from infra.replica.assets import EXTERNAL_HOSTS, THEME_VERSION, UPDATED_STYLE_VERSION
from infra.replica.handler import ReplicaHTTPServer
from infra.replica.routes import Router
from tests.helpers import AssetReply as Reply
from tests.helpers import _elements, _strings, requisites
from tests.helpers import fetch_url as fetch

STYLE = "/wp-content/themes/Newspaper/style.css"
FONT_SIGNATURES = (b"\x00\x01\x00\x00", b"OTTO", b"true", b"wOFF", b"wOF2")
TYPES = {
    "css": "text/css",
    "js": "application/javascript; charset=utf-8",
    "ttf": "font/ttf",
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "ico": "image/x-icon",
}
SIZED = re.compile(r"-(\d+)x(\d+)\.jpg$")

pytestmark = pytest.mark.e2e  # the replica over HTTP (a server on 127.0.0.1 and .2)


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles=30, seed=1) as srv:
        yield srv


def assert_decodable(url: str, reply: Reply) -> None:
    path = urlsplit(url).path
    ext = path.rsplit(".", 1)[-1]
    assert reply.status == 200, url
    assert reply.header("Content-Type") == TYPES[ext], url
    assert reply.header("ETag") and reply.header("Last-Modified"), url
    if ext in ("jpg", "png", "gif", "ico"):
        with Image.open(io.BytesIO(reply.body)) as img:
            img.load()
            assert img.format == {"jpg": "JPEG", "ico": "ICO"}.get(ext, ext.upper()), url
            if m := SIZED.search(path):
                assert img.size == (int(m.group(1)), int(m.group(2))), url
    elif ext == "ttf":
        assert reply.body[:4] in FONT_SIGNATURES, url
    else:
        assert reply.body.decode("utf-8").strip(), url


def test_every_requisite_of_an_article_is_served(server: ReplicaServer) -> None:
    found = requisites(server, SEED_PATH)
    for url, reply in found.served.items():
        assert_decodable(url, reply)
    paths = {urlsplit(u).path for u in found.served}
    theme = "/wp-content/themes/Newspaper"
    assert {
        f"{theme}/style.css",
        f"{theme}/css/fonts.css",  # @import-ed by style.css
        f"{theme}/fonts/Lato-Regular.ttf",  # url() in the imported sheet
        f"{theme}/fonts/Lato-Bold.ttf",
        f"{theme}/images/patterns/page-bg.png",  # background url() in style.css
        f"{theme}/js/tagdiv_theme.min.js",
        "/wp-includes/js/jquery/jquery.js",
        "/wp-content/uploads/2017/06/fortruss-logo.png",
        "/wp-content/uploads/2017/06/cropped-fr-icon-32x32.png",
        "/wp-content/uploads/2017/06/header-bg.jpg",  # url() in the page's <style>
        "/wp-content/uploads/2017/06/footer-bg.jpg",  # url() in a style attribute
        "/wp-content/plugins/a3-lazy-load/assets/images/lazy_placeholder.gif",
        "/wp-content/uploads/2017/07/iran-iraq-defense-ministers.jpg",  # featured src
        "/wp-content/uploads/2017/07/iran-iraq-defense-ministers-300x169.jpg",  # its srcset
    } <= paths
    cdn = [u for u in found.served if u.startswith(f"{server.cdn_url}/")]
    assert len(cdn) >= 20  # teaser thumbnails: eager with srcset, lazy through data-src
    assert all(urlsplit(u).path.startswith("/127.0.0.1:") for u in cdn)
    assert {u for u in cdn if u.endswith("-100x70.jpg")}  # the lazy ones
    assert found.external == EXTERNAL_HOSTS | {"secure.gravatar.com"}


def test_lazy_thumbnails_have_a_placeholder_and_the_image_in_data_src(
    server: ReplicaServer,
) -> None:
    doc = lxml.html.fromstring(fetch(server.base_url + SEED_PATH).body)
    lazy = _elements(doc, '//div[contains(@class, "td-main-sidebar")]//img[@data-src]')
    assert len(lazy) >= 20
    for img in lazy:
        assert (img.get("src") or "").endswith("/lazy_placeholder.gif")
        assert (img.get("data-src") or "").startswith(f"{server.cdn_url}/127.0.0.1:")
    (featured,) = _elements(doc, '//div[@class="td-post-featured-image"]//img')
    assert featured.get("src") == server.base_url + Site(30).seed_article.featured_image


def test_a_listing_and_the_404_page_have_their_requisites_served(server: ReplicaServer) -> None:
    for path in ("/", "/category/middle-east/"):
        found = requisites(server, path)
        for url, reply in found.served.items():
            assert_decodable(url, reply)
        assert any(u.endswith("-436x300.jpg") for u in found.served)  # srcset 2x of listings
    missing = fetch(server.base_url + "/no/such/page/")
    assert missing.status == 404 and STYLE in missing.body.decode()


def test_images_are_deterministic_and_differ_per_article() -> None:
    site = Site(30, seed=1)
    one, two = Router(site), Router(Site(30, seed=1))
    paths = [site.article_at(k).featured_image for k in (3, 4, 5)]
    bodies = [one.resolve(p, "http://h").body for p in paths]
    assert bodies == [two.resolve(p, "http://h").body for p in paths]
    assert len(set(bodies)) == 3
    small = one.resolve(paths[0].replace(".jpg", "-100x70.jpg"), "http://h")
    with Image.open(io.BytesIO(small.body)) as img:
        assert img.size == (100, 70)
    assert one.resolve(paths[0], "http://h").last_modified == site.article_at(3).published


def test_unknown_uploads_sizes_and_assets_are_not_found(server: ReplicaServer) -> None:
    image = Site(30).article_at(3).featured_image
    for path in (
        image.replace(".jpg", "-123x45.jpg"),  # a size WordPress did not make
        image.replace(".jpg", "-nope.jpg"),
        "/wp-content/uploads/2016/01/no-such-image.jpg",
        "/wp-content/uploads/1999/01/no-such-image.jpg",
        "/wp-content/themes/Newspaper/missing.css",
        "/wp-includes/js/nothing.js",
    ):
        reply = fetch(server.base_url + path)
        assert reply.status == 404, path
        assert 'id="td-outer-wrap"' in reply.body.decode()  # WordPress's themed 404


def test_the_cdn_serves_uploads_only(server: ReplicaServer) -> None:
    assert server.cdn_url is not None
    image = Site(30).article_at(3).featured_image
    on_site = fetch(server.base_url + image.replace(".jpg", "-218x150.jpg"))
    for host in ("127.0.0.1:1234", "fort-russ.test"):
        via_cdn = fetch(f"{server.cdn_url}/{host}{image.replace('.jpg', '-218x150.jpg')}")
        assert via_cdn.status == 200 and via_cdn.body == on_site.body
        assert via_cdn.header("Access-Control-Allow-Origin") == "*"
    logo = fetch(f"{server.cdn_url}/h/wp-content/uploads/2017/06/fortruss-logo.png")
    assert logo.status == 200 and logo.header("Content-Type") == "image/png"
    for path in ("/", "/robots.txt", SEED_PATH, f"/h{STYLE}", "/h/wp-content/uploads/2016/x.jpg"):
        reply = fetch(server.cdn_url + path)
        assert reply.status == 404 and reply.body == b"Not Found\n", path
    assert fetch(f"{server.base_url}/127.0.0.1:1{image}").status == 404


def test_conditional_gets_and_gzip(server: ReplicaServer) -> None:
    image = Site(30).article_at(3).featured_image
    for url in (
        server.base_url + STYLE + "?ver=9.2.2",
        server.base_url + "/wp-content/themes/Newspaper/fonts/Lato-Regular.ttf",
        server.base_url + image,
        f"{server.cdn_url}/127.0.0.1:9{image.replace('.jpg', '-100x70.jpg')}",
    ):
        first = fetch(url)
        etag, modified = first.header("ETag") or "", first.header("Last-Modified") or ""
        for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified}):
            cached = fetch(url, headers)
            assert cached.status == 304 and cached.body == b"", (url, headers)
        assert fetch(url, {"If-None-Match": '"other"'}).body == first.body
    css = fetch(server.base_url + STYLE, {"Accept-Encoding": "gzip"})
    assert css.header("Content-Encoding") == "gzip" and css.header("Vary") == "Accept-Encoding"
    assert gzip.decompress(css.body) == fetch(server.base_url + STYLE).body
    js = fetch(server.base_url + "/wp-includes/js/jquery/jquery.js", {"Accept-Encoding": "gzip"})
    assert js.header("Content-Encoding") == "gzip"
    jpeg = fetch(server.base_url + image, {"Accept-Encoding": "gzip"})
    assert jpeg.header("Content-Encoding") is None and jpeg.header("Vary") is None
    assert jpeg.body[:2] == b"\xff\xd8"


def _style_href(html: bytes) -> str:
    (href,) = _strings(lxml.html.fromstring(html), '//link[@id="td-theme-css"]/@href')
    return href


def test_the_theme_update_day_changes_the_stylesheet() -> None:
    before = Router(Site(30, 1, THEME_UPDATE_DAY - 1))
    after = Router(Site(30, 1, THEME_UPDATE_DAY))
    old, new = before.resolve(STYLE, "http://h"), after.resolve(STYLE, "http://h")
    assert old.body != new.body and old.last_modified and new.last_modified
    assert new.last_modified > old.last_modified
    assert f"Version: {UPDATED_STYLE_VERSION}" in new.body.decode()
    assert before.resolve("/", "http://h").body != after.resolve("/", "http://h").body
    assert _style_href(before.resolve("/", "http://h").body).endswith(f"?ver={THEME_VERSION}")
    assert _style_href(after.resolve("/", "http://h").body).endswith(
        f"?ver={UPDATED_STYLE_VERSION}"
    )
    # a cached article page keeps its old link, which now serves the new stylesheet
    assert after.site.render_day(after.site.seed_rank) == 0
    seed = after.resolve(SEED_PATH, "http://h").body
    assert seed == before.resolve(SEED_PATH, "http://h").body
    assert _style_href(seed).endswith(f"?ver={THEME_VERSION}")
    assert after.resolve(urlsplit(_style_href(seed)).path, "http://h").body == new.body
    fonts = "/wp-content/themes/Newspaper/css/fonts.css"
    assert before.resolve(fonts, "http://h") == after.resolve(fonts, "http://h")


def test_the_theme_update_over_http() -> None:
    with ReplicaServer(articles=30, seed=1, day=THEME_UPDATE_DAY - 1) as srv:
        url = srv.base_url + STYLE + f"?ver={THEME_VERSION}"
        first = fetch(url)
        etag = first.header("ETag") or ""
        assert fetch(url, {"If-None-Match": etag}).status == 304
        srv.set_day(THEME_UPDATE_DAY)
        changed = fetch(url, {"If-None-Match": etag})
        assert changed.status == 200 and changed.body != first.body
        assert changed.header("ETag") != etag
        since = {"If-Modified-Since": first.header("Last-Modified") or ""}
        assert fetch(url, since).status == 200
        assert f"?ver={UPDATED_STYLE_VERSION}" in fetch(srv.base_url + "/").body.decode()


def test_without_a_cdn_images_come_from_the_site() -> None:
    with ReplicaServer(articles=12, seed=1, cdn=None) as srv:
        assert srv.cdn_url is None
        html = fetch(srv.base_url + SEED_PATH).body.decode()
        assert "127.0.0.2" not in html
        doc = lxml.html.fromstring(html)
        thumbs = _strings(doc, "//img[@data-src]/@data-src")
        assert thumbs and all(str(t).startswith(srv.base_url + "/wp-content/") for t in thumbs)


def test_cdn_on_its_own_port_and_bad_cdn_addresses() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        port = probe.getsockname()[1]
    with ReplicaServer(articles=12, cdn=Cdn("127.0.0.2", port)) as srv:
        assert srv.cdn_url == f"http://127.0.0.2:{port}"
        assert (
            f"http://127.0.0.2:{port}/127.0.0.1:{srv.port}/"
            in fetch(srv.base_url + SEED_PATH).body.decode()
        )
    for host in ("127.0.0.1", "10.0.0.2", "fort-russ.test", "::1"):
        with pytest.raises(ValueError):
            ReplicaServer(articles=5, cdn=Cdn(host))
    assert replica_main(["--port", "0", "--cdn-host", "10.1.2.3"]) == 2


def test_a_taken_cdn_port_is_an_infra_error() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.2", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        with pytest.raises(InfraError) as info:
            ReplicaServer(articles=5, cdn=Cdn("127.0.0.2", port)).start()
        assert str(info.value) == (
            f"port {port} on 127.0.0.2 is taken; stop what uses it or pass --cdn-port"
        )
        with pytest.raises(InfraError):  # the same port as the site's, asked for explicitly
            ReplicaServer(articles=5, port=port).start()


class _CdnTakenOnce(ReplicaServer):
    """A replica whose first CDN socket finds its port taken (as another process could)."""

    failures = 1

    def _listen(self, host: str, port: int, flag: str, cdn: bool) -> ReplicaHTTPServer:
        if cdn and self.failures:
            self.failures -= 1
            raise InfraError(f"port {port} on {host} is taken")
        return super()._listen(host, port, flag, cdn)


def test_a_free_port_is_chosen_again_when_the_cdn_finds_it_taken() -> None:
    with _CdnTakenOnce(articles=5) as srv:
        assert isinstance(srv, _CdnTakenOnce) and srv.failures == 0
        assert fetch(srv.base_url + "/robots.txt").status == 200
        assert srv.cdn_url == f"http://127.0.0.2:{srv.port}"


def test_asset_makers_refuse_unknown_names() -> None:
    for make, name in (
        (images.font_bytes, "Lato-Nope.ttf"),
        (images.theme_image, "nope.png"),
        (asset_files.static_file, "nope.js"),
    ):
        with pytest.raises(KeyError):
            make(name)


def test_images_of_posts_published_on_later_days_are_served() -> None:
    site = Site(30, 1, 3)
    router = Router(site)
    published = [e for e in site.events(3) if e.kind in ("new", "republish_copy")]
    assert {e.kind for e in published} == {"new", "republish_copy"}
    for event in published:
        image = site.article(event.post_id).featured_image
        for path in (image, image.replace(".jpg", "-100x70.jpg")):
            assert router.resolve(path, "http://h").status == 200, path
    fresh = site.article(next(e for e in published if e.kind == "new").post_id).featured_image
    assert Router(Site(30, 1, 0)).resolve(fresh, "http://h").status == 404  # not uploaded yet
