"""A page's charset and meta refresh are read from its head (issue 14): a huge page is never
decoded whole before the spider (``response.text``, up to 4 bytes a character), and the same
redirects are followed and the same odd charsets counted as when Scrapy read the whole page."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

from scrapy import Request, Spider
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from spiders.pagehead import (
    HEAD_BYTES,
    DeclaredEncodingMiddleware,
    HeadMetaRefreshMiddleware,
    declared_charset,
)

URL = "http://127.0.0.1:8765/2017/07/a/"
# Curly quotes: decoded, every character of the page would take 2 bytes
BULK = "<p>The minister’s “agreement” covers training.</p>\n".encode() * 200_000  # ~10 MB
REFRESH = b'<meta http-equiv="refresh" content="0; url=/moved/">'


def page(head: bytes, content_type: str = "text/html; charset=utf-8") -> HtmlResponse:
    body = b"<html><head>" + head + b"</head><body>" + BULK + b"</body></html>"
    return HtmlResponse(URL, body=body, headers={"Content-Type": content_type})


def peak_allocated(call: Callable[[], object]) -> int:
    """Bytes Python allocated at most during ``call`` (deterministic, not a timing)."""
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def middlewares() -> tuple[DeclaredEncodingMiddleware, HeadMetaRefreshMiddleware]:
    crawler = get_crawler(Spider)
    crawler.stats.open_spider()
    declared = DeclaredEncodingMiddleware.from_crawler(crawler)
    return declared, HeadMetaRefreshMiddleware.from_crawler(crawler)


def through(response: Response) -> Callable[[], Request | Response]:
    """The response through both middlewares, as Scrapy chains them (585, then 580)."""
    declared, refresh = middlewares()
    request = Request(URL)
    return lambda: refresh.process_response(request, declared.process_response(request, response))


def test_a_meta_refresh_in_a_huge_pages_head_is_followed_without_decoding_the_page() -> None:
    response = page(REFRESH)
    assert len(response.body) > 100 * HEAD_BYTES
    result: list[Request | Response] = []
    chain = through(response)
    peak = peak_allocated(lambda: result.append(chain()))
    assert isinstance(result[0], Request)
    assert result[0].url == "http://127.0.0.1:8765/moved/"
    assert peak < len(response.body) // 4  # the whole page decoded would be 2x its size


def test_a_huge_page_without_refresh_goes_on_as_it_is() -> None:
    for head in (b"", b'<meta charset="utf-8">'):
        response = page(head, content_type="text/html")
        assert through(response)() is response
        assert peak_allocated(through(response)) < len(response.body) // 4
    assert declared_charset(page(b"", content_type="text/html")) is None


def test_a_huge_page_declaring_a_codec_is_counted_and_read_as_utf8() -> None:
    response = page(REFRESH, content_type="text/html; charset=rot13")
    assert declared_charset(response) == "rot-13"
    declared, refresh = middlewares()
    request = Request(URL)
    readable = declared.process_response(request, response)
    assert isinstance(readable, HtmlResponse) and readable.encoding == "utf-8"
    result = refresh.process_response(request, readable)
    assert isinstance(result, Request) and result.url.endswith("/moved/")
    assert declared.stats.get_value("newsvault/charsets_not_text") == 1
