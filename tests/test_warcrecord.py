"""Records serialised by ``spiders.warcrecord`` are the bytes warcio's record builder writes for
the same records (what the spool wrote through warcio before), field order included."""

from __future__ import annotations

from io import BytesIO
from typing import Any

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from spiders.warcrecord import header_block, http_record, warcinfo_record

URL = "http://127.0.0.1:8765/caf%C3%A9/?q=1"
RESPONSE_BLOCK = header_block(
    b"HTTP/1.1 200 OK",
    [(b"Content-Type", b"image/jpeg"), (b"X-Caf\xc3\xa9", b"d\xe9j\xe0 vu"), (b"Etag", b'"1"')],
)
REQUEST_BLOCK = header_block(b"POST /caf%C3%A9/?q=1 HTTP/1.1", [(b"Host", b"127.0.0.1:8765")])
BASE = [("WARC-Record-ID", "<urn:uuid:2>"), ("WARC-Date", "2017-07-23T14:32:05.123456Z")]
REVISIT = [
    ("WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"),
    ("WARC-Refers-To", "<urn:uuid:1>"),
    ("WARC-Payload-Digest", "sha1:HZAYHJDHPBYY2DBIRSUU4D6ESHUV7F6T"),
]


class _RawHeaders(StatusAndHeaders):  # type: ignore[misc]
    """Headers whose serialised form is the exact bytes given (how the spool used warcio)."""

    def __init__(self, raw: bytes) -> None:
        super().__init__("200 OK", [], protocol="HTTP/1.1")
        self._raw = raw

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        self.headers_buff = self._raw


def _warcio(record_type: str, fields: list[tuple[str, str]], block: bytes, body: bytes) -> bytes:
    out = BytesIO()
    writer = WARCWriter(out, gzip=False, warc_version="1.1")
    payload = {} if record_type == "revisit" else {"payload": BytesIO(body), "length": len(body)}
    record = writer.create_warc_record(
        URL, record_type, http_headers=_RawHeaders(block), warc_headers_dict=dict(fields), **payload
    )
    writer.write_record(record)
    return out.getvalue()


@pytest.mark.parametrize(
    ("record_type", "fields", "block", "body"),
    [
        ("response", [*BASE, ("WARC-IP-Address", "127.0.0.1")], RESPONSE_BLOCK, b"\xff\xd8" * 900),
        ("response", BASE, RESPONSE_BLOCK, b""),
        ("request", [*BASE, ("WARC-Concurrent-To", "<urn:uuid:3>")], REQUEST_BLOCK, b"a=1&b=2"),
        ("request", BASE, REQUEST_BLOCK, b""),
        ("revisit", BASE + REVISIT, RESPONSE_BLOCK, b"not written"),
        ("revisit", BASE + REVISIT[:1], RESPONSE_BLOCK, b""),
    ],
)
def test_http_records_are_warcios_bytes(
    record_type: str, fields: list[tuple[str, str]], block: bytes, body: bytes
) -> None:
    ours = b"".join(http_record(fields, record_type, URL, block, body))
    assert ours == _warcio(record_type, fields, block, body)


def test_a_given_payload_digest_is_used() -> None:
    record = b"".join(http_record(BASE, "response", URL, RESPONSE_BLOCK, b"x", "sha1:GIVEN"))
    assert b"\r\nWARC-Payload-Digest: sha1:GIVEN\r\n" in record


def test_warcinfo_is_warcios_bytes() -> None:
    info = {"software": "newsvault/test", "robots": "obey", "empty": "", "isPartOf": "caf\u00e9"}
    out = BytesIO()
    writer = WARCWriter(out, gzip=False, warc_version="1.1")
    record = writer.create_warcinfo_record("x.warc.gz", dict(info))
    record.rec_headers.replace_header("WARC-Record-ID", "<urn:uuid:1>")
    record.rec_headers.replace_header("WARC-Date", "2017-07-23T14:32:05.123456Z")
    writer.write_record(record)
    ours = warcinfo_record("<urn:uuid:1>", "x.warc.gz", "2017-07-23T14:32:05.123456Z", info)
    assert b"".join(ours) == out.getvalue()
