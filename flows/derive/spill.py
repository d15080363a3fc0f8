"""Article records kept on disk while a run is processed, so memory stays flat in the site's size.

A cleaned record is a text of several kilobytes and some thirty fields. Cleaning writes each
record, less the fields the later steps read (``CORE``), to a spill file beside the run (one per
WARC file, written by whichever process cleaned it) and keeps the core fields and a reference
(``SPILL_REF``: file name, offset, length). Merge, reconcile and the state work on those light
records; the rest is read back only where needed: a text for a diff against the previous
version, and every record for the final ``articles.jsonl.gz``, whose bytes are the same as
without spilling (the core fields, possibly updated, are laid over the spilled ones).

A spill file is scratch: it lives in the run's spool directory (removed with it) and is never
archived. Workers on other machines (a remote Dask cluster) don't share that directory: they
clean without spilling.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Final, cast, final

from flows.derive.articles import ArticleRecord, CoreRecord

SPILL_REF: Final = "_spill_ref"
SPILL_SUFFIX = ".spill"
# What merge, reconcile, derive, the state fold and the run report read or set.
CORE = CoreRecord.__required_keys__


@final
class SpilledRecord(CoreRecord):
    """A light record: the core fields, and where the rest is (file name, offset, length)."""

    _spill_ref: tuple[str, int, int]


# A record of the run being processed: in full, or light while its text is spilled.
RunRecord = ArticleRecord | SpilledRecord


class RecordSpill:
    """Appends records to one spill file; ``put`` turns a full record into a light one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = open(path, "wb")
        self._offset = 0

    def put(self, record: ArticleRecord) -> SpilledRecord:
        rest = {k: v for k, v in record.items() if k not in CORE}
        data = json.dumps(rest, ensure_ascii=False).encode("utf-8")
        self._fh.write(data)
        light = {k: v for k, v in record.items() if k in CORE}
        light[SPILL_REF] = (self.path.name, self._offset, len(data))
        self._offset += len(data)
        return cast(SpilledRecord, light)  # the core keys of an ArticleRecord, and the ref

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RecordSpill:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def spill_path(spill_dir: Path, warc_name: str) -> Path:
    return spill_dir / (warc_name + SPILL_SUFFIX)


class Spilled:
    """Reads spilled records back (a record that was not spilled is returned as it is)."""

    def __init__(self, spill_dir: Path | None) -> None:
        self.spill_dir = spill_dir

    def _read(self, record: RunRecord, handles: dict[str, IO[bytes]]) -> ArticleRecord:
        if SPILL_REF not in record:
            return record
        if self.spill_dir is None:
            raise ValueError(f"record {record.get('id')!r} has a spilled text but no spill dir")
        name, offset, length = record[SPILL_REF]
        fh = handles.get(name)
        if fh is None:
            fh = handles[name] = open(self.spill_dir / Path(name).name, "rb")
        fh.seek(offset)
        data = fh.read(length)
        if len(data) != length:
            raise ValueError(f"spill file {name} is shorter than the record {record.get('id')!r}")
        full: dict[str, object] = json.loads(data)
        full.update((k, v) for k, v in record.items() if k != SPILL_REF)
        return cast(ArticleRecord, full)  # the spilled fields and the core ones

    def text(self, record: RunRecord) -> str:
        handles: dict[str, IO[bytes]] = {}
        try:
            return str(self._read(record, handles)["text"])
        finally:
            for fh in handles.values():
                fh.close()

    def full(self, records: Iterable[RunRecord]) -> Iterator[ArticleRecord]:
        """The records as archived, read back one at a time."""
        handles: dict[str, IO[bytes]] = {}
        try:
            for record in records:
                yield self._read(record, handles)
        finally:
            for fh in handles.values():
                fh.close()
