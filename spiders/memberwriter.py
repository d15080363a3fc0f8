"""Gzip members appended to WARC files in order, optionally by a background thread.

Deflating and writing a record took about half of the recorder's time on Scrapy's reactor thread
(profiled: 6.4 of 14.1 s for 6,225 exchanges), time in which no response was parsed. With
``background`` the reactor thread hands the serialised record over and goes on; a writer thread
deflates it, appends the member and flushes it to the OS, in the order records were handed
over, so the bytes on disk are exactly those written inline. zlib, hashing and file writes
release the GIL, so the work runs beside the reactor on a second core.

How a member is deflated is the spool's choice (``Deflate``): zlib's default level, stored, or
``FAST``, ISA-L (``isal``, Intel's storage acceleration library) at its level 2 for bodies
already compressed by their own format: on the replica's JPEGs 5x less CPU than zlib's level 6
for a 2.3 % larger member, where zlib's fastest level still took 3.7x ISA-L's time. With
2 cores shared by the crawl and the site, every CPU second spent here shows in a crawl's
wall time, on whichever thread it runs.

What is handed over but not yet written is bounded (``max_pending`` bytes; the reactor waits
when it is reached). A SIGKILL loses at most that much: records the writer had not yet written,
whose pages the next run fetches again (a run's state is only saved once it is archived), and
never a record already written (each member is flushed as it is written, as inline). ``written``
counts the members on disk; the recorder publishes it in the crawl's running stats. A write error
in the thread is raised on the reactor thread at the next ``append`` or ``drain``.
"""

from __future__ import annotations

import atexit
import threading
import zlib
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future
from enum import Enum
from typing import IO

from isal import isal_zlib

MAX_PENDING = 32 * 1024 * 1024  # bytes handed over and not yet written
GZIP_WBITS = zlib.MAX_WBITS | 16  # a gzip header and trailer around the deflate stream
JOIN_LIMIT = 1024 * 1024  # records up to this size are deflated in one call (gzip_member)


class Deflate(Enum):
    """How a member is deflated (see the module)."""

    DEFAULT = "zlib level 6"  # zlib's default, as Heritrix's GZIPOutputStream
    FAST = "ISA-L level 2"
    STORED = "zlib level 0"


# (file, the record's parts, its size, how to deflate, where its member landed: (offset, length)).
# The parts are the record's header blocks and the response body itself, never joined: a 30 MB
# page is held once, by its response, until its member is written.
Job = tuple[IO[bytes], Sequence[bytes], int, Deflate, "Future[tuple[int, int]]"]


def gzip_member(parts: Sequence[bytes], how: Deflate) -> bytes:
    """One gzip member of ``parts`` as if joined. A record up to ``JOIN_LIMIT`` is joined and
    deflated in one call: each call gives up the GIL and must win it back from the busy
    reactor thread (a convoy: with 3-4 calls per record the reactor thread ran 25 % slower
    beside the writer, with one 4 %); a larger record's body is deflated as its own part,
    never copied to join it."""
    level = 0 if how is Deflate.STORED else 6
    if len(parts) == 1 or sum(len(part) for part in parts) <= JOIN_LIMIT:
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        if how is Deflate.FAST:
            return isal_zlib.compress(data, 2, GZIP_WBITS)
        return zlib.compress(data, level, GZIP_WBITS)
    deflate: zlib._Compress | isal_zlib.Compress
    if how is Deflate.FAST:
        deflate = isal_zlib.compressobj(2, isal_zlib.DEFLATED, GZIP_WBITS)
    else:
        deflate = zlib.compressobj(level, zlib.DEFLATED, GZIP_WBITS)
    chunks = [deflate.compress(part) for part in parts]
    chunks.append(deflate.flush())
    return b"".join(chunks)


def member_bound(size: int) -> int:
    """An upper bound of a gzip member's length for ``size`` bytes, however deflated: zlib's own
    conservative ``deflateBound`` (ISA-L stays within it: tests/test_warcspool.py), plus the
    gzip header and trailer (18 bytes), plus a margin."""
    return size + ((size + 7) >> 3) + ((size + 63) >> 6) + 5 + 18 + 64


class MemberWriter:
    """Appends each record as one flushed gzip member; inline, or in a thread (see module)."""

    def __init__(self, background: bool, max_pending: int = MAX_PENDING) -> None:
        self.background = background
        self.max_pending = max_pending
        self.written = 0  # members on disk (flushed to the OS)
        self._jobs: deque[Job] = deque()
        self._pending = 0  # bytes in ``_jobs`` and in the job being written
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._stop = False

    def append(
        self, fh: IO[bytes], parts: Sequence[bytes], how: Deflate
    ) -> Future[tuple[int, int]]:
        """Write ``parts`` (one record) to ``fh`` as one gzip member; the future gives (offset,
        length)."""
        placed: Future[tuple[int, int]] = Future()
        if not self.background:
            placed.set_result(self._write(fh, parts, how))
            return placed
        size = sum(len(part) for part in parts)
        with self._cond:
            self._raise_error()
            if self._thread is None:
                self._start()
            while self._pending and self._pending + size > self.max_pending:
                self._cond.wait()
                self._raise_error()
            self._jobs.append((fh, parts, size, how, placed))
            self._pending += size
            self._cond.notify_all()
        return placed

    def drain(self) -> None:
        """Wait until every member handed over is written (raises the writer's error)."""
        with self._cond:
            while self._pending and self._error is None:
                self._cond.wait()
            self._raise_error()

    def close(self) -> None:
        """Drain, then stop the thread (a later ``append`` starts a new one)."""
        try:
            self.drain()
        finally:
            with self._cond:
                thread, self._thread, self._stop = self._thread, None, True
                self._cond.notify_all()
            if thread is not None:
                thread.join()
                atexit.unregister(self._drain_at_exit)

    # -- the thread ---------------------------------------------------------------------------
    def _start(self) -> None:
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="warc-writer", daemon=True)
        self._thread.start()
        # A crawl that exits without closing the spider still writes what it handed over.
        atexit.register(self._drain_at_exit)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._jobs and not self._stop:
                    self._cond.wait()
                if not self._jobs:
                    return
                fh, parts, size, how, placed = self._jobs[0]
            try:
                placed.set_result(self._write(fh, parts, how))
            except BaseException as exc:  # noqa: BLE001 (handed to the reactor thread)
                with self._cond:
                    self._error = exc
                    for job in self._jobs:  # this one and every one after it: never written
                        job[4].set_exception(exc)
                    self._jobs.clear()
                    self._pending = 0
                    self._cond.notify_all()
                return
            with self._cond:
                self._jobs.popleft()
                self._pending -= size
                parts = ()  # a page's body is freed now, not when the next job comes
                self._cond.notify_all()

    def _write(self, fh: IO[bytes], parts: Sequence[bytes], how: Deflate) -> tuple[int, int]:
        offset = fh.tell()
        member = gzip_member(parts, how)
        fh.write(member)
        fh.flush()
        self.written += 1
        return offset, len(member)

    def _raise_error(self) -> None:
        error = self._error
        if error is None:
            return
        # keeps the errno, so that the recorder tells a full disk (ENOSPC) from other faults
        code = error.errno if isinstance(error, OSError) else None
        raise OSError(code, f"writing the WARC file failed: {error}") from error

    def _drain_at_exit(self) -> None:
        try:
            self.drain()
        except OSError:
            pass  # already raised on the reactor thread, or nothing more can be written
