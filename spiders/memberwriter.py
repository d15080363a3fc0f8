"""Gzip members appended to a WARC file in order: inline, or by the WARC writer process.

Deflating and writing a record took about half of the recorder's time on Scrapy's reactor
thread, time in which no response was parsed. A writer thread in the crawl's process did not
help: it shares the interpreter lock, and every member it wrote had to win the lock back from
the reactor several times (1,000 replica articles, the site serving from its cache so that the
crawl alone set the pace: recorder on / off wall time 1.21 with the thread, 1.06 inline). With
``background`` the records go to ``spiders.writerprocess``, its own interpreter on another core:
the reactor thread frames each record and writes it to a pipe, without joining or copying the
parts (one ``writev``); the process deflates and appends the members in the order sent, so the
bytes on disk are exactly those written inline.

What is sent but not yet written is bounded (``max_pending`` bytes; the crawl waits when it is
reached). A crawl that dies loses nothing it sent: the process writes every frame it received,
then sees the pipe's end and exits. ``written`` counts the members on disk (flushed to the
OS); the recorder publishes it in the crawl's running stats. A write error in the process
(a full disk: ENOSPC) is raised on the reactor thread at the next ``append`` or wait, with its
errno, so the recorder can tell a full disk from other faults.
"""

from __future__ import annotations

import atexit
import errno
import fcntl
import os
import select
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from spiders.gzmember import Deflate, gzip_member
from spiders.writerprocess import (
    CLOSE,
    DEFLATE_CODES,
    ERROR,
    FRAME,
    MEMBER,
    OPEN,
    PLACED,
    REPLY,
    SIZE,
)

MAX_PENDING = 32 * 1024 * 1024  # bytes sent to the writer process and not yet written
PIPE_SIZE = 1024 * 1024  # Linux's default maximum for an unprivileged pipe
_ROOT = Path(__file__).resolve().parents[1]  # where the ``spiders`` package is imported from


class Placement:
    """Where a record's member landed: (offset, length), once written; ``result`` waits."""

    __slots__ = ("_error", "_value", "_writer")

    def __init__(self, writer: MemberWriter | None = None) -> None:
        self._writer = writer
        self._value: tuple[int, int] | None = None
        self._error: OSError | None = None

    def result(self) -> tuple[int, int]:
        if self._value is None and self._error is None and self._writer is not None:
            self._writer.wait_for(self)
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value


def write_error(code: int | None, message: str) -> OSError:
    return OSError(code, f"writing the WARC file failed: {message}")


class MemberWriter:
    """Appends each record to the open file as one flushed gzip member (see the module)."""

    def __init__(self, background: bool, max_pending: int = MAX_PENDING) -> None:
        self.background = background
        self.max_pending = max_pending
        self._written = 0
        self._file: IO[bytes] | None = None  # inline: the open file
        self._proc: subprocess.Popen[bytes] | None = None
        self._sending = -1  # the process's stdin, our end
        self._replies = -1  # its stdout, non-blocking
        self._buffer = bytearray()
        self._placing: deque[tuple[Placement, int]] = deque()
        self._pending = 0  # bytes sent and not yet placed
        self._answer: tuple[bytes, int] | None = None  # the last S or C reply
        self._error: OSError | None = None

    @property
    def written(self) -> int:
        """Members on disk (flushed to the OS), as far as known now."""
        if self._proc is not None:
            self._pump(block=False)
        return self._written

    # -- files --------------------------------------------------------------------------------
    def open_file(self, path: Path) -> None:
        """Create ``path`` (it must not exist) and append the next members to it."""
        fh = open(path, "xb")
        if not self.background:
            self._file = fh
            return
        fh.close()
        self._start()
        self._send(OPEN, b"-", (os.fsencode(path),))

    def size(self) -> int:
        """The open file's size once every member sent is written."""
        if self._file is not None:
            return self._file.tell()
        self._send(SIZE)
        return self._wait_answer(SIZE)

    def close_file(self) -> None:
        """Every member written, the file flushed, fsynced and closed."""
        if self._file is not None:
            fh, self._file = self._file, None
            with fh:
                fh.flush()
                os.fsync(fh.fileno())
            return
        if self._proc is not None:
            self._send(CLOSE)
            self._wait_answer(CLOSE)

    def append(self, parts: Sequence[bytes], how: Deflate) -> Placement:
        """Append ``parts`` (one record) as one gzip member."""
        if self._file is not None:
            placed = Placement()
            offset = self._file.tell()
            member = gzip_member(parts, how)
            self._file.write(member)
            self._file.flush()
            self._written += 1
            placed._value = (offset, len(member))
            return placed
        size = sum(len(part) for part in parts)
        while self._pending and self._pending + size > self.max_pending:
            self._pump(block=True)
        placed = Placement(self)
        self._send(MEMBER, DEFLATE_CODES[how], parts)
        self._placing.append((placed, size))
        self._pending += size
        return placed

    def wait_for(self, placed: Placement) -> None:
        while placed._value is None and placed._error is None:
            self._pump(block=True)

    def close(self) -> None:
        """Let the process write what it was sent and exit (a later file starts a new one)."""
        proc = self._proc
        if proc is None:
            return
        atexit.unregister(self._end_at_exit)
        os.close(self._sending)
        self._sending = -1  # the end of its replies is expected now
        try:
            while self._pump(block=True):  # its last replies (an error it met at the end)
                pass
        finally:
            code = proc.wait()
            os.close(self._replies)
            self._proc = None
        if self._error is None and code != 0:
            self._error = write_error(errno.EPIPE, f"the WARC writer process exited with {code}")
        self._raise_error()

    # -- the process ----------------------------------------------------------------------------
    def _start(self) -> None:
        if self._proc is not None:
            return
        self._raise_error()
        path = [str(_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "spiders.writerprocess"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._sending = os.dup(self._proc.stdin.fileno())
        self._replies = os.dup(self._proc.stdout.fileno())
        self._proc.stdin.close()
        self._proc.stdout.close()
        for fd in (self._sending, self._replies):
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            except OSError:
                pass  # a smaller pipe only means more waits
        os.set_blocking(self._replies, False)
        atexit.register(self._end_at_exit)

    def _send(self, kind: bytes, how: bytes = b"-", parts: Sequence[bytes] = ()) -> None:
        self._raise_error()
        if self._proc is None:
            raise write_error(errno.EBADF, "no WARC file is open")
        views = [memoryview(FRAME.pack(kind, how, sum(len(p) for p in parts)))]
        views += [memoryview(part) for part in parts if part]
        try:
            while views:
                sent = os.writev(self._sending, views)
                while sent:
                    if sent >= len(views[0]):
                        sent -= len(views.pop(0))
                    else:
                        views[0], sent = views[0][sent:], 0
        except OSError as exc:  # the process is gone: its error, if it said one
            while self._error is None and self._pump(block=True):
                pass
            if self._error is None:
                self._error = write_error(exc.errno, f"the WARC writer process is gone ({exc})")
            self._raise_error()

    def _pump(self, block: bool) -> bool:
        """Read the replies there are (with ``block``, wait for one); False at their end."""
        if block:
            select.select([self._replies], [], [])
        try:
            data = os.read(self._replies, 65536)
        except BlockingIOError:
            return True
        if not data:
            if self._error is None and (self._sending >= 0 or self._placing):
                self._error = write_error(errno.EPIPE, "the WARC writer process ended")
            self._fail_placing()
            return False
        self._buffer += data
        while len(self._buffer) >= REPLY.size:
            kind, a, b = REPLY.unpack_from(self._buffer)
            if kind == ERROR:
                if len(self._buffer) < REPLY.size + b:
                    break
                message = bytes(self._buffer[REPLY.size : REPLY.size + b]).decode("utf-8")
                del self._buffer[: REPLY.size + b]
                self._error = write_error(a or None, message)
                self._fail_placing()
                continue
            del self._buffer[: REPLY.size]
            if kind == PLACED:
                placed, size = self._placing.popleft()
                placed._value = (a, b)
                self._pending -= size
                self._written += 1
            else:
                self._answer = (kind, a)
        return True

    def _wait_answer(self, kind: bytes) -> int:
        self._answer = None
        while self._answer is None:
            self._raise_error()
            if not self._pump(block=True):
                self._raise_error()
        assert self._answer[0] == kind
        return self._answer[1]

    def _fail_placing(self) -> None:
        for placed, _ in self._placing:
            placed._error = self._error
        self._placing.clear()
        self._pending = 0

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _end_at_exit(self) -> None:
        """A crawl that exits without closing its spider: the process writes what it was sent
        (it would on its own at the pipe's end; this waits for it)."""
        try:
            self.close()
        except OSError:
            pass  # already raised on the reactor thread, or nothing more can be written
