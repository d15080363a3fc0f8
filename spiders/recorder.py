"""Scrapy downloader middleware that records every HTTP exchange into the WARC spool.

It sits next to the download handler (priority 950, above HttpCompression at 590 and Redirect at
600), so it sees each response exactly as received: still content-encoded, before redirects are
followed or errors filtered. robots.txt, sitemaps, redirects and 4xx/5xx are all recorded.
"""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from spiders.warcspool import DEFAULT_MAX_SIZE, Exchange, WarcSpool

FETCH_START = "newsvault_fetch_start"


def software_line() -> str:
    parts = [f"{name} {version(name)}" for name in ("scrapy", "warcio")]
    return (
        f"newsvault/{version('newsvault')} ({', '.join(parts)}; Python {platform.python_version()})"
    )


def _host_header(url: str) -> bytes:
    parts = urlsplit(url)
    host = parts.hostname or ""
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port and parts.port != default:
        host = f"{host}:{parts.port}"
    return host.encode("idna") if not host.isascii() else host.encode("ascii")


def _request_target(url: str) -> bytes:
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target.encode("ascii", "backslashreplace")


class WarcRecorderMiddleware:
    def __init__(self, spool: WarcSpool) -> None:
        self.spool = spool
        self.stats: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcRecorderMiddleware:
        settings = crawler.settings
        directory = settings.get("NEWSVAULT_WARC_DIR")
        if not directory:
            raise NotConfigured("NEWSVAULT_WARC_DIR is not set: recording is off")
        prefix = settings.get("NEWSVAULT_WARC_PREFIX") or "newsvault"
        obey = settings.getbool("ROBOTSTXT_OBEY") or settings.getbool("NEWSVAULT_ROBOTS_OBEY")
        warcinfo = {
            "software": software_line(),
            "format": "WARC File Format 1.1",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "robots": "obey" if obey else "ignore",
            "http-header-user-agent": settings.get("USER_AGENT", ""),
            "isPartOf": prefix,
            "description": settings.get("NEWSVAULT_WARC_DESCRIPTION", "newsvault crawl"),
        }
        spool = WarcSpool(
            Path(directory),
            prefix,
            warcinfo,
            max_size=settings.getint("NEWSVAULT_WARC_MAX_SIZE", DEFAULT_MAX_SIZE),
        )
        middleware = cls(spool)
        middleware.stats = crawler.stats
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request) -> None:
        request.meta[FETCH_START] = datetime.now(UTC)

    def process_response(self, request: Request, response: Response) -> Response:
        started = request.meta.get(FETCH_START) or datetime.now(UTC)
        request_headers = [(b"Host", _host_header(request.url))]
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
            request_target=_request_target(request.url),
            request_headers=tuple(request_headers),
            request_body=request.body,
            status=response.status,
            response_headers=tuple(response_headers),
            response_body=response.body,
            fetched_at=started,
            ip_address=str(response.ip_address) if response.ip_address else None,
            protocol=response.protocol or "HTTP/1.1",
        )
        self.spool.write_exchange(exchange)
        if self.stats is not None:
            self.stats.inc_value("newsvault/warc_records", 2)
            self.stats.inc_value("newsvault/warc_payload_bytes", len(response.body))
            self.stats.inc_value(f"newsvault/warc_status/{response.status}")
        return response

    def spider_closed(self, spider: Spider) -> None:
        files = self.spool.close()
        if self.stats is not None:
            self.stats.set_value("newsvault/warc_files", len(files))
