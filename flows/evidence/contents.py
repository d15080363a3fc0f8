"""What an auditor checks inside a run's files, once their bytes match the manifest: every WARC
record's block and payload digests, every revisit resolving to an original with the same
digest, and every CDXJ line pointing at the record it names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from warcio.archiveiterator import ArchiveIterator

from flows.warc import WARC_READ_ERRORS

IDENTICAL: Final = "identical-payload-digest"
_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Record:
    """One response or revisit record as read back from an archived WARC file."""

    file: str
    offset: int
    type: str
    uri: str
    date: str
    id: str
    digest: str
    profile: str = ""
    refers_to: str = ""  # WARC-Refers-To (a record id)
    refers_uri: str = ""
    refers_date: str = ""


@dataclass
class Originals:
    """The response records seen so far (this run's and earlier runs'), for revisits to find."""

    by_id: dict[str, str] = field(default_factory=dict)  # record id -> payload digest
    by_capture: dict[tuple[str, str], str] = field(default_factory=dict)  # (uri, date) -> digest

    def add(self, uri: str, date: str, record_id: str, digest: str) -> None:
        self.by_id[record_id] = digest
        self.by_capture[(uri, date)] = digest


def read_warc(path: Path) -> tuple[list[Record], list[str]]:
    """The file's response/revisit records and its problems (digest failures, unreadable)."""
    records: list[Record] = []
    problems: list[str] = []
    try:
        with open(path, "rb") as fh:
            it = ArchiveIterator(fh, check_digests=True)
            for record in it:
                while record.raw_stream.read(_CHUNK):  # raw: digests cover the bytes as stored
                    pass
                headers = record.rec_headers
                rec_id = headers.get_header("WARC-Record-ID") or "?"
                if record.digest_checker.passed is False:
                    problems += [f"record {rec_id}: {p}" for p in record.digest_checker.problems]
                if record.rec_type not in ("response", "revisit"):
                    continue
                records.append(
                    Record(
                        file=path.name,
                        offset=it.get_record_offset(),
                        type=record.rec_type,
                        uri=headers.get_header("WARC-Target-URI") or "",
                        date=headers.get_header("WARC-Date") or "",
                        id=rec_id,
                        digest=headers.get_header("WARC-Payload-Digest") or "",
                        profile=headers.get_header("WARC-Profile") or "",
                        refers_to=headers.get_header("WARC-Refers-To") or "",
                        refers_uri=headers.get_header("WARC-Refers-To-Target-URI") or "",
                        refers_date=headers.get_header("WARC-Refers-To-Date") or "",
                    )
                )
    except WARC_READ_ERRORS as exc:
        problems.append(f"not a readable WARC file ({exc})")
    return records, problems


def revisit_problems(records: list[Record], originals: Originals) -> Iterator[str]:
    """Each revisit must name an original that exists; an identical-payload revisit's original
    must carry the same payload digest. ``originals`` gains this run's responses first."""
    for rec in records:
        if rec.type == "response":
            originals.add(rec.uri, rec.date, rec.id, rec.digest)
    for rec in records:
        if rec.type != "revisit":
            continue
        found = originals.by_id.get(rec.refers_to)
        if found is None:
            found = originals.by_capture.get((rec.refers_uri, rec.refers_date))
        if found is None:
            if rec.refers_to or rec.refers_uri or rec.profile.endswith(IDENTICAL):
                yield (
                    f"revisit {rec.id} ({rec.uri}) refers to {rec.refers_to or rec.refers_uri} "
                    f"{rec.refers_date}, which the archive does not hold"
                )
        elif rec.profile.endswith(IDENTICAL) and found != rec.digest:
            yield (
                f"revisit {rec.id} ({rec.uri}) has digest {rec.digest} but its original has {found}"
            )


def _bare(digest: str) -> str:
    return digest.split(":", 1)[-1].upper()


def cdxj_problems(cdxj: Path, records: dict[tuple[str, int], Record]) -> Iterator[str]:
    """Each CDXJ line must point (file, offset) at a record of its URL, date and digest."""
    with open(cdxj, "rb") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                _key, stamp, rest = line.split(b" ", 2)
                fields = json.loads(rest)
                where = (str(fields["filename"]), int(fields["offset"]))
            except (ValueError, KeyError, TypeError):
                yield f"line {number} is not a CDXJ line"
                continue
            rec = records.get(where)
            if rec is None:
                yield f"line {number} points at {where[0]}@{where[1]}, where no record starts"
            elif rec.uri != fields.get("url"):
                yield f"line {number} names {fields.get('url')} but the record is of {rec.uri}"
            elif "digest" in fields and _bare(str(fields["digest"])) != _bare(rec.digest):
                yield f"line {number} has digest {fields['digest']}, the record {rec.digest}"
            elif not "".join(c for c in rec.date if c.isdigit()).startswith(stamp.decode()):
                yield f"line {number} has time {stamp.decode()}, the record {rec.date}"
