"""Golden tests of the WARC spool: pinned clock and record ids, compared byte for byte."""

from __future__ import annotations

import errno
import gzip
import random
import resource
import subprocess
import sys
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from spiders.gzmember import Deflate, gzip_member, member_bound
from spiders.memberwriter import MemberWriter
from spiders.warcspool import SERVER_NOT_MODIFIED, Exchange, RevisitOf, member_deflate
from tests.helpers import BODY, decompressed, exchange, pinned_spool, wait_for, warcio_check

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


def _mixed_exchanges() -> list[tuple[Exchange, RevisitOf | None]]:
    """Content-encoded and plain pages, images, large and small, and revisits: every kind of
    member (stored, zlib, ISA-L)."""
    page = b"<html><body>" + b"<p>A paragraph of plain, compressible text.</p>" * 400 + b"</body>"
    plain_headers = tuple(h for h in exchange().response_headers if h[0] != b"Content-Encoding")
    out: list[tuple[Exchange, RevisitOf | None]] = []
    for n in range(12):
        url = f"http://127.0.0.1:8765/{n}/"
        out.append((replace(exchange(url), response_body=gzip.compress(page * n, mtime=0)), None))
        body = page[: n * 900]
        plain = replace(exchange(url), response_headers=plain_headers, response_body=body)
        out.append((plain, None))
        image = replace(plain, response_headers=((b"Content-Type", b"image/jpeg"),))
        out.append((replace(image, response_body=page[: n * 1300]), None))
        out.append((exchange(url), RevisitOf(SERVER_NOT_MODIFIED) if n % 3 == 0 else None))
    return out


@pytest.mark.parametrize("max_size", [1, 2_000, 9_000, 10_000_000])
def test_background_writer_writes_the_same_files(tmp_path: Path, max_size: int) -> None:
    """Deflating and writing in the writer process gives the very bytes (gzip members
    included), the same rotation and the same member offsets as writing inline."""
    written: dict[bool, list[tuple[int, int]]] = {}
    files: dict[bool, list[tuple[str, bytes]]] = {}
    for background in (False, True):
        directory = tmp_path / str(background)
        spool = pinned_spool(directory, max_size, background=background)
        records = [r for ex, rv in _mixed_exchanges() for r in spool.write_exchange(ex, rv)]
        paths = spool.close()
        written[background] = [(r.offset, r.length) for r in records]
        files[background] = [(p.name, p.read_bytes()) for p in paths]
        assert spool.records_on_disk == len(records) + len(paths)  # + one warcinfo per file
    assert files[True] == files[False]
    assert written[True] == written[False]
    if max_size < 10_000_000:
        assert len(files[True]) > 1  # the sizes rotate


def _started(writer: MemberWriter, path: Path, file_size_limit: int) -> None:
    """Open ``path`` in ``writer``, its process started under ``ulimit -f`` (in bytes)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, hard))
    try:
        writer.open_file(path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def test_writer_process_error_is_raised_in_the_crawl(tmp_path: Path) -> None:
    """A write the process cannot make (a file size limit: EFBIG, as a full disk gives ENOSPC)
    is raised to the crawl with its errno, at the latest when the file is closed; the member
    written before it stays in the file, and asking where the failed one landed says why."""
    writer = MemberWriter(background=True)
    path = tmp_path / "members.gz"
    _started(writer, path, 4_000)
    first = writer.append((b"first record " * 100,), Deflate.STORED)
    second = writer.append((b"second record " * 500,), Deflate.STORED)
    with pytest.raises(OSError, match="writing the WARC file failed: File too large") as raised:
        writer.close_file()
    assert raised.value.errno == errno.EFBIG
    assert first.result()[0] == 0
    with pytest.raises(OSError, match="File too large"):
        second.result()
    with pytest.raises(OSError, match="File too large"):  # and every later member
        writer.append((b"third",), Deflate.STORED)
    data = path.read_bytes()
    assert zlib.decompressobj(31).decompress(data[: first.result()[1]]) == b"first record " * 100
    assert len(data) == 4_000  # the second member's torn head, cut by the limit
    with pytest.raises(OSError, match="File too large"):
        writer.close()


def test_writer_waits_when_its_backlog_is_full(tmp_path: Path) -> None:
    """With a backlog of one byte every append waits for the one before: all written, in
    order."""
    writer = MemberWriter(background=True, max_pending=1)
    writer.open_file(tmp_path / "members.gz")
    placed = [writer.append((b"record %d " % n * 50,), Deflate.DEFAULT) for n in range(40)]
    writer.close_file()
    writer.close()
    offsets = [p.result()[0] for p in placed]
    assert offsets == sorted(offsets) and writer.written == 40
    assert gzip.decompress((tmp_path / "members.gz").read_bytes()) == b"".join(
        b"record %d " % n * 50 for n in range(40)
    )


DYING_CRAWL = """
import os, sys
from pathlib import Path
from spiders.gzmember import Deflate
from spiders.memberwriter import MemberWriter
writer = MemberWriter(background=True)
writer.open_file(Path(sys.argv[1]))
for n in range(200):
    writer.append((b"record %d " % n * 2000,), Deflate.DEFAULT)
print(writer._proc.pid, flush=True)
os._exit(0)  # as a SIGKILL: no spider_closed, no atexit
"""


def test_a_dying_crawl_loses_nothing_it_sent(tmp_path: Path) -> None:
    """The crawl's process ends without closing its spool: the writer process still writes
    every member it was sent (in order), then exits on its own."""
    path = tmp_path / "members.gz"
    done = subprocess.run(
        [sys.executable, "-c", DYING_CRAWL, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    pid = int(done.stdout)
    # the writer finishes what it was sent, then exits (the bound only keeps a hang from CI)
    wait_for("the writer process to end", lambda: _state(pid) == "Z", 60, 0.05)
    assert gzip.decompress(path.read_bytes()) == b"".join(
        b"record %d " % n * 2000 for n in range(200)
    )


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return "Z"


def test_a_killed_writer_process_fails_the_next_write_clearly(tmp_path: Path) -> None:
    """The writer process killed (out of memory, by hand): the crawl's next write raises an
    OSError naming it, never hangs."""
    writer = MemberWriter(background=True)
    writer.open_file(tmp_path / "members.gz")
    assert writer.append((b"one",), Deflate.DEFAULT).result() == (0, 23)
    assert writer._proc is not None
    writer._proc.kill()
    writer._proc.wait()
    with pytest.raises(OSError, match="writing the WARC file failed: the WARC writer process"):
        for _ in range(100):  # the pipe may take a few writes to report the reader gone
            writer.append((b"two" * 100_000,), Deflate.DEFAULT)
    with pytest.raises(OSError, match="the WARC writer process"):
        writer.close()


def test_bodies_of_compressed_media_types_are_deflated_fast(tmp_path: Path) -> None:
    """A JPEG (a media type compressed by its own format) is deflated by ISA-L, a plain-text
    body of the same bytes by zlib: both are gzip members that read back as they were."""
    body = b"\xff\xd8\xff\xe0" + b"JFIF scan data, repetitive as the replica's images " * 300
    headers = ((b"Content-Type", b"IMAGE/JPEG"),)
    jpeg = replace(exchange(), response_headers=headers, response_body=body)
    text = replace(exchange(), response_headers=((b"Content-Type", b"text/plain"),))
    text = replace(text, response_body=body)
    spool = pinned_spool(tmp_path)
    written = [spool.write_exchange(jpeg)[0], spool.write_exchange(text)[0]]
    [path] = spool.close()
    data = path.read_bytes()
    members = [data[r.offset : r.offset + r.length] for r in written]
    for member, how in zip(members, (Deflate.FAST, Deflate.DEFAULT), strict=True):
        record = gzip.decompress(member)
        assert body in record
        assert member == gzip_member((record,), how)
    assert members[0] != gzip_member((gzip.decompress(members[0]),), Deflate.DEFAULT)
    assert member_deflate(headers, b"") is Deflate.DEFAULT  # nothing to gain on an empty body
    with open(path, "rb") as fh:
        assert [r.rec_type for r in ArchiveIterator(fh)][1::2] == ["response", "response"]
    check = warcio_check(path, "-v")
    assert check.returncode == 0 and "digest pass" in check.stdout, check.stdout


@pytest.mark.parametrize("size", [0, 1, 100, 70_000, 1_000_000])
@pytest.mark.parametrize("how", list(Deflate))
def test_member_bound_holds_for_incompressible_bytes(size: int, how: Deflate) -> None:
    """Rotation relies on ``member_bound``: random bytes (the worst case) stay within it."""
    data = random.Random(size).randbytes(size)
    assert len(gzip_member((data[: size // 3], data[size // 3 :]), how)) <= (member_bound(size))
