"""Downloader middlewares that make the crawler careful: where it may go, and how it waits.

``AddressGuardMiddleware`` (SSRF guard) refuses any request, redirects included, to a host
outside the spider's ``allowed_domains``, to a non-HTTP scheme, or to an address that is private,
loopback, link-local, multicast or reserved (IP literals, and host names resolved through DNS).
A profile whose own base URL is loopback (the replica) may fetch that host *and port* only, so a
redirect from it to another local service (S3 on :8333, Prefect on :4200) is still refused; the
profile's requisite hosts (the replica's image CDN, 127.0.0.2) are allowed the same way, by name.
Scrapy's own OffsiteMiddleware skips ``dont_filter`` requests; this one checks every request.

``RetryAfterMiddleware`` honours ``Retry-After`` on 429 and 503 (Scrapy's RetryMiddleware
retries at once): it waits that long without blocking the reactor, then retries through
``get_retry_request`` (so ``RETRY_TIMES`` still caps it). A wait longer than
``NEWSVAULT_RETRY_AFTER_MAX`` seconds is not honoured by waiting: the URL is given up for this run.

``describe_failure`` turns a request's final failure into the one-line reason the run report
lists (``newsvault/fetch_failures`` in the crawl's stats, written by the spider's errback).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.asyncio import sleep
from twisted.internet import error as net_error
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed

from flows.sites import host_allowed

Resolver = Callable[[str], list[str]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_PORTS = {"http": 80, "https": 443}
FETCH_FAILURES = "newsvault/fetch_failures"  # stats key: list of "reason | url"
MAX_LISTED_FAILURES = 1000


@lru_cache(maxsize=4096)
def _resolve(host: str) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return ()  # unresolvable: the download itself fails with a DNS error
    return tuple(sorted({str(info[4][0]) for info in infos}))


def resolve(host: str) -> list[str]:
    return list(_resolve(host))


def is_public(address: IpAddress) -> bool:
    """False for private, loopback, link-local, multicast, reserved and unspecified addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else DEFAULT_PORTS.get(scheme, 0)


class AddressGuard:
    """Decides whether a URL may be fetched for a site (see the module docstring)."""

    def __init__(
        self,
        base_url: str,
        allowed_domains: list[str],
        resolver: Resolver = resolve,
        local_hosts: tuple[str, ...] = (),
    ) -> None:
        base = urlsplit(base_url)
        self.base_host = (base.hostname or "").lower()
        self.base_port = _port(base.scheme, base.port)
        self.allowed = [d.lower() for d in allowed_domains]
        self.resolver = resolver
        self.local_base = self._local(self.base_host)
        self.local_hosts = {self.base_host, *(h.lower() for h in local_hosts)}

    def _local(self, host: str) -> bool:
        try:
            return not is_public(ipaddress.ip_address(host))
        except ValueError:
            return host == "localhost"

    def refusal(self, url: str) -> str | None:
        """None if the URL may be fetched, else why not (one line)."""
        try:
            parts = urlsplit(url)
            port = _port(parts.scheme, parts.port)
        except ValueError:
            return f"refused: malformed URL {url!r}"
        host = (parts.hostname or "").lower()
        if parts.scheme not in DEFAULT_PORTS:
            return f"refused: scheme {parts.scheme!r} is not http(s)"
        if not host_allowed(host, self.allowed):
            return f"refused: offsite host {host!r}"
        if self.local_base and host in self.local_hosts and port == self.base_port:
            return None  # the profile's own loopback site (the replica) and its named CDN
        try:
            addresses = [ipaddress.ip_address(host)]
        except ValueError:
            addresses = []
            for text in self.resolver(host):
                try:
                    addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
                except ValueError:
                    continue
        for address in addresses:
            if not is_public(address):
                return f"refused: {host}:{port} is a private or loopback address ({address})"
        return None


class AddressGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._guard: AddressGuard | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        return cls(crawler)

    def guard(self) -> AddressGuard:
        if self._guard is None:
            spider: Any = self.crawler.spider
            profile = getattr(spider, "profile", None)
            base = profile.base_url if profile is not None else ""
            cdn = tuple(profile.requisites.hosts) if profile is not None else ()
            domains = list(getattr(spider, "allowed_domains", []) or [])
            self._guard = AddressGuard(base, [*domains, *cdn], local_hosts=cdn)
        return self._guard

    def process_request(self, request: Request) -> None:
        reason = self.guard().refusal(request.url)
        if reason is not None:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("newsvault/refused_requests")
            raise IgnoreRequest(reason)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent or odd."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    STATUSES = (429, 503)

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("NEWSVAULT_RETRY_AFTER_MAX", 120.0)
        self.max_retries = crawler.settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in self.STATUSES or request.meta.get("dont_retry"):
            return response
        raw = response.headers.get(b"Retry-After")
        wait = retry_after_seconds(raw.decode("latin-1") if raw else None)
        if wait is None:
            return response  # RetryMiddleware retries it as usual
        stats = self.crawler.stats
        assert stats is not None
        if wait > self.max_wait:
            stats.inc_value("newsvault/retry_after_too_long")
            request.meta["dont_retry"] = True
            request.meta["newsvault_retry_after"] = wait
            return response
        spider: Spider | None = self.crawler.spider
        assert spider is not None
        retry = get_retry_request(
            request,
            spider=spider,
            reason=f"{response.status} Retry-After",
            max_retry_times=request.meta.get("max_retry_times", self.max_retries),
        )
        if retry is None:
            request.meta["dont_retry"] = True
            return response
        stats.inc_value("newsvault/retry_after_honoured")
        stats.inc_value("newsvault/retry_after_seconds", round(wait))
        await sleep(wait)
        return retry


def describe_failure(failure: Failure) -> str:
    """One line: why a request finally failed (after retries and redirects)."""
    request = getattr(failure, "request", None)
    retries = int(request.meta.get("retry_times", 0)) if request is not None else 0
    after = f" after {retries} retries" if retries else ""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        wait = request.meta.get("newsvault_retry_after") if request is not None else None
        if wait is not None:
            return f"HTTP {status} with Retry-After {wait:.0f}s (too long to wait){after}"
        return f"HTTP {status}{after}"
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or "ignored"
        if "exceeded DOWNLOAD_MAXSIZE" in text:
            return "refused: decompressed body larger than DOWNLOAD_MAXSIZE (gzip bomb?)"
        return text.splitlines()[0][:300]
    if isinstance(exc, DownloadTimeoutError | net_error.TimeoutError | TimeoutError):
        return f"timeout{after}"
    if isinstance(exc, ResponseDataLossError):
        return f"truncated body (data loss){after}"
    if isinstance(exc, DownloadCancelledError | CancelledError):
        return f"download cancelled: larger than DOWNLOAD_MAXSIZE{after}"
    if isinstance(exc, DownloadConnectionRefusedError):
        return f"connection refused{after}"
    if isinstance(exc, CannotResolveHostError):
        return f"DNS lookup failed{after}"
    if isinstance(exc, DownloadFailedError):
        return f"download failed ({str(exc).splitlines()[0][:200]}){after}"
    if isinstance(exc, ResponseFailed):
        inner = ", ".join(type(r.value).__name__ for r in exc.reasons if isinstance(r, Failure))
        if "_DataLoss" in inner or "PotentialDataLoss" in inner:
            return f"truncated body (data loss){after}"
        return f"connection failed ({inner or 'ResponseFailed'}){after}"
    if isinstance(exc, net_error.ConnectionLost | net_error.ConnectionDone):
        return f"connection reset{after}"
    if isinstance(exc, net_error.ConnectionRefusedError):
        return f"connection refused{after}"
    if isinstance(exc, net_error.DNSLookupError):
        return f"DNS lookup failed{after}"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300] + after
