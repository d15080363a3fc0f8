"""The news spider: discovers article pages the way the site exposes them, and fetches them.

It only discovers and fetches; the WARC recorder keeps every exchange and all processing happens
later, from the WARC. Discovery: robots.txt -> sitemaps (index, urlsets, .gz) -> article URLs,
plus the RSS/Atom feeds and the listing pages (with /page/N/ pagination) named in the profile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from twisted.python.failure import Failure
from w3lib.url import canonicalize_url

from flows.sites import (
    FEED_KINDS,
    SITEMAP_MAX_SIZE,
    ListingTooLarge,
    SiteProfile,
    load_profile,
    read_listing,
)
from flows.warc import CaptureIndex, read_entries
from spiders.budget import RunGuard, depth_of, one_line
from spiders.dates import conditional_headers
from spiders.recorder import KEEP_PAYLOAD, REVISITED
from spiders.requisites import RequisiteFetcher
from spiders.robots import MAX_RULES_BYTES, ROBOTS_META, RobotsRules, rules_part, sitemap_lines
from spiders.safety import FETCH_FAILURES, MAX_LISTED_FAILURES, describe_failure

_PAGE_RE = re.compile(r"/page/(\d+)/?$")
# Request meta flag: a known article no listing names any more, re-fetched for evidence of its
# deletion (a 404 or 410 then is that evidence, not a failed fetch).
_RECHECK = "newsvault_recheck_unlisted"


class NewsSpider(Spider):
    name = "news"
    requisites: RequisiteFetcher  # set in from_crawler (it needs the stats)

    def __init__(
        self,
        site: str = "replica",
        base_url: str | None = None,
        max_pages: str | int | None = None,
        full: str | bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.profile: SiteProfile = load_profile(site, base_url or None)
        self.allowed_domains = list(self.profile.allowed_domains)
        self.max_pages = int(max_pages) if max_pages not in (None, "", "0", 0) else None
        self.robots: RobotsRules | None = None
        self.full = str(full).lower() in ("1", "true", "yes")
        self.prior: CaptureIndex | None = None  # earlier runs' captures: incremental crawling
        self._listed: set[str] = set()
        self._rechecked = False
        self.sitemap_maxsize = SITEMAP_MAX_SIZE
        self._articles: set[str] = set()
        self._sitemaps: set[str] = set()
        self._failures: list[str] = []
        self._scheduled = 0  # article requests made: what --max-pages counts
        self._sitemaps_followed = 0
        self.guard: RunGuard  # set by from_crawler: the run's budget and failed documents

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if crawler.settings.getbool("NEWSVAULT_ROBOTS_OBEY"):
            spider.robots = RobotsRules(crawler.settings.get("USER_AGENT", ""))
        spider.sitemap_maxsize = crawler.settings.getint("NEWSVAULT_SITEMAP_MAXSIZE")
        prior = crawler.settings.get("NEWSVAULT_PRIOR_CAPTURES")
        if prior and not spider.full:
            spider.prior = CaptureIndex().load(read_entries(Path(prior)))
        spider.requisites = RequisiteFetcher(
            spider.profile.requisites,
            spider.allowed_domains,
            spider.prior,
            crawler,
            (spider.parse_requisite, spider.requisite_failed),
        )
        crawler.signals.connect(spider.recheck_unlisted, signal=signals.spider_idle)
        spider.guard = RunGuard(crawler, spider.profile.budget, spider._failures)
        crawler.signals.connect(spider.guard.check, signal=signals.response_received)
        return spider

    # -- entry ---------------------------------------------------------------------------
    async def start(self) -> Any:
        if self.profile.discovery.robots_txt or self.robots is not None:
            yield Request(
                self.profile.url("/robots.txt"),
                callback=self.parse_robots,
                errback=self.robots_failed,
                priority=100,
                meta={
                    ROBOTS_META: True,
                    KEEP_PAYLOAD: True,
                    "handle_httpstatus_all": True,
                    "dont_redirect": False,
                },
            )
        else:
            for request in self._entry_requests([]):
                yield request

    def _entry_requests(self, robots_sitemaps: list[str]) -> Iterator[Request]:
        discovery = self.profile.discovery
        sitemaps = robots_sitemaps or [self.profile.url(p) for p in discovery.sitemaps]
        for url in sitemaps:
            yield from self._sitemap_request(url)
        for path in discovery.feeds:
            yield Request(
                self.profile.url(path),
                callback=self.parse_feed,
                errback=self.fetch_failed,
                priority=50,
                meta={KEEP_PAYLOAD: True},
            )
        for path in discovery.listings:
            yield Request(
                self.profile.url(path),
                callback=self.parse_listing,
                errback=self.fetch_failed,
                priority=40,
            )

    # -- robots --------------------------------------------------------------------------
    def parse_robots(self, response: Response) -> Iterator[Request]:
        host = urlsplit(response.url).netloc
        body = response.text if response.status < 400 else ""
        if response.status >= 500:
            self.logger.error(
                "robots.txt answered %s: treating the site as disallowed", response.status
            )
            if self.robots is not None:
                self.robots.set(host, None)
            return
        rules, cut = rules_part(body)
        if cut:  # said in the log and the stats, never silently
            self.crawler.stats.inc_value("newsvault/robots_truncated")
            why = f"rules past the first {MAX_RULES_BYTES} bytes are ignored (RFC 9309 2.5)"
            self.logger.warning("robots.txt of %s is too long: %s", host, why)
        if self.robots is not None:
            self.robots.set(host, rules)
        sitemaps = (
            [url for url in sitemap_lines(body) if self.profile.allows(url)]
            if self.profile.discovery.robots_txt
            else []
        )
        yield from self._entry_requests(sitemaps)

    def fetch_failed(self, failure: Failure, *, count: bool = True) -> None:
        """Errback of every request: its final failure, with the reason, goes to the stats
        (``newsvault/fetch_failures``) and from there to the run report. ``count``: also in
        ``newsvault/fetch_failed``, the pages' failures health judges (requisites are apart)."""
        stats = self.crawler.stats
        assert stats is not None
        response = getattr(failure.value, "response", None)
        request = getattr(failure, "request", None)
        if isinstance(response, Response) and response.status == 304:
            stats.inc_value("newsvault/articles_not_modified")  # unchanged: no failure
            return
        if isinstance(response, Response) and response.status in (404, 410):
            if request is not None and request.meta.get(_RECHECK):  # the deletion's evidence
                stats.inc_value("newsvault/articles_gone")
                self.logger.info("gone: %s (HTTP %s)", request.url, response.status)
                return
        url = request.url if request is not None else "?"
        redirects = request.meta.get("redirect_urls") if request is not None else None
        if redirects:  # name the URL that was asked for, and where it led
            url = f"{redirects[0]} -> {url}"
        reason = describe_failure(failure)
        what = "fetch failed" if count else "requisite failed"
        self.logger.warning("%s: %s: %s", what, url, reason)
        if count:
            stats.inc_value("newsvault/fetch_failed")
        if len(self._failures) < MAX_LISTED_FAILURES:
            self._failures.append(f"{reason} | {url}")
            stats.set_value(FETCH_FAILURES, list(self._failures))

    def robots_failed(self, failure: Failure) -> Iterator[Request]:
        self.fetch_failed(failure)
        self.logger.warning(
            "robots.txt could not be fetched (%s); continuing without it", failure.getErrorMessage()
        )
        yield from self._entry_requests([])

    # -- sitemaps ------------------------------------------------------------------------
    def _sitemap_request(self, url: str, depth: int = 0) -> Iterator[Request]:
        key = canonicalize_url(url)
        if key in self._sitemaps or not self.profile.allows(url) or not self.guard.short(url):
            return
        budget = self.profile.budget
        if budget.sitemap_depth and depth > budget.sitemap_depth:
            self.guard.failed(
                url,
                f"sitemap index nested deeper than [budget] sitemap_depth = "
                f"{budget.sitemap_depth}: not followed",
                "newsvault/sitemaps_over_budget",
            )
            return
        if budget.sitemaps and self._sitemaps_followed >= budget.sitemaps:
            self.guard.stop(f"sitemaps: {budget.sitemaps} followed")
            return
        self._sitemaps.add(key)
        self._sitemaps_followed += 1
        yield Request(
            url,
            callback=self.parse_sitemap,
            errback=self.fetch_failed,
            priority=80,
            meta={KEEP_PAYLOAD: True, "sitemap_depth": depth},
        )

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        try:
            document = read_listing(response.body, response.url, max_size=self.sitemap_maxsize)
        except ListingTooLarge:
            self.guard.failed(
                response.url,
                "sitemap larger than the limit: skipped",
                "newsvault/sitemaps_too_large",
            )
            return
        except Exception as exc:  # noqa: BLE001 (one document's failure, whatever broke)
            self.guard.failed(
                response.url, f"unreadable sitemap: {one_line(exc)}", "newsvault/sitemaps_invalid"
            )
            return
        self.crawler.stats.inc_value("newsvault/sitemaps")
        self._unusable(response.url, document.unusable)
        depth = depth_of(response, "sitemap_depth") + 1
        if document.kind == "sitemapindex":
            urls = [entry.url for entry in document.urls]
            yield from self.guard.each(
                response.url, urls, lambda u: self._sitemap_request(u, depth)
            )
        elif document.kind == "urlset":
            lastmods = {entry.url: entry.lastmod for entry in document.urls}
            yield from self.guard.each(response.url, list(lastmods), self._listed_article(lastmods))

    def _unusable(self, source: str, links: tuple[str, ...]) -> None:
        for link in links:
            where = f"{link[:300]} (named by {source})"
            self.guard.failed(where, "unusable URL", "newsvault/urls_invalid")

    def _listed_article(
        self, lastmods: dict[str, str | None]
    ) -> Callable[[str], Iterator[Request]]:
        def request(url: str) -> Iterator[Request]:
            self._listed.add(canonicalize_url(url))
            yield from self._article_request(url, lastmod=lastmods.get(url))

        return request

    # -- feeds and listings --------------------------------------------------------------
    def parse_feed(self, response: Response) -> Iterator[Request]:
        self.crawler.stats.inc_value("newsvault/feeds")
        try:
            document = read_listing(response.body, response.url, max_size=self.sitemap_maxsize)
        except Exception as exc:  # noqa: BLE001 (one document's failure, whatever broke)
            self.guard.failed(
                response.url, f"unreadable feed: {one_line(exc)}", "newsvault/feeds_invalid"
            )
            return
        if document.kind not in FEED_KINDS:
            return
        self._unusable(response.url, document.unusable)
        urls = [entry.url for entry in document.urls]
        yield from self.guard.each(response.url, urls, self._listed_article({}))

    def parse_listing(self, response: Response) -> Iterator[Request]:
        self.crawler.stats.inc_value("newsvault/listings")
        try:
            hrefs = response.css("a::attr(href)").getall()
        except Exception as exc:  # noqa: BLE001 (one document's failure, whatever broke)
            self.guard.failed(
                response.url, f"unreadable listing: {one_line(exc)}", "newsvault/listings_invalid"
            )
            return
        depth = depth_of(response, "listing_depth") + 1
        yield from self.guard.each(
            response.url, hrefs, lambda h: self._listed_link(response, h, depth)
        )
        yield from self.requisites.requests(response)

    def _listed_link(self, response: Response, href: str, depth: int) -> Iterator[Request]:
        url = urljoin(response.url, href.strip())
        if not self.profile.allows(url):
            return
        page = _PAGE_RE.search(urlsplit(url).path)
        if page and int(page.group(1)) <= self.profile.discovery.listing_max_pages:
            limit = self.profile.budget.listing_depth
            if limit and depth > limit:
                self.crawler.stats.inc_value("newsvault/listings_over_budget")
                return
            if self.guard.short(url):
                yield Request(
                    url,
                    callback=self.parse_listing,
                    errback=self.fetch_failed,
                    priority=30,
                    meta={"listing_depth": depth},
                )
        else:
            yield from self._article_request(url)

    # -- articles ------------------------------------------------------------------------
    def _article_request(self, url: str, lastmod: str | None = None) -> Iterator[Request]:
        if not self._is_article_url(url):
            return
        key = canonicalize_url(url)
        if key in self._articles:
            return
        headers = self._conditional_headers(url, lastmod)
        if headers is None:  # not counted by --max-pages: it counts pages fetched
            self._articles.add(key)
            self.crawler.stats.inc_value("newsvault/articles_unchanged_by_lastmod")
            return
        if self.max_pages is not None and self._scheduled >= self.max_pages:
            self.crawler.stats.inc_value("newsvault/articles_over_limit")
            return
        if not self.guard.short(url):
            return
        self._articles.add(key)
        self._scheduled += 1
        self.crawler.stats.inc_value("newsvault/articles_scheduled")
        if headers:
            self.crawler.stats.inc_value("newsvault/articles_conditional")
        yield Request(
            url,
            callback=self.parse_article,
            errback=self.fetch_failed,
            priority=10,
            headers=headers,
            meta={"lastmod": lastmod},
        )

    def _conditional_headers(self, url: str, lastmod: str | None) -> dict[str, str] | None:
        latest = self.prior.latest(url) if self.prior is not None else None
        return conditional_headers(latest, lastmod, self.profile.discovery.recheck_days)

    def recheck_unlisted(self) -> None:
        """Once the crawl is idle: re-fetch known articles no sitemap or feed names any more,
        so a deletion is recorded with its evidence (404, 410 or a redirect)."""
        if self._rechecked or self.prior is None or not self._listed:
            return
        self._rechecked = True
        limit = self.profile.discovery.recheck_unlisted
        for url in self.prior.uris():
            if limit <= 0:
                break
            key = canonicalize_url(url)
            latest = self.prior.latest(url)
            if key in self._listed or key in self._articles or latest is None:
                continue
            if latest.status not in (200, 304) or not self._is_article_url(url):
                continue
            limit -= 1
            self._articles.add(key)
            self.crawler.stats.inc_value("newsvault/articles_rechecked_unlisted")
            assert self.crawler.engine is not None
            self.crawler.engine.crawl(
                Request(
                    url,
                    callback=self.parse_article,
                    errback=self.fetch_failed,
                    priority=5,
                    dont_filter=True,
                    meta={_RECHECK: True},
                )
            )

    def parse_article(self, response: Response) -> Iterator[Request]:
        # The recorder has the exchange; processing reads it from the WARC later.
        self.crawler.stats.inc_value("newsvault/articles_fetched")
        if response.meta.get(REVISITED):  # the payload was already archived
            self.crawler.stats.inc_value("newsvault/articles_unchanged_identical")
        yield from self.requisites.requests(response)

    def parse_requisite(self, response: Response) -> Iterator[Request]:
        yield from self.requisites.parse(response)

    def requisite_failed(self, failure: Failure) -> None:
        """Counted apart, and listed with the fetch failures in the run report."""
        self.requisites.failed(failure)
        self.fetch_failed(failure, count=False)

    def _is_article_url(self, url: str) -> bool:
        return self.profile.allows(url) and self.profile.is_article_url(url)
