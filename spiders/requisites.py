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

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url

from flows.sites import Requisites, host_allowed
from flows.warc import CaptureIndex, css_urls, html_urls

REQUISITE_META = "newsvault_requisite"
STAT = "newsvault/requisites_"  # + archived, rechecked, unchanged, fresh, excluded, failed


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
