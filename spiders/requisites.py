"""Page requisites: what a browser loads to show a page, so that the page replays as it was seen.

Extraction follows what a browser fetches (and what replay tools rewrite, e.g. pywb's list of
URL-bearing attributes): stylesheets, icons and preloads (``link``), ``img``/``source``
``src``/``srcset`` and the lazy-load attributes themes use (``data-src``, ``data-srcset``,
``data-lazy-*``), media posters and sources, scripts, and in CSS (files, ``<style>`` blocks and
``style`` attributes) ``@import`` and ``url()``, recursively. Every ``srcset`` candidate is taken,
since a browser picks one by its viewport and replay may ask for any.

``RequisiteFetcher`` turns them into requests: in scope only (the site's hosts plus the profile's
requisite hosts), never an excluded (ad, tracker, analytics) host, each URL at most once per run
(so an ``@import`` cycle ends), and one already archived is asked again (conditionally) only
when its latest capture is older than ``requisite_refresh`` hours. Failures (404, timeouts,
oversized bodies, redirect loops) are counted, never fatal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin, urlsplit

from lxml import etree
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url

from flows.sites import Requisites, host_allowed
from flows.warc import CaptureIndex

REQUISITE_META = "newsvault_requisite"
STAT = "newsvault/requisites_"  # + archived, rechecked, unchanged, fresh, excluded, failed

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


_FEED = 1 << 20  # bytes of a page handed to the pull parser at a time


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


def is_css(response: Response) -> bool:
    kind = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    return kind == b"text/css" or (not kind and urlsplit(response.url).path.endswith(".css"))


class RequisiteFetcher:
    """The requests for a page's requisites (see the module docstring); owned by the spider."""

    def __init__(
        self,
        policy: Requisites,
        site_hosts: Iterable[str],
        prior: CaptureIndex | None,
        crawler: Crawler,
        callbacks: tuple[Callable[[Response], Iterator[Request]], Callable[[Failure], None]],
        now: datetime | None = None,
    ) -> None:
        self.policy = policy
        self.hosts = tuple(site_hosts) + tuple(policy.hosts)
        self.prior = prior
        self.crawler = crawler  # its stats exist once the crawl starts
        # the spider's methods that call ``parse`` and ``failed`` (Scrapy's disk queue stores a
        # request's callbacks by their name on the spider)
        self.callback, self.errback = callbacks
        self.now = now or datetime.now(UTC)
        self.seen: set[str] = set()

    def _count(self, what: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(what)

    def in_scope(self, url: str) -> bool:
        """A site or requisite host, and no exclusion pattern (host suffix or host/path
        prefix) matches."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host_allowed(host, self.hosts):
            return False
        where = host + parts.path
        for pattern in (*self.policy.exclude, *self.policy.exclude_extra):
            if "/" in pattern and where.startswith(pattern.lower()):
                return False
            if "/" not in pattern and host_allowed(host, [pattern]):
                return False
        return True

    def requests(self, response: Response) -> Iterator[Request]:
        """The requisites of ``response`` (an HTML page or a stylesheet) not yet asked for."""
        if not self.policy.enabled or response.status != 200:
            return
        if is_css(response):
            urls = css_urls(response.body, response.url)
        elif b"html" in (response.headers.get(b"Content-Type") or b"text/html").lower():
            urls = html_urls(response.body, response.url)
        else:
            return
        for url in urls:
            key = canonicalize_url(url)
            if key in self.seen:
                continue
            self.seen.add(key)
            if not self.in_scope(url):
                self._count(STAT + "excluded")
                continue
            headers = self._conditional(url)
            if headers is None:
                self._count(STAT + "fresh")
                continue
            yield Request(
                url,
                callback=self.callback,
                errback=self.errback,
                priority=20,
                headers=headers,
                meta={
                    REQUISITE_META: True,
                    "download_maxsize": self.policy.max_size,
                    "download_timeout": self.policy.timeout,
                    "handle_httpstatus_list": [304],
                },
            )

    def _conditional(self, url: str) -> dict[str, str] | None:
        """{} for a first fetch, validators for a re-check, None when captured recently."""
        latest = self.prior.latest(url) if self.prior is not None else None
        if latest is None or latest.status not in (200, 304):
            return {}
        try:
            captured = datetime.fromisoformat(latest.date.replace("Z", "+00:00"))
        except ValueError:
            return {}
        if self.now - captured < timedelta(hours=self.policy.refresh_hours):
            return None
        headers = {}
        if latest.etag:
            headers["If-None-Match"] = latest.etag
        if latest.last_modified:
            headers["If-Modified-Since"] = latest.last_modified
        self._count(STAT + "rechecked")
        return headers

    def parse(self, response: Response) -> Iterator[Request]:
        if response.status == 304:
            self._count(STAT + "unchanged")
            return
        self._count(STAT + "archived")
        yield from self.requests(response)

    def failed(self, failure: Failure) -> None:
        """Recorded by the recorder when there was a response; counted, never fatal."""
        self._count(STAT + "failed")
