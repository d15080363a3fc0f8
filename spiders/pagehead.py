"""What the crawl reads of a page before its spider: the charset it declares and a meta-refresh
redirect in its head, never by decoding the whole page.

Scrapy's ``response.text`` is the whole body decoded and cached on the response, up to 4 bytes a
character; its ``MetaRefreshMiddleware`` took it to read 4096 characters, and
``response.encoding`` takes it to infer a charset nothing declares (bench row M's 30 MB page,
curly quotes in it, so 2 bytes a character decoded: 78 MiB more at the crawl's peak). Here the
charset is read as Scrapy reads a declared one (byte order mark, ``Content-Type``, a ``<meta>``
in the first 4096 bytes) and the meta refresh from a response made of the body's first
``HEAD_BYTES``: at least those 4096 characters in any encoding, so the same redirects are
followed.
"""

from __future__ import annotations

import codecs
import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.statscollectors import StatsCollector
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

log = logging.getLogger("spiders.pagehead")


def declared_charset(response: TextResponse) -> str | None:
    """The encoding a page declares (byte order mark, Content-Type, or a ``<meta>`` in its first
    4096 bytes), as Scrapy reads it first, without decoding the page."""
    content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    head = response.body[:4096]
    found: str | None = (
        read_bom(head)[0]
        or http_content_type_encoding(content_type)
        or html_body_declared_encoding(head)
    )
    return found


class DeclaredEncodingMiddleware:
    """A page that declares a charset which is no text encoding (``rot13``, ``base64``) is read
    as UTF-8 by the crawl (Scrapy's meta-refresh check would fail it with a LookupError although
    the recorder, earlier in the chain, archived it as received); counted and named in the log."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DeclaredEncodingMiddleware:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse):
            return response
        declared = declared_charset(response)
        if declared is None:  # Scrapy infers a text encoding (never ``response.encoding`` here:
            return response  # inferring it decodes the whole page, 4 bytes a character)
        try:
            text = codecs.lookup(declared)._is_text_encoding
        except LookupError:
            declared, text = "?", False
        if text:
            return response
        log.warning(
            "%s declares charset %s, not a text encoding: read as UTF-8", response.url, declared
        )
        self.stats.inc_value("newsvault/charsets_not_text")
        return response.replace(encoding="utf-8")


HEAD_BYTES = 4 * 4096  # Scrapy reads 4096 characters; no encoding takes more than 4 bytes each


def page_head(response: HtmlResponse) -> HtmlResponse:
    """The response with its body cut to ``HEAD_BYTES``, read in the page's encoding when one
    is declared or set (``DeclaredEncodingMiddleware``), else in the one its head suggests."""
    encoding = response.encoding if declared_charset(response) is not None else None
    return HtmlResponse(
        response.url,
        status=response.status,
        headers=response.headers,
        body=response.body[:HEAD_BYTES],
        encoding=encoding,
        flags=response.flags,
        request=response.request,
        ip_address=response.ip_address,
        protocol=response.protocol,
    )


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta-refresh handling, given the page's head instead of the page."""

    def process_response(
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if not isinstance(response, HtmlResponse) or len(response.body) <= HEAD_BYTES:
            return super().process_response(request, response)
        head = page_head(response)
        result: Request | Response = super().process_response(request, head)
        return response if result is head else result
