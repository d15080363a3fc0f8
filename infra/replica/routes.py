"""URL routing of the replica: request target + base URL -> a ``Response`` (status, headers, body).

Routes (WordPress permalinks as on the real site):

- ``/`` and ``/page/N/``: home listing, 10 per page; ``/?p=ID`` -> 301 to the article
- ``/YYYY/MM/slug/``: article; ``/YYYY/MM/slug/amp/``: its AMP variant
- ``/category/<slug>/``, ``/category/<slug>/page/N/``, ``/tag/<slug>/``, ``/tag/<slug>/page/N/``
- ``/about-us/``, ``/contact-us/``, ``/donate/``: static pages
- ``/feed/``, ``/robots.txt``, ``/sitemap_index.xml``, ``/post-sitemap.xml``,
  ``/post-sitemapN.xml``, ``/page-sitemap.xml``, ``/category-sitemap.xml``
- ``/wp-content/...``, ``/wp-includes/...``, ``/favicon.ico``: the theme's assets and the uploads
  (``asset_files``; query strings such as ``?ver=`` do not pick a file)
- ``/sitemap.xml``, ``/page/1/`` and a missing trailing slash -> 301; anything else -> themed 404

``resolve_cdn`` answers the image CDN's host: ``/<site-host>/wp-content/uploads/...``.

Query strings are ignored for rendering (``utm_*``, ``replytocom``...), except ``p`` on ``/``.
Rendered responses are cached in an LRU keyed by (path, base), bounded by ``caches.Caches``.

After day 0 (see ``days``): a deleted article's URL, its ``amp/`` variant and its ``/?p=ID``
shortlink answer 404 (``delete_404``), 410 (``delete_410``) or 301 to the home page
(``delete_redirect``). An article page is rendered as of its *render day* (the page cache rule):
with the ``Theme`` of the site on that day, so its sidebar, related posts, next/previous links and
footer stay as they were until the article is edited or re-rendered. Listings, feeds, sitemaps and
the 404 page always show the current day.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit

from infra.replica import article_page, feeds, pages
from infra.replica.asset_files import PREFIXES, Assets
from infra.replica.assets import DEFAULT_CDN, Cdn
from infra.replica.caches import SHARED, Caches
from infra.replica.content import Site
from infra.replica.response import Response
from infra.replica.theme import Theme

HTML = "text/html; charset=UTF-8"
XML = "text/xml; charset=UTF-8"
RSS = "application/rss+xml; charset=UTF-8"
TEXT = "text/plain; charset=utf-8"
_COOKIE_EXPIRES = "Fri, 01 Jan 2038 00:00:00 GMT"

_ARTICLE = re.compile(r"^(/\d{4}/\d{2}/[a-z0-9-]+/)(amp/)?$")
_LISTING = re.compile(r"^(?:/(category|tag)/([a-z0-9-]+))?/(?:page/(\d{1,7})/)?$")
_POST_SITEMAP = re.compile(r"^/post-sitemap(\d{0,6})\.xml$")
_STATIC = re.compile(r"^/([a-z0-9-]+)/$")


def _html(
    status: int,
    text: str | bytes,
    modified: datetime | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Response:
    body = text.encode("utf-8") if isinstance(text, str) else text
    return Response(status, HTML, body, modified, headers)


class Router:
    """Resolves request targets against one ``Site``; one ``Theme`` per base URL."""

    def __init__(self, site: Site, caches: Caches = SHARED, cdn: Cdn | None = DEFAULT_CDN) -> None:
        self.site = site
        self.cdn = cdn
        self.caches = caches
        self.assets = Assets(site, caches)
        self._themes: dict[str, Theme] = {}
        self._day_themes: OrderedDict[tuple[int, str], Theme] = OrderedDict()
        self._lock = threading.Lock()
        self.render = lru_cache(maxsize=caches.size)(self._render)

    def theme(self, base: str) -> Theme:
        theme = self._themes.get(base)
        if theme is None:
            if len(self._themes) >= 16:
                self._themes.clear()
            theme = self._themes[base] = Theme(self.site, base, self.cdn)
        return theme

    def theme_at(self, day: int, base: str) -> Theme:
        """The theme of the site as it was on ``day`` (for pages rendered that day)."""
        if day == self.site.day:
            return self.theme(base)
        key = (day, base)
        with self._lock:
            theme = self._day_themes.get(key)
            if theme is None:
                theme = self._day_themes[key] = Theme(self.site.at_day(day), base, self.cdn)
            self._day_themes.move_to_end(key)
            while len(self._day_themes) > 32:
                self._day_themes.popitem(last=False)
        return theme

    def resolve(self, target: str, base: str) -> Response:
        """The response for a request target (path and query) on the site at ``base``."""
        parts = urlsplit(target)
        path = parts.path or "/"
        if path.startswith(PREFIXES):
            asset = self.assets.resolve(path)
            if asset is not None:
                return asset
        if path == "/" and parts.query:
            post = dict(parse_qsl(parts.query)).get("p")
            if post is not None:
                k = self.site.rank_of_post(int(post)) if post.isdigit() else None
                if k is None or k >= self.site.count:
                    return self.render("/__missing__/", base)
                if not self.site.is_live(k):
                    return self.render(self.site.path(k), base)
                return self.redirect(base + self.site.path(k))
        return self.render(path, base)

    def resolve_cdn(self, target: str) -> Response:
        """The image CDN's response for a request target (``/<site-host>/wp-content/...``)."""
        return self.assets.resolve_cdn(urlsplit(target).path)

    @staticmethod
    def redirect(location: str) -> Response:
        return _html(301, pages.redirect_page(location), None, (("Location", location),))

    def _render(self, path: str, base: str) -> Response:
        response = self._route(path, base)
        if response is not None:
            return response
        if not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
            if self._route(path + "/", base) is not None:
                return self.redirect(base + path + "/")
        return _html(404, pages.not_found_page(self.theme(base)))

    def _route(self, path: str, base: str) -> Response | None:
        site, theme = self.site, self.theme(base)
        m = _ARTICLE.match(path)
        if m is not None:
            k = site.rank_of_path(m.group(1))
            if k is None:
                return None
            if not site.is_live(k):
                return self._gone(k, base)
            art_modified = site.meta(k).modified
            if m.group(2):
                return _html(200, article_page.amp_page(theme, k), art_modified)
            post_id = site.meta(k).post_id
            return _html(
                200,
                article_page.article_page(self.theme_at(site.render_day(k), base), k),
                art_modified,
                self._article_headers(base, path, post_id),
            )
        m = _LISTING.match(path)
        if m is not None:
            return self._listing(theme, m.group(1), m.group(2), m.group(3), path)
        if path == "/robots.txt":
            body = feeds.robots_txt(base).encode()
            return Response(200, TEXT, body, feeds.STATIC_MODIFIED)
        if path == "/feed/":
            return Response(200, RSS, feeds.rss_feed(theme).encode(), feeds.newest_modified(site))
        if path == "/sitemap_index.xml":
            return self._xml(feeds.sitemap_index(theme))
        if path == "/sitemap.xml":
            return self.redirect(f"{base}/sitemap_index.xml")
        if path == "/page-sitemap.xml":
            return self._xml(feeds.page_sitemap(theme))
        if path == "/category-sitemap.xml":
            return self._xml(feeds.category_sitemap(theme))
        m = _POST_SITEMAP.match(path)
        if m is not None and m.group(1) not in ("0", "1") and not m.group(1).startswith("0"):
            n = int(m.group(1) or "1")
            text = feeds.post_sitemap(theme, n)
            return None if text is None else self._xml(text, feeds.chunk_lastmod(site, n))
        m = _STATIC.match(path)
        if m is not None:
            text = pages.static_page(theme, m.group(1))
            return None if text is None else _html(200, text, feeds.STATIC_MODIFIED)
        return None

    def _gone(self, k: int, base: str) -> Response | None:
        """A deleted article: None (the themed 404), a 410 or a 301 to the home page."""
        status, location = self.site.status(self.site.path(k))
        if status == 404:
            return None
        if location is not None:
            return self.redirect(base + location)
        return _html(status, pages.not_found_page(self.theme(base)))

    @staticmethod
    def _xml(text: str, modified: datetime | None = None) -> Response:
        if modified is None:
            found = re.findall(r"<lastmod>([^<]+)</lastmod>", text)
            modified = max((datetime.fromisoformat(x) for x in found), default=None)
        return Response(200, XML, text.encode("utf-8"), modified)

    def _listing(
        self, theme: Theme, taxonomy: str | None, slug: str | None, page: str | None, path: str
    ) -> Response | None:
        site = self.site
        if page == "1" or (page is not None and page.startswith("0")):
            return self.redirect(theme.base + path[: path.index("page/")])
        number = int(page or "1")
        if taxonomy is None or slug is None:
            ranks: Sequence[int] = site.newest_ranks()
            prefix, title, body = "/", "Fort Russ", "home blog"
        elif taxonomy == "category":
            name = site.category_by_slug(slug)
            if name is None:
                return None
            ranks, prefix, title = site.category_ranks(name), f"/category/{slug}/", name
            body = f"archive category category-{slug}"
        else:
            name = site.tag_by_slug(slug)
            if name is None:
                return None
            ranks, prefix, title = site.tag_ranks(name), f"/tag/{slug}/", name
            body = f"archive tag tag-{slug}"
        text = pages.listing_page(theme, ranks, number, prefix, title, body)
        if text is None:
            return None
        shown = [ranks[i] for i in range((number - 1) * 10, min(number * 10, len(ranks)))]
        modified = max((site.meta(k).modified for k in shown), default=feeds.STATIC_MODIFIED)
        headers: tuple[tuple[str, str], ...] = ()
        if taxonomy is None:
            headers = (("Link", f'<{theme.base}/wp-json/>; rel="https://api.w.org/"'),)
            headers += self._cookies(path)
        return _html(200, text, modified, headers)

    def _article_headers(self, base: str, path: str, post_id: int) -> tuple[tuple[str, str], ...]:
        return (
            ("Link", f'<{base}/wp-json/>; rel="https://api.w.org/"'),
            ("Link", f"<{base}/?p={post_id}>; rel=shortlink"),
            *self._cookies(path),
        )

    @staticmethod
    def _cookies(path: str) -> tuple[tuple[str, str], ...]:
        visitor = hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()[:16]
        return (
            ("Set-Cookie", "wordpress_test_cookie=WP+Cookie+check; path=/"),
            ("Set-Cookie", f"tk_ai=frs_{visitor}; path=/; expires={_COOKIE_EXPIRES}; SameSite=Lax"),
        )


def epoch(when: datetime) -> int:
    """Whole seconds since the epoch (HTTP dates have second precision)."""
    return int(when.astimezone(UTC).timestamp())
