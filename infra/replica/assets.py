"""The theme's page requisites as pages reference them: where each asset lives, which sizes an
article's images come in, the image CDN's URLs, and the markup that links them.

What a page loads, as a WordPress site with the tagDiv theme and Jetpack does:

- in the head: site icons (``link rel=icon``/``apple-touch-icon``), a ``preload`` of the web
  font, the theme's ``style.css?ver=`` (which ``@import``s ``css/fonts.css``; between them they
  ``url()`` the two Lato font files and three theme images), an inline ``<style>`` with a header
  background ``url()``, jQuery, and the analytics snippet (an external host);
- the logo, the header and sidebar adverts (house banners), the featured image with a ``srcset``
  of its sizes (all on the site's host, so the cleaner's ``featured_image`` stays the ``src``);
- teaser thumbnails from the image CDN (``http://127.0.0.2:<port>/<site-host>/wp-content/
  uploads/...``, as ``i0.wp.com`` serves them), eager with a 2x ``srcset`` in listings and
  related posts, lazy in sidebar and footer blocks: a tiny placeholder in ``src`` and the image in
  ``data-src``, which ``lazyload.min.js`` swaps in;
- at the end: the footer's background in a ``style`` attribute, the theme's and the lazy-load
  plugin's scripts, and the WordAds and Jetpack stats scripts (external hosts, never served).

A theme update on ``days.THEME_UPDATE_DAY`` changes ``style.css`` and its ``?ver=`` (see
``style_version``); nothing else about the assets changes with the day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from infra.replica import days as DY
from infra.replica.markup import a

THEME_VERSION = "9.2.2"
UPDATED_STYLE_VERSION = "9.2.3"
THEME = "/wp-content/themes/Newspaper"
UPLOADS = "/wp-content/uploads"
LAZY = "/wp-content/plugins/a3-lazy-load/assets"
LAZY_VERSION = "2.2.1"
JQUERY = "/wp-includes/js/jquery/jquery.js"
LOGO = f"{UPLOADS}/2017/06/fortruss-logo.png"
LOGO_FOOTER = f"{UPLOADS}/2017/06/fortruss-logo-footer.png"
ICON = f"{UPLOADS}/2017/06/cropped-fr-icon"  # + -32x32.png, -192x192.png, -180x180.png
HEADER_BG = f"{UPLOADS}/2017/06/header-bg.jpg"
FOOTER_BG = f"{UPLOADS}/2017/06/footer-bg.jpg"
AD_728 = f"{UPLOADS}/2018/01/support-728x90.jpg"
AD_300 = f"{UPLOADS}/2018/01/support-300x250.jpg"
PLACEHOLDER = f"{LAZY}/images/lazy_placeholder.gif"
ICON_SIZES = (32, 192, 180)

# An article's image: the original ``name.jpg`` and WordPress's sizes ``name-WxH.jpg``.
ORIGINAL = (1068, 601)
FEATURED = (696, 392)
MEDIUM = (300, 169)
THUMB = (218, 150)
THUMB_2X = (436, 300)
SMALL = (100, 70)
SIZES: frozenset[tuple[int, int]] = frozenset({FEATURED, MEDIUM, THUMB, THUMB_2X, SMALL})

# Third-party hosts the pages reference and nothing may fetch (ads, trackers, analytics).
WORDADS_JS = "https://s.pubmine.com/head.js"
STATS_JS = "https://stats.wp.com/e-201950.js"
ANALYTICS_JS = "https://www.googletagmanager.com/gtag/js?id=UA-77020519-1"
EXTERNAL_HOSTS = frozenset({"s.pubmine.com", "stats.wp.com", "www.googletagmanager.com"})

_BASE_HOST = re.compile(r"^https?://([^/]+)$")


def style_version(day: int) -> str:
    """The ``?ver=`` of ``style.css`` on pages rendered on ``day`` (the theme update bumps it)."""
    return UPDATED_STYLE_VERSION if day >= DY.THEME_UPDATE_DAY else THEME_VERSION


def sized(path: str, size: tuple[int, int]) -> str:
    """``/.../name.jpg`` -> ``/.../name-WxH.jpg`` (the original for ``ORIGINAL``)."""
    if size == ORIGINAL:
        return path
    stem, dot, ext = path.rpartition(".")
    return f"{stem}-{size[0]}x{size[1]}{dot}{ext}"


@dataclass(frozen=True, slots=True)
class Cdn:
    """The image CDN: another loopback address, on the site's port unless ``port`` is set.

    Its URLs carry the site's host as the first path segment, as ``i0.wp.com`` does, so a page's
    CDN links follow the ``Host`` it was asked for (and stay the same across servers).
    """

    host: str = "127.0.0.2"
    port: int | None = None

    def origin(self, base: str) -> str:
        if self.port is not None:
            return f"http://{self.host}:{self.port}"
        port = urlsplit(base).port
        return f"http://{self.host}" + (f":{port}" if port is not None else "")

    def url(self, base: str, path: str) -> str:
        m = _BASE_HOST.match(base)
        return f"{self.origin(base)}/{m.group(1) if m else 'localhost'}{path}"


DEFAULT_CDN = Cdn()


def image_url(base: str, cdn: Cdn | None, path: str) -> str:
    """An upload's URL: on the CDN when there is one, else on the site."""
    return base + path if cdn is None else cdn.url(base, path)


def featured_img(base: str, path: str, title: str) -> str:
    """The featured image of an article page: ``src`` the original, ``srcset`` its sizes."""
    srcset = ", ".join(
        f"{base}{sized(path, size)} {size[0]}w" for size in (FEATURED, MEDIUM, ORIGINAL)
    )
    return (
        f'<img width="{FEATURED[0]}" height="{FEATURED[1]}" class="entry-thumb td-modal-image" '
        f'src="{base}{path}" srcset="{srcset}" sizes="(max-width: 696px) 100vw, 696px" '
        f'alt="" title="{title}"/>'
    )


def thumb_img(base: str, cdn: Cdn | None, path: str, title: str, lazy: bool) -> str:
    """A teaser's thumbnail from the CDN: eager (218x150, ``srcset`` 2x) or lazy (100x70: a
    placeholder in ``src``, the image in ``data-src``, as WordPress lazy-load plugins write it)."""
    if lazy:
        return (
            f'<img width="{SMALL[0]}" height="{SMALL[1]}" class="entry-thumb lazy lazy-hidden" '
            f'src="{base}{PLACEHOLDER}" data-src="{image_url(base, cdn, sized(path, SMALL))}" '
            f'alt="" title="{title}"/>'
        )
    one, two = image_url(base, cdn, sized(path, THUMB)), image_url(base, cdn, sized(path, THUMB_2X))
    return (
        f'<img width="{THUMB[0]}" height="{THUMB[1]}" class="entry-thumb" src="{one}" '
        f'srcset="{two} 2x" alt="" title="{title}"/>'
    )


def head_links(base: str, day: int) -> str:
    """The head's requisites: icons, the font preload, the stylesheet, inline CSS, jQuery."""
    icons = "".join(
        f'<link rel="icon" href="{base}{ICON}-{n}x{n}.png" sizes="{n}x{n}" />\n'
        for n in ICON_SIZES[:2]
    )
    touch = ICON_SIZES[2]
    return (
        f"{icons}"
        f'<link rel="apple-touch-icon" href="{base}{ICON}-{touch}x{touch}.png" />\n'
        f'<link rel="preload" href="{base}{THEME}/fonts/Lato-Bold.ttf" as="font" '
        'type="font/ttf" crossorigin />\n'
        f"<link rel='stylesheet' id='td-theme-css' href='{base}{THEME}/style.css"
        f"?ver={style_version(day)}' type='text/css' media='all' />\n"
        "<style id='td-theme-inline-css' type='text/css'>\n"
        ".td-header-wrap .black-menu .sf-menu > li > a:hover{color:#4db2ec}"
        ".td-post-content h2{font-size:22px}.td-a-rec img{max-width:100%}"
        f".td-banner-wrap-full{{background:#fff url('{base}{HEADER_BG}') center/cover}}\n"
        "</style>\n"
        f"<script type='text/javascript' src='{base}{JQUERY}?ver=1.12.4-wp'></script>\n"
        f"<script async src='{ANALYTICS_JS}'></script>\n"
        "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push("
        "arguments);} gtag('js', new Date()); gtag('config', 'UA-77020519-1');</script>\n"
    )


def footer_style(base: str) -> str:
    """The ``style`` attribute of the footer (its background, set in the theme's panel)."""
    return a(f"background-image:url('{base}{FOOTER_BG}')")


def footer_scripts(base: str) -> str:
    """The scripts at the end of the body: the theme's, the lazy loader, Jetpack stats."""
    return (
        f"<script type='text/javascript' src='{base}{THEME}/js/tagdiv_theme.min.js"
        f"?ver={THEME_VERSION}'></script>\n"
        f"<script type='text/javascript' src='{base}{LAZY}/js/lazyload.min.js"
        f"?ver={LAZY_VERSION}'></script>\n"
        f"<script type='text/javascript' src='{STATS_JS}' async='async' defer='defer'></script>\n"
        "<script type='text/javascript'>_stq = window._stq || []; _stq.push([ 'view', "
        "{v:'ext',j:'1:7.8',blog:'106353013',post:'0',tz:'0',srv:'www.fort-russ.com'} ]);"
        "</script>\n"
    )
