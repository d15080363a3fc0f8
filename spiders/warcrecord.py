"""WARC/1.1 records serialised directly: header fields, digests and Content-Length.

warcio's record builder did this before (``create_warc_record`` + ``write_record``) and cost
about as much reactor-thread CPU as deflating the records (it re-reads every body through
stream wrappers for its digests and rebuilds the header list several times). The records here
are the very bytes it wrote, fields in its order (``tests/test_warcspool.py`` compares them with
warcio's writer): the caller's fields, then ``WARC-Type``, ``WARC-Target-URI``,
``WARC-Payload-Digest`` (not for warcinfo or revisit records, which carry their own),
``WARC-Block-Digest``, ``Content-Type``, ``Content-Length``. A record is handed on as its parts
(header, HTTP header block, body, end), so a body is never copied to be serialised: it is read
once for the payload digest, once for the block digest and once when its member is deflated.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

WARC_VERSION = "WARC/1.1"
RESPONSE_TYPE = "application/http; msgtype=response"
REQUEST_TYPE = "application/http; msgtype=request"
RECORD_END = b"\r\n\r\n"

Fields = list[tuple[str, str]]
Parts = tuple[bytes, ...]


# base32 (RFC 4648) of 10 bits at a time: ``base64.b32encode`` is pure Python in 3.11 and took
# ~30 us per digest, ~6x this, with three or four digests per exchange.
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_B32_PAIRS = [a + b for a in _B32 for b in _B32]


def sha1_digest(*parts: bytes) -> str:
    """The archive's one digest form, ``sha1:`` + base32 (what warcio writes), over ``parts``
    in order, as if joined."""
    digest = hashlib.sha1()  # noqa: S324 (WARC digests, not security)
    for part in parts:
        digest.update(part)
    bits = int.from_bytes(digest.digest(), "big")  # 160 bits: 32 characters, no padding
    return "sha1:" + "".join([_B32_PAIRS[(bits >> shift) & 1023] for shift in range(150, -1, -10)])


def header_block(first_line: bytes, headers: Iterable[tuple[bytes, bytes]]) -> bytes:
    """An HTTP message's start line and header fields, CRLF-terminated, byte for byte."""
    lines = [first_line] + [name + b": " + value for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _header(fields: Fields) -> bytes:
    text = "".join(f"{name}: {value}\r\n" for name, value in fields)
    return f"{WARC_VERSION}\r\n{text}\r\n".encode()  # WARC fields may be UTF-8 (WARC 1.1, 4)


def http_record(
    fields: Fields,
    record_type: str,
    uri: str,
    http_block: bytes,
    body: bytes = b"",
    payload_digest: str | None = None,
) -> Parts:
    """A ``response``, ``request`` or ``revisit`` record of an HTTP message: ``fields`` first
    (a revisit's include its ``WARC-Payload-Digest``, if it has one), its block the HTTP header
    block and, but for a revisit, ``body``. ``payload_digest`` is ``body``'s, if the caller has
    computed it already."""
    fields = [*fields, ("WARC-Type", record_type), ("WARC-Target-URI", uri)]
    if record_type == "revisit":
        body = b""
    else:
        fields.append(("WARC-Payload-Digest", payload_digest or sha1_digest(body)))
    fields.append(("WARC-Block-Digest", sha1_digest(http_block, body)))
    fields.append(("Content-Type", REQUEST_TYPE if record_type == "request" else RESPONSE_TYPE))
    fields.append(("Content-Length", str(len(http_block) + len(body))))
    if not body:
        return (_header(fields), http_block, RECORD_END)
    return (_header(fields), http_block, body, RECORD_END)


def warcinfo_record(record_id: str, filename: str, date: str, info: Mapping[str, str]) -> Parts:
    """The ``warcinfo`` record opening each file: ``info`` as ``name: value`` lines (empty
    values left out)."""
    block = "".join(f"{name}: {value}\r\n" for name, value in info.items() if value).encode()
    fields = [
        ("WARC-Type", "warcinfo"),
        ("WARC-Record-ID", record_id),
        ("WARC-Filename", filename),
        ("WARC-Date", date),
        ("WARC-Block-Digest", sha1_digest(block)),
        ("Content-Type", "application/warc-fields"),
        ("Content-Length", str(len(block))),
    ]
    return (_header(fields), block, RECORD_END)
