"""What keeps one crawl bounded and one bad document harmless.

The run's ``[budget]`` (``flows.sites.Budget``) ends the crawl at its first limit, with the limit
named in the stats (``BUDGET_REACHED``) and so in the run report; a document that cannot be read
(a sitemap, a feed, a listing, one link in them) is that document's failure: counted, listed with
the fetch failures, and the crawl goes on with the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector
from scrapy.utils.defer import deferred_from_coro

from flows.sites import Budget
from spiders.safety import FETCH_FAILURES, MAX_LISTED_FAILURES

URL_MAX_LENGTH = 2083  # Scrapy's URLLENGTH_LIMIT: longer URLs are refused here, with a word
BUDGET_REACHED = "newsvault/budget_reached"  # stats key: which limit of [budget] ended the crawl
log = logging.getLogger("spiders.budget")


class RunGuard:
    """The crawl's budget and its list of failed documents (one per crawl)."""

    def __init__(self, crawler: Crawler, budget: Budget, failures: list[str]) -> None:
        self.crawler = crawler
        self.budget = budget
        self.failures = failures  # shared with the spider's errback: one list in the stats

    @property
    def stats(self) -> StatsCollector:
        stats = self.crawler.stats
        assert stats is not None
        return stats

    def check(self) -> None:
        """After each response: stop the crawl at the run's request or byte limit."""
        requests = int(self.stats.get_value("downloader/request_count", 0))
        size = int(self.stats.get_value("downloader/response_bytes", 0))
        if self.budget.requests and requests >= self.budget.requests:
            self.stop(f"requests: {requests} of {self.budget.requests}")
        elif self.budget.bytes and size >= self.budget.bytes:
            self.stop(f"bytes: {size} of {self.budget.bytes}")

    def stop(self, reason: str) -> None:
        """End the crawl (what is in flight is still recorded) and say which limit did it."""
        if self.stats.get_value(BUDGET_REACHED):
            return
        log.warning("run budget reached (%s): the crawl stops here", reason)
        self.stats.set_value(BUDGET_REACHED, reason)
        engine = self.crawler.engine
        assert engine is not None
        deferred_from_coro(engine.close_spider_async(reason=f"budget: {reason}"))

    def failed(self, url: str, reason: str, stat: str) -> None:
        """One document (sitemap, feed, listing, link) could not be used: counted, named in the
        run report, and the crawl goes on with the rest."""
        log.warning("%s: %s", reason, url)
        self.stats.inc_value(stat)
        if len(self.failures) < MAX_LISTED_FAILURES:
            self.failures.append(f"{reason} | {url}")
            self.stats.set_value(FETCH_FAILURES, list(self.failures))

    def each(
        self, source: str, urls: Iterable[str], make: Callable[[str], Iterator[Request]]
    ) -> Iterator[Request]:
        """``make(url)`` for each URL a document names; a URL that breaks it (a broken host,
        a control character) is that URL's failure only, never the rest of the document's."""
        for url in urls:
            try:
                yield from make(url)
            except ValueError as exc:
                where = f"{url[:300]} (named by {source})"
                self.failed(where, f"unusable URL: {one_line(exc)}", "newsvault/urls_invalid")

    def short(self, url: str) -> bool:
        """A URL longer than browsers take is refused with a word (never dropped silently)."""
        if len(url) <= URL_MAX_LENGTH:
            return True
        self.failed(
            url[:300] + "…",
            f"URL of {len(url)} characters (over {URL_MAX_LENGTH}): not fetched",
            "newsvault/urls_too_long",
        )
        return False


def depth_of(response: Response, key: str) -> int:
    """A depth the request carried (0 for a response built without its request)."""
    request = response.request
    return int(request.meta.get(key, 0)) if request is not None else 0


def one_line(exc: BaseException) -> str:
    """One line naming what broke (never a traceback: the document is named in the report)."""
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
