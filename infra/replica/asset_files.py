"""The bytes behind every asset URL of the replica (``assets`` says which pages link them), as
``Response``s with the validators pages have (the handler adds ``ETag``, answers conditional
requests with 304 and gzips the text types).

Served from the site's host: the theme's ``style.css`` (day-dependent: the theme update) and
``css/fonts.css``, the Lato font files, the theme's background images, jQuery's stand-in, the
theme's and the lazy-load plugin's scripts and placeholder, the site's uploads (logos, icons,
house adverts, header and footer backgrounds, every article's featured image in its sizes) and
``/favicon.ico``. The image CDN's host serves the uploads only, under ``/<site-host>/...``.
An upload that no article owns, or a size WordPress did not make, is not found (the site answers
its themed 404, the CDN a plain one). Scripts and stylesheets are files in ``static/`` written
for the replica; images are drawn by ``images``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path

from infra.replica import assets as AS
from infra.replica import days as DY
from infra.replica import generator as G
from infra.replica import images
from infra.replica.caches import SHARED, Caches
from infra.replica.content import Site
from infra.replica.response import Response

CSS = "text/css"
JS = "application/javascript; charset=utf-8"
FONT = "font/ttf"
JPEG, PNG, GIF, ICO = "image/jpeg", "image/png", "image/gif", "image/x-icon"
PLAIN = "text/plain; charset=utf-8"
PREFIXES = ("/wp-content/", "/wp-includes/", "/favicon.ico")
THEME_RELEASED = datetime(2019, 10, 2, 9, 0, tzinfo=UTC)
PLUGIN_RELEASED = datetime(2019, 9, 18, 12, 0, tzinfo=UTC)
WP_RELEASED = datetime(2019, 10, 14, 18, 0, tzinfo=UTC)
SITE_UPLOADED = datetime(2017, 6, 20, 10, 0, tzinfo=UTC)
ADS_UPLOADED = datetime(2018, 1, 10, 10, 0, tzinfo=UTC)
# the theme update's time: 03:00 on its day (replica days start after the last day-0 article)
STYLE_UPDATED = datetime.fromtimestamp(
    G.END_TS + DY.THEME_UPDATE_DAY * DY.DAY_SECONDS + 3 * 3600, UTC
)
CACHE = (("Cache-Control", "max-age=31536000"),)
CDN_HEADERS = (
    ("Cache-Control", "public, max-age=31536000"),
    ("Access-Control-Allow-Origin", "*"),
    ("X-Content-Type-Options", "nosniff"),
)
_STATIC = Path(__file__).resolve().parent / "static"
_UPLOAD = re.compile(r"^/wp-content/uploads/(\d{4})/(\d{2})/([a-z0-9-]+)\.jpg$")
_SIZED = re.compile(r"^(.+)-(\d{2,4})x(\d{2,4})$")
_CDN = re.compile(r"^/([A-Za-z0-9.-]+(?::\d{1,5})?)(/wp-content/uploads/.+)$")

# the theme update: what changes in style.css on days.THEME_UPDATE_DAY
_UPDATE_NOTE = (
    "\n/* 9.2.3: the accent colour follows the new logo; a rule under the menu bar */\n"
    ".td-header-menu-wrap-full{border-bottom:4px solid #d6332c}\n"
)


@lru_cache(maxsize=8)
def static_file(name: str) -> bytes:
    """A script or stylesheet from ``static/`` (KeyError if there is none)."""
    path = _STATIC / name
    if not path.is_file():
        raise KeyError(name)
    return path.read_bytes()


@lru_cache(maxsize=2)
def stylesheet(updated: bool) -> bytes:
    """``style.css`` before or after the theme update."""
    text = static_file("style.css").decode()
    if updated:
        text = text.replace(f"Version: {AS.THEME_VERSION}", f"Version: {AS.UPDATED_STYLE_VERSION}")
        text = text.replace("#4db2ec", "#d6332c") + _UPDATE_NOTE
    return text.encode()


Maker = Callable[[], bytes]
_T, _L, _U = AS.THEME, AS.LAZY, AS.UPLOADS
_FIXED: dict[str, tuple[str, datetime, Maker]] = {
    f"{_T}/css/fonts.css": (CSS, THEME_RELEASED, lambda: static_file("fonts.css")),
    f"{_T}/js/tagdiv_theme.min.js": (JS, THEME_RELEASED, lambda: static_file("tagdiv_theme.js")),
    f"{_L}/js/lazyload.min.js": (JS, PLUGIN_RELEASED, lambda: static_file("lazyload.js")),
    f"{_L}/images/lazy_placeholder.gif": (GIF, PLUGIN_RELEASED, images.placeholder_gif),
    AS.JQUERY: (JS, WP_RELEASED, lambda: static_file("jquery.js")),
    AS.LOGO: (PNG, SITE_UPLOADED, lambda: images.logo(272, 90, on_dark=False)),
    AS.LOGO_FOOTER: (PNG, SITE_UPLOADED, lambda: images.logo(272, 90, on_dark=True)),
    AS.HEADER_BG: (JPEG, SITE_UPLOADED, lambda: images.backdrop("header-bg.jpg", 1164, 130)),
    AS.FOOTER_BG: (JPEG, SITE_UPLOADED, lambda: images.backdrop("footer-bg.jpg", 1164, 400)),
    AS.AD_728: (JPEG, ADS_UPLOADED, lambda: images.banner(728, 90, "SUPPORT FORT RUSS NEWS")),
    AS.AD_300: (JPEG, ADS_UPLOADED, lambda: images.banner(300, 250, "DONATE")),
    "/favicon.ico": (ICO, SITE_UPLOADED, images.favicon),
}
for _font in images.FONT_FILES:
    _FIXED[f"{_T}/fonts/{_font}"] = (FONT, THEME_RELEASED, partial(images.font_bytes, _font))
for _name in ("patterns/page-bg.png", "patterns/menu-bg.png", "icons/arrow-up.png"):
    _make: Maker = partial(images.theme_image, _name.rsplit("/", 1)[1])
    _FIXED[f"{_T}/images/{_name}"] = (PNG, THEME_RELEASED, _make)
for _n in AS.ICON_SIZES:
    _FIXED[f"{AS.ICON}-{_n}x{_n}.png"] = (PNG, SITE_UPLOADED, partial(images.site_icon, _n))


class Assets:
    """The assets of one ``Site`` (one day): its uploads and the theme as of that day."""

    def __init__(self, site: Site, caches: Caches = SHARED) -> None:
        self.site = site
        self._image = caches.image
        self._month = lru_cache(maxsize=caches.months)(site.images_of_month)

    def resolve(self, path: str) -> Response | None:
        """The asset at ``path`` on the site's host, or None (not an asset of this site)."""
        if path == f"{AS.THEME}/style.css":
            updated = self.site.day >= DY.THEME_UPDATE_DAY
            modified = STYLE_UPDATED if updated else THEME_RELEASED
            return Response(200, CSS, stylesheet(updated), modified, CACHE)
        fixed = _FIXED.get(path)
        if fixed is not None:
            content_type, modified, make = fixed
            return Response(200, content_type, make(), modified, CACHE)
        return self.upload(path, CACHE)

    def resolve_cdn(self, path: str) -> Response:
        """The CDN's answer for ``/<site-host>/wp-content/uploads/...``: the upload or a 404."""
        m = _CDN.match(path)
        found = None
        if m is not None:
            found = _FIXED.get(m.group(2)) if m.group(2).startswith(AS.UPLOADS) else None
            if found is not None:
                content_type, modified, make = found
                return Response(200, content_type, make(), modified, CDN_HEADERS)
            response = self.upload(m.group(2), CDN_HEADERS)
            if response is not None:
                return response
        return Response(404, PLAIN, b"Not Found\n", None, (("Cache-Control", "max-age=60"),))

    def upload(self, path: str, headers: tuple[tuple[str, str], ...]) -> Response | None:
        """An article's featured image (``name.jpg`` or ``name-WxH.jpg``), or None."""
        m = _UPLOAD.match(path)
        if m is None:
            return None
        year, month, name = int(m.group(1)), int(m.group(2)), m.group(3)
        size = AS.ORIGINAL
        found = self._owner(year, month, path)
        if found is None:
            sized = _SIZED.match(name)
            if sized is None:
                return None
            size = (int(sized.group(2)), int(sized.group(3)))
            original = f"{AS.UPLOADS}/{m.group(1)}/{m.group(2)}/{sized.group(1)}.jpg"
            found = self._owner(year, month, original) if size in AS.SIZES else None
            if found is None:
                return None
        name = found[0].rsplit("/", 1)[-1].removesuffix(".jpg")
        body = self._image(name, *size)
        return Response(200, JPEG, body, found[1], headers)

    def _owner(self, year: int, month: int, path: str) -> tuple[str, datetime] | None:
        """The original's path and upload time (its article's publication), if some article's."""
        k = self._month(year, month).get(path)
        return None if k is None else (path, self.site.meta(k).published)
