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
from lxml import html as lxml_html

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


def html_urls(body: bytes, base_url: str) -> list[str]:
    """Absolute URLs of everything a browser would load for this HTML page, once each."""
    try:
        root = lxml_html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return []
    base = root.xpath("string(//base/@href)")
    base_url = urljoin(base_url, str(base).strip()) if base else base_url
    found: list[str] = []
    for link in root.iter("link"):
        rels = set(str(link.get("rel", "")).lower().split())
        if rels & _LINK_RELS or "shortcut" in rels:
            found += [link.get("href", "")]
            found += srcset_urls(link.get("imagesrcset", ""))
    for tag in root.iter(*_SRC_TAGS):
        if tag.tag == "input" and str(tag.get("type", "")).lower() != "image":
            continue
        if tag.tag == "iframe":
            continue  # a page of its own, not a requisite
        found += [tag.get(a, "") for a in _SRC_ATTRS]
        for attr in _SRCSET_ATTRS:
            found += srcset_urls(tag.get(attr, ""))
    for tag in root.iter("body", "table", "td"):
        found.append(tag.get("background", ""))
    for block in root.iter("style"):
        found += css_urls((block.text or "").encode("utf-8"), base_url)
    for tag in root.iter():
        inline = tag.get("style") if isinstance(tag.tag, str) else None
        if inline:
            found += css_urls(inline.encode("utf-8"), base_url)
    return _absolute(base_url, found)


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
