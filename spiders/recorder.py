"""Scrapy downloader middleware that records every HTTP exchange into the WARC spool.

It sits next to the download handler (priority 950, above HttpCompression at 590 and Redirect at
600), so it sees each response exactly as received: still content-encoded, before redirects are
followed or errors filtered. robots.txt, sitemaps, redirects and 4xx/5xx are all recorded.

A response whose payload the archive already holds (an earlier run's, listed in the file named by
``NEWSVAULT_PRIOR_CAPTURES``, or this run's) is written as an identical-payload revisit; a 304 as
a server-not-modified revisit of the URL's latest capture (see ``flows.warc.captures``).

Records are deflated and written by the WARC writer process (``spiders.memberwriter``; setting
``NEWSVAULT_WARC_WRITER_PROCESS``, on by default, off writes them inline on the reactor thread).
The running stat ``newsvault/warc_records_on_disk`` counts the records already written to their
files (warcinfo included): what a crawl killed at that moment keeps.
"""

from __future__ import annotations

import errno
import logging
import platform
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro

from flows.warc import CaptureEntry, CaptureIndex, Ref, read_entries
from spiders.warcspool import (
    DEFAULT_MAX_SIZE,
    IDENTICAL_PAYLOAD,
    SERVER_NOT_MODIFIED,
    Exchange,
    RevisitOf,
    WarcSpool,
    payload_digest,
    warc_date,
)

log = logging.getLogger("spiders.recorder")
FETCH_START = "newsvault_fetch_start"
ON_DISK = "newsvault/warc_records_on_disk"


def software_line() -> str:
    parts = [f"{name} {version(name)}" for name in ("scrapy", "warcio")]
    return (
        f"newsvault/{version('newsvault')} ({', '.join(parts)}; Python {platform.python_version()})"
    )


def warcinfo_fields(settings: Any) -> dict[str, str]:
    """The warcinfo record of every WARC file: software, robots policy, user agent."""
    obey = settings.getbool("ROBOTSTXT_OBEY") or settings.getbool("NEWSVAULT_ROBOTS_OBEY")
    return {
        "software": software_line(),
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "robots": "obey" if obey else "ignore",
        "http-header-user-agent": settings.get("USER_AGENT", ""),
        "isPartOf": settings.get("NEWSVAULT_WARC_PREFIX") or "newsvault",
        "description": settings.get("NEWSVAULT_WARC_DESCRIPTION", "newsvault crawl"),
    }


def host_and_target(url: str) -> tuple[bytes, bytes]:
    """The ``Host`` header and the request target (path and query) of ``url``, as sent."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets (RFC 9110, 7.2)
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port
    if port and port != default:
        host = f"{host}:{port}"
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return (
        host.encode("idna") if not host.isascii() else host.encode("ascii"),
        target.encode("ascii", "backslashreplace"),
    )


# Request meta flag: record this response in full even if its payload is already archived.
# Set by the spider on robots.txt, sitemaps and feeds, so that every run holds the complete
# listing it was discovered from (deletion-by-disappearance is judged from it); they are small.
KEEP_PAYLOAD = "newsvault_keep_payload"
# Response meta flag set here: the payload was already archived (an identical-payload or a 304
# revisit), so the spider counts the page as unchanged.
REVISITED = "newsvault_revisited"


def revisit_for(index: CaptureIndex, url: str, status: int, digest: str) -> RevisitOf | None:
    """How to record a response given what the archive holds: None means a full response."""
    if status == 304:
        latest = index.latest(url)
        source = latest.payload_source if latest else None
        if latest is None or source is None:
            return RevisitOf(SERVER_NOT_MODIFIED)
        return RevisitOf(SERVER_NOT_MODIFIED, source.id, source.uri, source.date, latest.digest)
    original = index.original(digest)
    if original is None:
        return None
    return RevisitOf(IDENTICAL_PAYLOAD, original.id, original.uri, original.date, digest)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class WarcRecorderMiddleware:
    def __init__(self, spool: WarcSpool, index: CaptureIndex | None = None) -> None:
        self.spool = spool
        self.index = index or CaptureIndex()
        self.stats: Any = None
        self.crawler: Crawler | None = None
        self.full = False

    def _disk_full(self, exc: OSError) -> None:
        """The spool's disk is full: every later page would only fail the same way, so the
        crawl ends now (finish reason ``disk_full``) and the run says so."""
        if self.full or self.crawler is None or self.crawler.engine is None:
            return
        self.full = True
        log.error("the spool's disk is full (%s): the crawl stops", exc)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="disk_full"))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        settings = crawler.settings
        directory = settings.get("NEWSVAULT_WARC_DIR")
        if not directory:
            raise NotConfigured("NEWSVAULT_WARC_DIR is not set: recording is off")
        prefix = settings.get("NEWSVAULT_WARC_PREFIX") or "newsvault"
        warcinfo = warcinfo_fields(settings)
        spool = WarcSpool(
            Path(directory),
            prefix,
            warcinfo,
            max_size=settings.getint("NEWSVAULT_WARC_MAX_SIZE", DEFAULT_MAX_SIZE),
            background=settings.getbool("NEWSVAULT_WARC_WRITER_PROCESS", True),
        )
        index = CaptureIndex()
        prior = settings.get("NEWSVAULT_PRIOR_CAPTURES")
        if prior:
            index.load(read_entries(Path(prior)))
        middleware = cls(spool, index)
        middleware.stats = crawler.stats
        middleware.crawler = crawler
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request) -> None:
        request.meta[FETCH_START] = datetime.now(UTC)

    def process_response(self, request: Request, response: Response) -> Response:
        started = request.meta.get(FETCH_START) or datetime.now(UTC)
        host, target = host_and_target(request.url)
        request_headers = [(b"Host", host)]
        request_headers += [
            (name, value)
            for name, values in request.headers.items()
            if name.lower() != b"host"
            for value in values
        ]
        response_headers = [
            (name, value) for name, values in response.headers.items() for value in values
        ]
        exchange = Exchange(
            url=response.url if response.url == request.url else request.url,
            method=request.method.encode("ascii"),
            request_target=target,
            request_headers=tuple(request_headers),
            request_body=request.body,
            status=response.status,
            response_headers=tuple(response_headers),
            response_body=response.body,
            fetched_at=started,
            ip_address=str(response.ip_address) if response.ip_address else None,
            protocol=response.protocol or "HTTP/1.1",
        )
        digest = payload_digest(response.body)
        revisit = None
        if request.meta.get(KEEP_PAYLOAD) is None:
            revisit = revisit_for(self.index, exchange.url, response.status, digest)
        try:
            written, _ = self.spool.write_exchange(exchange, revisit, digest)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT) or self.crawler is None:
                raise
            self._disk_full(exc)
            raise IgnoreRequest(f"not recorded: {exc}") from exc
        if revisit is not None:
            request.meta[REVISITED] = True
        self.index.add(
            CaptureEntry(
                uri=exchange.url,
                date=warc_date(started),
                id=written.record_id,
                type=written.record_type,
                status=response.status,
                digest=revisit.digest if revisit is not None else digest,
                etag=_header(response_headers, b"etag"),
                last_modified=_header(response_headers, b"last-modified"),
                file=written.path.name,
                refers_to=None
                if revisit is None or not revisit.record_id
                else Ref(revisit.record_id, revisit.target_uri, revisit.date),
            )
        )
        if self.stats is not None:
            self.stats.inc_value("newsvault/warc_records", 2)
            if revisit is not None:
                self.stats.inc_value("newsvault/warc_revisits")
            self.stats.inc_value("newsvault/warc_payload_bytes", len(response.body))
            self.stats.inc_value(f"newsvault/warc_status/{response.status}")
            self.stats.set_value(ON_DISK, self.spool.records_on_disk)
        return response

    def spider_closed(self, spider: Spider) -> None:
        try:
            files = self.spool.close()
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            log.error("could not close the open WARC file (%s): the next run cuts its tail", exc)
            return
        if self.stats is not None:
            self.stats.set_value("newsvault/warc_files", len(files))
            self.stats.set_value(ON_DISK, self.spool.records_on_disk)
