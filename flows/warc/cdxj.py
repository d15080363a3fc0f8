"""CDXJ indexes: one sorted index per run, and a streaming merge of many into one.

A run's ``index.cdxj`` is written by cdxj-indexer over the run's WARC files; each line's
``filename`` is the WARC's base name, which is unique across a site's runs (it carries the run
id), so run indexes merge into a site-wide index without rewriting. Lines sort as plain byte
strings (SURT key, then timestamp), which is the order pywb and WACZ readers expect.
"""

from __future__ import annotations

import heapq
import json
import os
from collections.abc import Collection, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

from cdxj_indexer.main import CDXJIndexer

from flows.errors import ExtractionError


def index_warcs(warcs: Iterable[Path], out: Path) -> int:
    """Write the sorted CDXJ index of ``warcs`` to ``out``; returns its line count."""
    paths = [str(p) for p in warcs]
    tmp = out.with_name(out.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            if paths:
                CDXJIndexer(fh, paths, sort=True).process_all()
    except Exception as exc:
        tmp.unlink(missing_ok=True)
        raise ExtractionError(f"cannot index {', '.join(paths)}: {exc}") from exc
    os.replace(tmp, out)
    with open(out, "rb") as fh:
        return sum(1 for _ in fh)


def _lines(path: Path, fh: Iterable[bytes]) -> Iterator[bytes]:
    for line in fh:
        if line.strip():
            yield line if line.endswith(b"\n") else line + b"\n"


def line_filename(line: bytes) -> str:
    """The ``filename`` field of one CDXJ line ("" when it has none)."""
    _key, _ts, rest = line.split(b" ", 2)
    try:
        value = json.loads(rest).get("filename", "")
    except ValueError:
        return ""
    return str(value)


def merge_indexes(sources: Iterable[Path], out: Path, *, drop_files: Collection[str] = ()) -> int:
    """Merge sorted CDXJ files into one sorted file, streaming; lines of ``drop_files`` (WARC
    names) are left out. Returns the line count written."""
    count = 0
    tmp = out.with_name(out.name + ".tmp")
    with ExitStack() as stack, open(tmp, "wb") as dest:
        streams = [_lines(p, stack.enter_context(open(p, "rb"))) for p in sources]
        previous = b""
        for line in heapq.merge(*streams):
            if line == previous or (drop_files and line_filename(line) in drop_files):
                continue
            dest.write(line)
            previous = line
            count += 1
    os.replace(tmp, out)
    return count
