"""What a page loads: the URLs of an HTML page's and a stylesheet's requisites, as a browser
fetches them (and as replay tools rewrite them, e.g. pywb's list of URL-bearing attributes):
stylesheets, icons and preloads (``link``), ``img``/``source`` ``src``/``srcset`` and the
lazy-load attributes themes use, media posters and sources, scripts, and in CSS (files,
``<style>`` blocks and ``style`` attributes) ``@import`` and ``url()``. Every ``srcset``
candidate is taken, since a browser picks one by its viewport and replay may ask for any. The
spider fetches them (``spiders.requisites``); a standalone WACZ carries them
(``flows.replay.waczindex``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from lxml import etree

_LINK_RELS = {"stylesheet", "icon", "apple-touch-icon", "preload", "modulepreload", "prefetch"}
_SRC_ATTRS = ("src", "data-src", "data-lazy-src", "data-original", "poster")
_SRCSET_ATTRS = ("srcset", "data-srcset", "data-lazy-srcset", "imagesrcset")
_SRC_TAGS = ("img", "source", "video", "audio", "track", "script", "embed", "input", "iframe")
_CSS_COMMENT = re.compile(rb"/\*.*?\*/", re.S)
_CSS_IMPORT = re.compile(rb"""@import\s+(?:url\(\s*)?(['"]?)([^'")\s;]+)\1""", re.I)
_CSS_URL = re.compile(rb"""url\(\s*(['"]?)([^'")]*?)\1\s*\)""", re.I)


def srcset_urls(value: str) -> list[str]:
    """Every candidate URL of a ``srcset`` ("a.jpg 300w, b.jpg 2x")."""
    out = []
    for candidate in re.split(r",\s*(?=\S)", value.strip()):
        url = candidate.strip().split(" ", 1)[0].strip()
        if url:
            out.append(url)
    return out


def css_urls(css: bytes, base_url: str) -> list[str]:
    """Absolute URLs of a stylesheet's ``@import``s and ``url()``s, in order, once each."""
    text = _CSS_COMMENT.sub(b"", css)
    found = [m.group(2) for m in _CSS_IMPORT.finditer(text)]
    found += [m.group(2) for m in _CSS_URL.finditer(text)]
    return _absolute(base_url, (f.decode("utf-8", "replace").strip() for f in found))


_FEED = 1 << 16  # bytes of a page handed to the pull parser at a time (1 MiB held 10 MB more)


def html_urls(body: bytes, base_url: str) -> list[str]:
    """Absolute URLs of everything a browser would load for this HTML page, once each.

    Streamed through a pull parser that drops each element once read, so a hostile 30 MB page
    costs the crawl about its own size, never its whole tree's (~30x)."""
    parser = etree.HTMLPullParser(events=("start", "end"))
    page = _Found()
    try:
        for at in range(0, len(body), _FEED):
            parser.feed(body[at : at + _FEED])
            page.read(parser)
        parser.close()
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        pass  # what was read up to the damage counts
    page.read(parser)
    base_url = urljoin(base_url, page.base.strip()) if page.base else base_url
    for css in page.styles:
        page.urls += css_urls(css.encode("utf-8"), base_url)
    return _absolute(base_url, page.urls)


class _Found:
    """What ``html_urls`` collects from the parser's events; elements are freed as they end."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.styles: list[str] = []  # <style> blocks and style attributes: resolved at the end
        self.base: str | None = None

    def read(self, parser: etree.HTMLPullParser) -> None:
        for event, element in parser.read_events():
            if not isinstance(element, etree._Element) or not isinstance(element.tag, str):
                continue
            if event == "start":
                self._start(element)
                continue
            if element.tag == "style":
                self.styles.append(element.text or "")
            element.clear()
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]

    def _start(self, tag: etree._Element) -> None:
        name = tag.tag
        if name == "base" and self.base is None and tag.get("href"):
            self.base = tag.get("href")
        if name == "link":
            rels = set(str(tag.get("rel", "")).lower().split())
            if rels & _LINK_RELS or "shortcut" in rels:
                self.urls += [tag.get("href", "")]
                self.urls += srcset_urls(tag.get("imagesrcset", ""))
        if name in _SRC_TAGS and name != "iframe":  # an iframe is a page of its own
            if name != "input" or str(tag.get("type", "")).lower() == "image":
                self.urls += [tag.get(a, "") for a in _SRC_ATTRS]
                for attr in _SRCSET_ATTRS:
                    self.urls += srcset_urls(tag.get(attr, ""))
        if name in ("body", "table", "td"):
            self.urls.append(tag.get("background", ""))
        if tag.get("style"):
            self.styles.append(tag.get("style", ""))


def _absolute(base_url: str, urls: Iterable[str]) -> list[str]:
    out: dict[str, None] = {}
    for raw in urls:
        value = raw.strip()
        if not value or value.startswith(("data:", "#", "javascript:", "about:", "blob:")):
            continue
        try:
            url = urljoin(base_url, value).split("#", 1)[0]
        except ValueError:
            continue
        if urlsplit(url).scheme in ("http", "https"):
            out[url] = None
    return list(out)
