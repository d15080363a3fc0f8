"""The digest index: what a site's archive already holds, for revisits and conditional requests.

Format (``captures.jsonl.gz``, schema ``newsvault.captures/1``): gzip'd JSON Lines, one object
per ``response`` or ``revisit`` record of a run, in WARC order::

    {"uri": "http://host/path?q",            # WARC-Target-URI
     "date": "2017-07-23T14:32:05.123456Z",  # WARC-Date
     "id": "<urn:uuid:...>",                 # WARC-Record-ID
     "type": "response" | "revisit",
     "status": 200,                          # HTTP status
     "digest": "sha1:BASE32",                # WARC-Payload-Digest (the original's, for a revisit)
     "etag": "\\"abc\\"" | null,             # the response's ETag header
     "last_modified": "Sun, ..." | null,     # its Last-Modified header
     "file": "SITE-RUN-00001.warc.gz",       # the WARC file holding the record
     "refers_to": null | {"id": ..., "uri": ..., "date": ...}}  # revisits: the payload's record

Each run archives its own index beside its WARCs (built from the WARCs alone, so it can always
be rebuilt from the archive). Two lookups derive from any set of lines, read in chronological
order:

- payload digest -> the earliest ``response`` with that digest and a non-empty payload (what an
  identical-payload revisit refers to);
- URL -> its latest capture of any type, with that capture's ETag / Last-Modified (what a
  conditional request sends, and what a ``server-not-modified`` revisit refers to via
  ``payload_source``).

``compact`` keeps only the lines those two lookups need, so the "prior captures" file handed to a
crawl grows with the site's distinct URLs and payloads, not with its number of runs.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from flows.errors import ExtractionError

# What warcio raises on bytes that are not (or no longer) a WARC: a torn gzip member, garbage, or
# a header block cut short (a stored member can end right after "WARC-Type: response", and warcio
# then calls .startswith on the missing target URI). Every reader translates these once.
WARC_READ_ERRORS = (
    ArchiveLoadFailed,
    ValueError,
    EOFError,
    OSError,
    zlib.error,
    IndexError,
    KeyError,
    TypeError,
    AttributeError,
)

SCHEMA = "newsvault.captures/1"
EMPTY_DIGEST = "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"  # sha1 of b"", base32
RecordType = Literal["response", "revisit"]  # the WARC records the index holds


class RecordCounts(TypedDict):
    """A run's index entries by record type (``write_run_index``; the manifest's counts)."""

    response: int
    revisit: int


@dataclass(frozen=True, slots=True)
class Ref:
    """A record that holds a payload: what ``WARC-Refers-To*`` headers name."""

    id: str
    uri: str
    date: str


@dataclass(frozen=True, slots=True)  # one per URL and digest of the site: kept small
class CaptureEntry:
    uri: str
    date: str
    id: str
    type: str
    status: int
    digest: str
    etag: str | None = None
    last_modified: str | None = None
    file: str = ""
    refers_to: Ref | None = None

    @property
    def payload_source(self) -> Ref | None:
        """The record holding this capture's payload (itself, or what a revisit points at)."""
        if self.type == "response":
            return Ref(self.id, self.uri, self.date)
        return self.refers_to

    def to_json(self) -> str:
        data = asdict(self)
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> CaptureEntry:
        data: dict[str, Any] = json.loads(line)
        ref = data.get("refers_to")
        return cls(
            uri=str(data["uri"]),
            date=str(data["date"]),
            id=str(data["id"]),
            type=str(data["type"]),
            status=int(data.get("status") or 0),
            digest=str(data.get("digest") or ""),
            etag=data.get("etag"),
            last_modified=data.get("last_modified"),
            file=str(data.get("file") or ""),
            refers_to=Ref(str(ref["id"]), str(ref["uri"]), str(ref["date"])) if ref else None,
        )


def read_entries(path: Path) -> Iterator[CaptureEntry]:
    """Stream the entries of a ``captures.jsonl.gz`` file (blank lines ignored)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield CaptureEntry.from_json(line)


def write_entries(path: Path, entries: Iterable[CaptureEntry]) -> int:
    """Write entries (gzip, mtime 0, so equal content gives equal bytes); returns the count."""
    count = 0
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fh:
        for entry in entries:
            fh.write(entry.to_json().encode("utf-8") + b"\n")
            count += 1
    tmp.replace(path)
    return count


class CaptureIndex:
    """The two lookups over a chronological stream of entries; ``add`` as records are written."""

    def __init__(self) -> None:
        self._by_digest: dict[str, CaptureEntry] = {}
        self._by_uri: dict[str, CaptureEntry] = {}

    def __len__(self) -> int:
        return len(self._by_uri)

    def add(self, entry: CaptureEntry) -> None:
        if (
            entry.type == "response"
            and entry.digest
            and entry.digest != EMPTY_DIGEST
            and entry.digest not in self._by_digest
        ):
            self._by_digest[entry.digest] = entry
        latest = self._by_uri.get(entry.uri)
        if latest is None or entry.date >= latest.date:
            self._by_uri[entry.uri] = entry

    def load(self, entries: Iterable[CaptureEntry]) -> CaptureIndex:
        for entry in entries:
            self.add(entry)
        return self

    def original(self, digest: str) -> CaptureEntry | None:
        """The earliest response whose payload has this digest (never the empty payload)."""
        return self._by_digest.get(digest)

    def latest(self, uri: str) -> CaptureEntry | None:
        """The URL's latest capture (response or revisit)."""
        return self._by_uri.get(uri)

    def uris(self) -> list[str]:
        """Every URL with a capture, sorted."""
        return sorted(self._by_uri)

    def compact(self) -> list[CaptureEntry]:
        """The lines both lookups need, in date order (so reloading gives the same index)."""
        keep = {e.id: e for e in self._by_digest.values()}
        keep.update((e.id, e) for e in self._by_uri.values())
        return sorted(keep.values(), key=lambda e: (e.date, e.id))


def _header(record: Any, name: str) -> str | None:
    if record.http_headers is None:
        return None
    value = record.http_headers.get_header(name)
    return str(value) if value is not None else None


def entries_from_warc(path: Path) -> Iterator[CaptureEntry]:
    """The index entries of one WARC file (response and revisit records); a file that is not a
    valid WARC raises ``ExtractionError`` naming it."""
    try:
        yield from _entries(path)
    except WARC_READ_ERRORS as exc:
        raise ExtractionError(f"{path} is not a valid WARC file ({exc}); quarantine it") from exc


def _entries(path: Path) -> Iterator[CaptureEntry]:
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.format != "warc":  # warcio reads anything else as a lenient ARC
                raise ArchiveLoadFailed(f"not a WARC record ({record.format})")
            if record.rec_type not in ("response", "revisit"):
                continue
            headers = record.rec_headers
            refers_to = None
            if record.rec_type == "revisit" and headers.get_header("WARC-Refers-To"):
                refers_to = Ref(
                    headers.get_header("WARC-Refers-To"),
                    headers.get_header("WARC-Refers-To-Target-URI") or "",
                    headers.get_header("WARC-Refers-To-Date") or "",
                )
            status = record.http_headers.get_statuscode() if record.http_headers else 0
            yield CaptureEntry(
                uri=headers.get_header("WARC-Target-URI") or "",
                date=headers.get_header("WARC-Date") or "",
                id=headers.get_header("WARC-Record-ID") or "",
                type=record.rec_type,
                status=int(status or 0),
                digest=headers.get_header("WARC-Payload-Digest") or "",
                etag=_header(record, "ETag"),
                last_modified=_header(record, "Last-Modified"),
                file=path.name,
                refers_to=refers_to,
            )


def write_run_index(warcs: Iterable[Path], out: Path) -> RecordCounts:
    """Build a run's ``captures.jsonl.gz`` from its WARC files; returns counts by record type."""
    counts: Counter[str] = Counter()

    def counted() -> Iterator[CaptureEntry]:
        for path in warcs:
            for entry in entries_from_warc(path):
                counts[entry.type] += 1
                yield entry

    write_entries(out, counted())
    return {"response": counts["response"], "revisit": counts["revisit"]}


def write_compacted(sources: Iterable[Path], out: Path) -> int:
    """Union of several index files (oldest first), compacted; returns the entry count."""
    index = CaptureIndex()
    for source in sources:
        index.load(read_entries(source))
    return write_entries(out, index.compact())
