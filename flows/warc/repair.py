"""Repair the torn tail of a WARC file left ``.open`` by a crawl that died (SIGKILL, power loss).

The spool writes one gzip member per record and flushes after each (``spiders.warcspool``), so a
crash can only tear the member being written. ``complete_prefix`` walks the members in bounded
memory and returns the length of the prefix made of complete members that each decode to a WARC
record (``WARC/1.x`` first); ``repair_open_file`` cuts the file there and closes it under its
final name, or, when not even one record is complete, moves it to the run's ``quarantine/``
directory, which is never archived. Nothing torn is ever handed on as is.
"""

from __future__ import annotations

import logging
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

# A WARC file still being written; renamed without it when closed (spool) or repaired.
OPEN_SUFFIX = ".open"


log = logging.getLogger(__name__)
QUARANTINE = "quarantine"
_CHUNK = 1 << 20
_OUT = 1 << 16


@dataclass(frozen=True)
class Repair:
    path: Path  # where the file is now: its closed name, or in quarantine
    records: int  # complete records kept
    kept_bytes: int
    cut_bytes: int  # the torn tail removed (0 if the file was whole)

    @property
    def quarantined(self) -> bool:
        return self.path.parent.name == QUARANTINE


def complete_prefix(path: Path) -> tuple[int, int]:
    """(bytes, records): the longest prefix of whole gzip members that are WARC records."""
    good_end, records = 0, 0
    offset = 0  # file offset of ``buf``'s first byte
    with open(path, "rb") as fh:
        decomp = zlib.decompressobj(31)
        first = b""
        buf = b""
        while True:
            if not buf:
                buf = fh.read(_CHUNK)
                if not buf:
                    return good_end, records
            try:
                out = decomp.decompress(buf, _OUT)
            except zlib.error:
                return good_end, records
            if len(first) < 8:
                first += out[: 8 - len(first)]
            if decomp.eof:
                end = offset + len(buf) - len(decomp.unused_data)
                if not first.startswith(b"WARC/1."):
                    return good_end, records
                good_end, records = end, records + 1
                buf, offset = decomp.unused_data, end
                decomp, first = zlib.decompressobj(31), b""
            elif decomp.unconsumed_tail:
                tail = decomp.unconsumed_tail
                offset += len(buf) - len(tail)
                buf = tail
            else:
                offset += len(buf)
                buf = b""


def repair_open_file(path: Path) -> Repair:
    """Cut a ``*.warc.gz.open`` file to its complete records and close it (or quarantine it)."""
    if not path.name.endswith(OPEN_SUFFIX):
        raise ValueError(f"{path} is not an open spool file")
    size = path.stat().st_size
    kept, records = complete_prefix(path)
    if records == 0:
        quarantine = path.parent.parent / QUARANTINE
        quarantine.mkdir(exist_ok=True)
        target = quarantine / path.name
        os.replace(path, target)
        log.warning("%s holds no complete WARC record: moved to %s", path.name, target)
        return Repair(target, 0, 0, size)
    if kept < size:
        with open(path, "r+b") as fh:
            fh.truncate(kept)
            fh.flush()
            os.fsync(fh.fileno())
        log.warning("%s: torn tail of %d bytes cut (%d records)", path.name, size - kept, records)
    final = path.with_name(path.name[: -len(OPEN_SUFFIX)])
    os.replace(path, final)
    return Repair(final, records, kept, size - kept)


def repair_dir(warc_dir: Path) -> list[Repair]:
    """Repair every ``.open`` file of a run's WARC directory (in name order)."""
    if not warc_dir.is_dir():
        return []
    return [repair_open_file(p) for p in sorted(warc_dir.glob("*" + OPEN_SUFFIX))]
