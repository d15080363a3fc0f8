"""The WARC writer process: deflates records into gzip members and appends them to a WARC file.

A crawl runs Scrapy's reactor on one thread that parses every page; deflating and writing its
records there, or in a thread of the same process, costs the crawl wall time (a thread shares
the interpreter lock with the reactor: measured on 1,000 replica articles, recording in a writer
thread cost 21 % of the crawl's wall time, inline 6 %). This process does that work beside the
crawl on its own interpreter; the crawl only frames each record and writes it to a pipe
(``spiders.memberwriter.MemberWriter`` is the crawl's side).

Protocol, on stdin: frames of a 10-byte head (kind, deflate, payload length as little-endian
u64) and a payload. ``F`` opens the file named by the payload for appending, ``M`` appends the
payload as one gzip member, ``S`` reports the file's size, ``C`` flushes, fsyncs and closes it.
On stdout: 17-byte replies (kind, two little-endian i64): ``P`` offset and length of a member,
``S`` the size, ``C`` closed, ``E`` errno and the length of a UTF-8 message that follows, after
which nothing more is written. At end of input (the crawl closed the pipe, or died) every frame
received is still written, then the process exits. SIGINT and SIGTERM are left to the crawl,
which ends its spider and closes the pipe; a file size limit (``ulimit -f``) is reported as an
error (EFBIG), not a crash.
"""

from __future__ import annotations

import io
import os
import queue
import signal
import struct
import sys
import threading
from typing import IO, BinaryIO

from spiders.gzmember import Deflate, gzip_member

FRAME = struct.Struct("<ccQ")  # kind, deflate, payload length
REPLY = struct.Struct("<cqq")
OPEN, MEMBER, SIZE, CLOSE, PLACED, ERROR = b"F", b"M", b"S", b"C", b"P", b"E"
DEFLATES = {b"d": Deflate.DEFAULT, b"f": Deflate.FAST, b"s": Deflate.STORED}
DEFLATE_CODES = {how: code for code, how in DEFLATES.items()}

Frame = tuple[bytes, bytes, bytearray]


def read_exact(stream: io.RawIOBase, size: int) -> bytearray | None:
    """``size`` bytes, or None at end of input (a torn frame counts as the end)."""
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        n = stream.readinto(view[got:])
        if not n:
            return None
        got += n
    return buffer


def _read_frames(stream: io.RawIOBase, frames: queue.SimpleQueue[Frame | None]) -> None:
    """Reads frames as fast as they come (the crawl never waits on a full pipe while a member
    is being deflated); None marks the end."""
    try:
        while (head := read_exact(stream, FRAME.size)) is not None:
            kind, how, size = FRAME.unpack(head)
            payload = read_exact(stream, size) if size else bytearray()
            if payload is None:
                break
            frames.put((kind, how, payload))
    finally:
        frames.put(None)


class _Writer:
    def __init__(self, out: BinaryIO) -> None:
        self.out: BinaryIO | None = out
        self.file: IO[bytes] | None = None

    def reply(self, kind: bytes, a: int = 0, b: int = 0, tail: bytes = b"") -> None:
        if self.out is None:
            return
        try:
            self.out.write(REPLY.pack(kind, a, b) + tail)
        except BrokenPipeError:
            self.out = None  # the crawl is gone: go on writing what it sent

    def handle(self, kind: bytes, how: bytes, payload: bytearray) -> None:
        if kind == OPEN:
            self.close_file(sync=False)
            self.file = open(payload.decode("utf-8"), "ab")
            return
        if self.file is None:
            raise OSError(0, f"frame {kind!r} before any file was opened")
        if kind == MEMBER:
            offset = self.file.tell()
            member = gzip_member((payload,), DEFLATES[how])
            self.file.write(member)
            self.file.flush()
            self.reply(PLACED, offset, len(member))
        elif kind == SIZE:
            self.file.flush()
            self.reply(SIZE, self.file.tell())
        elif kind == CLOSE:
            self.close_file(sync=True)
            self.reply(CLOSE)
        else:
            raise OSError(0, f"unknown frame {kind!r}")

    def close_file(self, sync: bool) -> None:
        fh, self.file = self.file, None
        if fh is None:
            return
        try:
            fh.flush()
            if sync:
                os.fsync(fh.fileno())
        finally:
            fh.close()


def serve(stream: io.RawIOBase, out: BinaryIO) -> int:
    """Write what ``stream`` sends until its end; 0, or 1 after reporting an error."""
    frames: queue.SimpleQueue[Frame | None] = queue.SimpleQueue()
    threading.Thread(target=_read_frames, args=(stream, frames), daemon=True).start()
    writer = _Writer(out)
    try:
        while (frame := frames.get()) is not None:
            writer.handle(*frame)
        writer.close_file(sync=False)  # the crawl is gone: what it sent is on disk, flushed
    except OSError as exc:
        message = (exc.strerror or str(exc)).encode("utf-8", "replace")
        try:
            writer.reply(ERROR, exc.errno or 0, len(message), message)
        except OSError:
            pass  # the crawl is gone too
        return 1
    return 0


def main() -> int:
    for name in ("SIGINT", "SIGTERM"):  # the crawl ends first, then closes our input
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over ``ulimit -f``: EFBIG, reported
    stream = open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)  # unbuffered, raw
    out = open(sys.stdout.fileno(), "wb", buffering=0, closefd=False)
    return serve(stream, out)


if __name__ == "__main__":
    sys.exit(main())
