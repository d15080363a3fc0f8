"""Article texts kept on disk while a run is processed, so memory stays flat in the site's size.

A cleaned record is a few hundred bytes of metadata and a text of several kilobytes. Cleaning
writes each text to a spill file beside the run (one per WARC file, written by whichever process
cleaned it) and keeps only a reference in the record (``TEXT_REF``: file name, offset, length);
everything after cleaning (merge, reconcile, state) works on those light records, and the texts
are read back only where they are needed: a diff against the previous version, and the final
``articles.jsonl.gz``, whose bytes are the same as without spilling.

A spill file is scratch: it lives in the run's spool directory (removed with it) and is never
archived. Workers on other machines (a remote Dask cluster) don't share that directory: they
clean without spilling.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

TEXT_REF = "_text_ref"
SPILL_SUFFIX = ".texts"


class TextSpill:
    """Appends texts to one spill file; ``put`` turns a full record into a light one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[bytes] = open(path, "wb")
        self._offset = 0

    def put(self, record: dict[str, Any]) -> dict[str, Any]:
        data = record.pop("text").encode("utf-8")
        self._fh.write(data)
        record[TEXT_REF] = [self.path.name, self._offset, len(data)]
        self._offset += len(data)
        return record

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> TextSpill:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def spill_path(spill_dir: Path, warc_name: str) -> Path:
    return spill_dir / (warc_name + SPILL_SUFFIX)


class Texts:
    """Reads spilled texts back (or the text a record still holds, when it was not spilled)."""

    def __init__(self, spill_dir: Path | None) -> None:
        self.spill_dir = spill_dir

    def _read(self, record: dict[str, Any], handles: dict[str, IO[bytes]]) -> str:
        ref = record.get(TEXT_REF)
        if ref is None:
            return str(record["text"])
        if self.spill_dir is None:
            raise ValueError(f"record {record.get('id')!r} has a spilled text but no spill dir")
        name, offset, length = ref
        fh = handles.get(name)
        if fh is None:
            fh = handles[name] = open(self.spill_dir / Path(name).name, "rb")
        fh.seek(offset)
        data = fh.read(length)
        if len(data) != length:
            raise ValueError(f"spill file {name} is shorter than the text of {record.get('id')!r}")
        return data.decode("utf-8")

    def text(self, record: dict[str, Any]) -> str:
        handles: dict[str, IO[bytes]] = {}
        try:
            return self._read(record, handles)
        finally:
            for fh in handles.values():
                fh.close()

    def full(self, records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The records as archived: each light record with its text back in place."""
        handles: dict[str, IO[bytes]] = {}
        try:
            for record in records:
                if TEXT_REF not in record:
                    yield record
                    continue
                full = {k: v for k, v in record.items() if k != TEXT_REF}
                full["text"] = self._read(record, handles)
                yield full
        finally:
            for fh in handles.values():
                fh.close()
