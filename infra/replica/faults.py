"""Faults on demand for the replica: a ``Behaviour`` that misbehaves per path pattern or per day.

A spec is a comma-separated list of ``FAULT[*N][:ARG]@WHERE`` rules, for example::

    503*2@/2017/07/a/, 429*1:1@/2017/07/b/, reset*1@/2017/07/c/, timeout@/2017/07/d/,
    gzip-bomb@/2017/07/e/, offsite@/2017/07/f/, 500@day=3

``WHERE`` is a regular expression searched in the request target (path and query), or ``day=D``
(every request while the replica serves day ``D``). ``*N`` limits the rule to the first ``N``
matching requests per path (a burst), after which the page is served normally; without it the
fault is permanent. ``ARG`` depends on the fault:

=================  =================================================================  ========
fault              what the client gets                                               ARG
=================  =================================================================  ========
``500``..``599``   that status with a small HTML body                                 -
``429``            429 with ``Retry-After: ARG``                                      seconds
``reset``          the connection closed before any byte of the response              -
``timeout``        nothing for ARG seconds, then the connection closed                seconds
``slow``           the real response, its body dripped over ARG seconds               seconds
``truncate``       the real head (true Content-Length), then half the body, then close  -
``redirect-loop``  302 to ``?loop=N+1`` forever                                       -
``wrong-charset``  the page declared ``charset=ARG`` (default iso-8859-1) in header   charset
``no-charset``     the page with ``Content-Type: text/html`` and no charset            -
``oversized``      a 200 HTML page of ARG bytes (default 40 MiB)                      bytes
``gzip-bomb``      ``Content-Encoding: gzip``: ARG bytes (default 64 MiB) of zeros    bytes
``offsite``        302 to ARG (default ``http://offsite.example/``)                   URL
``private``        302 to ARG (default ``http://169.254.169.254/latest/meta-data/``)  URL
=================  =================================================================  ========

The spec comes from ``ReplicaServer(behaviour=FaultBehaviour.parse(spec))`` or from
``python -m infra.replica --faults SPEC``. Counters are per (rule, path) and thread-safe.
"""

from __future__ import annotations

import gzip
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from http import HTTPStatus
from io import BufferedIOBase
from urllib.parse import urlsplit

from flows.errors import ConfigError
from infra.replica.behaviour import Behaviour, Request
from infra.replica.response import Response

FAULTS = (
    "429",
    "reset",
    "timeout",
    "slow",
    "truncate",
    "redirect-loop",
    "wrong-charset",
    "no-charset",
    "oversized",
    "gzip-bomb",
    "offsite",
    "private",
)
_RULE_RE = re.compile(
    r"^(?P<fault>[a-z0-9-]+)(?:\*(?P<times>\d+))?(?::(?P<arg>[^@]*))?@(?P<where>.+)$"
)
_DEFAULTS = {
    "429": "1",
    "timeout": "30",
    "slow": "2",
    "wrong-charset": "iso-8859-1",
    "oversized": str(40 * 1024 * 1024),
    "gzip-bomb": str(64 * 1024 * 1024),
    "offsite": "http://offsite.example/",
    "private": "http://169.254.169.254/latest/meta-data/",
}
DayOf = Callable[[], int]


@dataclass(frozen=True)
class Rule:
    fault: str
    where: str  # a regex on the request target, or "day=D"
    times: int | None = None  # None: every matching request
    arg: str = ""

    def matches(self, target: str, day: int) -> bool:
        if self.where.startswith("day="):
            return self.where == f"day={day}"
        return re.search(self.where, target) is not None


def parse_rule(text: str) -> Rule:
    match = _RULE_RE.match(text.strip())
    if match is None:
        raise ConfigError(f"fault rule {text!r} is not FAULT[*N][:ARG]@PATTERN (or @day=D)")
    fault = match["fault"]
    if fault not in FAULTS and not (fault.isdigit() and 500 <= int(fault) <= 599):
        raise ConfigError(f"unknown fault {fault!r}: use 500-599 or one of {', '.join(FAULTS)}")
    where = match["where"]
    if where.startswith("day="):
        if not where[4:].isdigit():
            raise ConfigError(f"fault rule {text!r}: day=D needs a day number")
    else:
        try:
            re.compile(where)
        except re.error as exc:
            raise ConfigError(f"fault rule {text!r}: bad pattern ({exc})") from exc
    arg = match["arg"] if match["arg"] is not None else _DEFAULTS.get(fault, "")
    if fault in ("429", "timeout", "slow", "oversized", "gzip-bomb"):
        try:
            float(arg)
        except ValueError:
            raise ConfigError(f"fault rule {text!r}: {fault} needs a number") from None
    times = int(match["times"]) if match["times"] else None
    return Rule(fault, where, times, arg)


@lru_cache(maxsize=4)
def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzip'd (about 1000:1)."""
    return gzip.compress(b"\0" * size, compresslevel=9, mtime=0)


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", "Server: nginx"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class FaultBehaviour(Behaviour):
    """Serves faithfully except where a rule matches; the first matching rule wins."""

    def __init__(self, rules: list[Rule], day_of: DayOf | None = None) -> None:
        self.rules = rules
        self.day_of: DayOf = day_of or (lambda: 0)
        self._counts: Counter[tuple[int, str]] = Counter()
        self._lock = threading.Lock()
        self.log: list[tuple[str, str]] = []  # (fault, target) per fault served

    @classmethod
    def parse(cls, spec: str, day_of: DayOf | None = None) -> FaultBehaviour:
        return cls([parse_rule(part) for part in spec.split(",") if part.strip()], day_of)

    def _fault(self, request: Request) -> Rule | None:
        target, day = request.target, self.day_of()
        path = urlsplit(target).path
        with self._lock:
            for number, rule in enumerate(self.rules):
                if not rule.matches(target, day):
                    continue
                if rule.times is not None:
                    if self._counts[(number, path)] >= rule.times:
                        continue
                    self._counts[(number, path)] += 1
                self.log.append((rule.fault, target))
                return rule
        return None

    def respond(self, request: Request, response: Response) -> Response:
        rule = self._fault(request)
        # ``send`` needs to know which rule fired; carry it in a private header the server
        # passes through (``X-Replica-Fault``), stripped again in ``send``.
        if rule is None:
            return response
        marker = (("X-Replica-Fault", f"{rule.fault}|{rule.arg}"),)
        if rule.fault == "wrong-charset":
            ctype = f"text/html; charset={rule.arg}"
            return replace(response, content_type=ctype, headers=response.headers + marker)
        if rule.fault == "no-charset":
            return replace(response, content_type="text/html", headers=response.headers + marker)
        if rule.fault == "redirect-loop":
            parts = urlsplit(request.target)
            n = int(parts.query.rpartition("loop=")[2] or 0) if "loop=" in parts.query else 0
            location = f"{parts.path}?loop={n + 1}"
            return Response(302, "text/html; charset=utf-8", b"", None, (("Location", location),))
        if rule.fault in ("offsite", "private"):
            return Response(302, "text/html; charset=utf-8", b"", None, (("Location", rule.arg),))
        if rule.fault.isdigit():
            status = int(rule.fault)
            body = f"<html><body><h1>{status} {HTTPStatus(status).phrase}</h1></body></html>"
            headers: tuple[tuple[str, str], ...] = ()
            if status == 429:
                headers = (("Retry-After", rule.arg),)
            return Response(status, "text/html; charset=utf-8", body.encode(), None, headers)
        return replace(response, headers=response.headers + marker)

    def send(self, request: Request, wfile: BufferedIOBase, head: bytes, body: bytes) -> None:
        try:
            self._send(wfile, head, body)
        except OSError:
            return  # the client hung up (it timed out, or refused an oversized body)

    def _send(self, wfile: BufferedIOBase, head: bytes, body: bytes) -> None:
        marker = re.search(rb"\r\nX-Replica-Fault: ([^|\r]*)\|([^\r]*)", head)
        if marker is None:
            wfile.write(head + body)
            return
        head = head[: marker.start()] + head[marker.end() :]
        fault, arg = marker[1].decode(), marker[2].decode()
        if fault == "reset":
            _reset(wfile)
        elif fault == "timeout":
            time.sleep(float(arg))
            _reset(wfile)
        elif fault == "slow":
            wfile.write(head)
            wfile.flush()
            steps = 10
            chunk = max(1, -(-len(body) // steps))
            for start in range(0, len(body), chunk):
                time.sleep(float(arg) / steps)
                wfile.write(body[start : start + chunk])
                wfile.flush()
        elif fault == "truncate":
            wfile.write(head + body[: len(body) // 2])
            wfile.flush()
            _reset(wfile)
        elif fault == "oversized":
            size = int(float(arg))
            wfile.write(_head(200, [("Content-Type", "text/html"), ("Content-Length", str(size))]))
            block = b"<p>" + b"x" * 8189 + b"</p>"
            sent = 0
            while sent < size:
                piece = block[: size - sent]
                wfile.write(piece)
                sent += len(piece)
        elif fault == "gzip-bomb":
            payload = gzip_bomb(int(float(arg)))
            headers = [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Encoding", "gzip"),
                ("Content-Length", str(len(payload))),
            ]
            wfile.write(_head(200, headers) + payload)
        else:  # charset faults: the marker only
            wfile.write(head + body)


def _reset(wfile: BufferedIOBase) -> None:
    """Close the connection now: the handler's next read sees EOF and ends the connection."""
    try:
        wfile.flush()
    except OSError:
        return
    raw = getattr(wfile, "_sock", None)
    if isinstance(raw, socket.socket):
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
