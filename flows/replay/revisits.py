"""Replay indexes in which a 304 re-check shows the page it confirmed.

A 304 is archived as a ``server-not-modified`` revisit (WARC 1.1 §6.7.2): no payload, its own
``HTTP/1.1 304`` headers, and the earlier capture's payload digest. Readers do not resolve it:
pywb loads a revisit's own HTTP headers first and, when their status is 3xx, replays them with an
empty body without looking for the payload (``ResolvingLoader.load_headers_and_payload``);
wabac.js (ReplayWeb.page) likewise answers ``304`` with no body; the Internet Archive's CDX-Writer
leaves such records out of replay indexes as "impossible to playback". So the newest capture of
every re-checked article would replay blank.

The WARC files stay as recorded (immutable, spec-conformant, as Heritrix writes them). What
replay reads is derived: in the mirror's indexes each 304 line keeps its URL key and time (the
TimeMap still lists the re-check) but points at the capture it confirmed, found by URL and
payload digest (the lookup pywb itself makes for identical-payload revisits). pywb loads a
capture by filename, offset and length, so it then replays that page. wabac.js also checks that
the record's date is the line's and refuses such a line: a WACZ restates each 304 instead
(``flows.replay.waczindex``). A 304 whose confirmed capture is not in the mirror cannot replay
and is left out, as CDX-Writer does.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Resolved:
    """How many 304 lines now point at the capture they confirmed, and how many were dropped."""

    resolved: int
    dropped: int


def _fields(line: bytes) -> tuple[bytes, bytes, dict[str, object]]:
    key, ts, rest = line.split(b" ", 2)
    try:
        data = json.loads(rest)
    except ValueError:
        data = {}
    return key, ts, data if isinstance(data, dict) else {}


def is_not_modified(data: dict[str, object]) -> bool:
    """A revisit line whose recorded HTTP status is 304."""
    return data.get("mime") == "warc/revisit" and str(data.get("status", "")) == "304"


def _stream(paths: Iterable[Path], stack: ExitStack) -> Iterator[bytes]:
    streams = []
    for path in paths:
        fh = stack.enter_context(open(path, "rb"))
        streams.append(
            line if line.endswith(b"\n") else line + b"\n" for line in fh if line.strip()
        )
    return heapq.merge(*streams)


def replacements(indexes: Iterable[Path]) -> dict[bytes, bytes | None]:
    """For each 304 line of the (sorted) ``indexes``: the line that replays the capture it
    confirmed, or None when that capture is not indexed. Streams the merge: memory holds one URL
    key's digests at a time, plus the answer."""
    out: dict[bytes, bytes | None] = {}
    current = b""
    by_digest: dict[str, bytes] = {}
    with ExitStack() as stack:
        for line in _stream(indexes, stack):
            key, ts, data = _fields(line)
            if key != current:
                current, by_digest = key, {}
            digest = str(data.get("digest", ""))
            if not is_not_modified(data):
                if digest and str(data.get("status", "200")).startswith("2"):
                    by_digest[digest] = line
                continue
            target = by_digest.get(digest) if digest else None
            if target is None:
                out[line] = None
                continue
            _key, _ts, rest = target.split(b" ", 2)
            out[line] = b" ".join((key, ts, rest))
    return out


def resolve_not_modified(indexes: Iterable[Path]) -> Resolved:
    """Rewrite, in place, every index in ``indexes`` that holds 304 lines (see the module)."""
    paths = sorted(indexes)
    table = replacements(paths)
    if not table:
        return Resolved(0, 0)
    for path in paths:
        lines = path.read_bytes().splitlines(keepends=True)
        if not any(line in table for line in lines):
            continue
        kept = [table[line] if line in table else line for line in lines]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(b"".join(sorted(line for line in kept if line is not None)))
        os.replace(tmp, path)
    dropped = sum(1 for v in table.values() if v is None)
    return Resolved(len(table) - dropped, dropped)
