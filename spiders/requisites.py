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
from lxml import html as lxml_html
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
        return not self.policy.excludes(url)

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
