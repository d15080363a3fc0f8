"""Golden tests of the WARC spool: pinned clock and record ids, compared byte for byte."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.helpers import BODY, decompressed, exchange, pinned_spool, warcio_check

GOLDEN = Path(__file__).with_name("golden") / "exchange.warc"


def test_exchange_matches_golden_bytes(tmp_path: Path) -> None:
    spool = pinned_spool(tmp_path)
    spool.write_exchange(exchange())
    [path] = spool.close()
    assert path.name == "replica-20170723T143205Z-abcdef-00001.warc.gz"
    data = decompressed(path)
    if not GOLDEN.exists():  # first run writes the golden file for review, then fails
        GOLDEN.write_bytes(data)
        pytest.fail(f"wrote {GOLDEN}; review it and rerun")
    assert data == GOLDEN.read_bytes()


def test_fidelity_points(tmp_path: Path) -> None:
    spool = pinned_spool(tmp_path)
    response, request = spool.write_exchange(exchange())
    [path] = spool.close()
    data = decompressed(path)
    # the real request line with its query string, and HTTP/1.1 with a reason phrase
    assert b"\r\nGET /page/2/?utm_source=x&b=1 HTTP/1.1\r\n" in data
    assert b"\r\nHTTP/1.1 200 OK\r\n" in data
    # the body as received (still gzip) with its Content-Encoding; no Transfer-Encoding
    assert BODY in data and b"Content-Encoding: gzip" in data
    assert b"Transfer-Encoding" not in data
    # every value of multi-valued headers, in order; non-ASCII header bytes untouched
    assert data.index(b"Set-Cookie: a=1") < data.index(b"Set-Cookie: b=2")
    assert data.count(b"\r\nLink: ") == 2
    assert b"X-Caf\xc3\xa9: d\xe9j\xe0 vu\r\n" in data

    with open(path, "rb") as fh:
        records = list(ArchiveIterator(fh))
    assert [r.rec_type for r in records] == ["warcinfo", "response", "request"]
    info, resp, req = records
    assert info.rec_headers["WARC-Filename"] == path.name
    assert resp.rec_headers["WARC-IP-Address"] == "127.0.0.1"
    assert resp.rec_headers["WARC-Warcinfo-ID"] == info.rec_headers["WARC-Record-ID"]
    assert req.rec_headers["WARC-Concurrent-To"] == resp.rec_headers["WARC-Record-ID"]
    assert resp.rec_headers["WARC-Payload-Digest"].startswith("sha1:")
    assert resp.rec_headers["WARC-Date"] == "2017-07-23T14:32:05.123456Z"
    assert response.record_id == resp.rec_headers["WARC-Record-ID"]
    assert request.offset > response.offset


def test_each_record_is_its_own_gzip_member(tmp_path: Path) -> None:
    spool = pinned_spool(tmp_path)
    _first, _ = spool.write_exchange(exchange())
    second, _ = spool.write_exchange(exchange("http://127.0.0.1:8765/other/"))
    [path] = spool.close()
    raw = path.read_bytes()
    member = raw[second.offset : second.offset + second.length]
    text = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(member)
    assert text.startswith(b"WARC/1.1\r\n") and b"/other/" in text


def test_rotation_and_open_suffix(tmp_path: Path) -> None:
    spool = pinned_spool(tmp_path, max_size=1)
    spool.write_exchange(exchange())
    assert [p.name for p in tmp_path.iterdir()] == ["replica-20170723T143205Z-abcdef-00001.warc.gz"]
    spool.write_exchange(exchange())
    assert sorted(p.name for p in tmp_path.iterdir())[-1].endswith("00002.warc.gz")
    files = spool.close()
    assert len(files) == 2
    for path in files:
        with open(path, "rb") as fh:
            assert next(iter(ArchiveIterator(fh))).rec_type == "warcinfo"


def test_unclosed_file_keeps_open_suffix(tmp_path: Path) -> None:
    spool = pinned_spool(tmp_path)
    spool.write_exchange(exchange())
    assert [p.suffix for p in tmp_path.iterdir()] == [".open"]


def test_warcio_check_passes(tmp_path: Path) -> None:
    spool = pinned_spool(tmp_path)
    spool.write_exchange(exchange())
    [path] = spool.close()
    check = warcio_check(path, "-v")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout


def test_max_size_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_size"):
        pinned_spool(tmp_path, max_size=0)


def test_encoded_payloads_are_stored_other_records_deflated(tmp_path: Path) -> None:
    """A content-encoded body is not deflated again (stored deflate blocks: the member is the
    record plus a few framing bytes); an identity body and the request record are deflated.
    Either way each record is one gzip member that warcio reads back."""
    from dataclasses import replace

    spool = pinned_spool(tmp_path)
    page = b"<html><body>" + b"<p>A paragraph of plain, compressible text.</p>" * 200 + b"</body>"
    encoded = replace(exchange(), response_body=gzip.compress(page, mtime=0))
    plain_headers = tuple(h for h in exchange().response_headers if h[0] != b"Content-Encoding")
    plain = replace(exchange(), response_headers=plain_headers, response_body=page)
    enc_resp, enc_req = spool.write_exchange(encoded)
    plain_resp, _ = spool.write_exchange(plain)
    [path] = spool.close()
    data = path.read_bytes()

    def member(offset: int, length: int) -> tuple[int, int]:
        raw = gzip.decompress(data[offset : offset + length])
        return length, len(raw)

    stored, stored_raw = member(enc_resp.offset, enc_resp.length)
    assert stored_raw < stored < stored_raw + 64  # stored: larger than its content
    deflated, deflated_raw = member(plain_resp.offset, plain_resp.length)
    assert deflated < deflated_raw / 5  # deflated: the repeated text compresses
    req, req_raw = member(enc_req.offset, enc_req.length)
    assert req < req_raw
    with open(path, "rb") as fh:
        kinds = [r.rec_type for r in ArchiveIterator(fh)]
    assert kinds == ["warcinfo", "response", "request", "response", "request"]
