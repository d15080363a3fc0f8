"""Article identity across runs: new, unchanged, new version, alias or near-duplicate.

``reconcile`` compares this run's cleaned records with the site state and decides, per record:
- same id, same title and text -> unchanged: no record is written (a boilerplate-only change of
  the page never makes a version);
- same id, title or text changed -> version n+1 with the fields changed, a paragraph-level diff
  and a link to the previous version;
- new id whose text hash is already archived under another id -> alias of that article (an
  event, no record);
- new id whose SimHash is within ``NEAR_DUPLICATE_BITS`` of an archived article -> a new article
  flagged ``near_duplicate_of``;
- otherwise a new article, version 1.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from flows.derive.articles import ChangedField, DiffOp
from flows.derive.events import AliasEvent, RecordEvidence
from flows.derive.spill import RunRecord, Spilled
from flows.state import ArticleEntry, SiteState

# Hamming distance on 64-bit SimHash of word 3-shingles. Calibrated on the replica: republished
# copies (same text plus or minus a line) measure 0-6 bits, distinct articles 18+ (see
# tests/test_versions.py::test_threshold_separates_copies_from_distinct_articles).
NEAR_DUPLICATE_BITS = 8
_BANDS = NEAR_DUPLICATE_BITS + 1  # pigeonhole: distance <= 8 means one of 9 bands is identical
# 64 bits in 9 bands that cover every bit once: one of 8 bits, eight of 7.
_WIDTHS = [64 // _BANDS + (1 if i < 64 % _BANDS else 0) for i in range(_BANDS)]
_SHIFTS = [sum(_WIDTHS[:i]) for i in range(_BANDS)]

PreviousText = Callable[[ArticleEntry], str | None]
_UNSPILLED = Spilled(None)  # reads the text of a record that is not spilled


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _bands(value: int) -> list[tuple[int, int]]:
    return [
        (i, (value >> shift) & ((1 << width) - 1))
        for i, (shift, width) in enumerate(zip(_SHIFTS, _WIDTHS, strict=True))
    ]


class NearDuplicateIndex:
    """Candidates within ``NEAR_DUPLICATE_BITS`` by band lookup, without comparing all pairs."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[int, int], list[tuple[str, int]]] = {}

    def add(self, article_id: str, simhash: str) -> None:
        value = int(simhash, 16)
        for band in _bands(value):
            self._buckets.setdefault(band, []).append((article_id, value))

    def nearest(self, simhash: str, exclude: str) -> tuple[str, int] | None:
        value = int(simhash, 16)
        best: tuple[str, int] | None = None
        for band in _bands(value):
            for other_id, other in self._buckets.get(band, ()):
                distance = (value ^ other).bit_count()
                if (
                    distance <= NEAR_DUPLICATE_BITS
                    and other_id != exclude
                    and (best is None or (distance, other_id) < (best[1], best[0]))
                ):
                    best = (other_id, distance)
        return best


def paragraph_diff(old: str, new: str) -> list[DiffOp]:
    """Changed paragraphs only: ``{"op", "old_index", "new_index", "old", "new"}``."""
    a, b = old.split("\n"), new.split("\n")
    ops: list[DiffOp] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        ops.append({"op": tag, "old_index": i1, "new_index": j1, "old": a[i1:i2], "new": b[j1:j2]})
    return ops


@dataclass
class Reconciled:
    records: list[RunRecord] = field(default_factory=list)  # what this run writes
    unchanged: list[RunRecord] = field(default_factory=list)
    aliases: list[AliasEvent] = field(default_factory=list)  # events
    new: int = 0
    versions: int = 0
    near_duplicates: int = 0


def reconcile(
    state: SiteState,
    records: list[RunRecord],
    previous_text: PreviousText,
    text_of: Callable[[RunRecord], str] = _UNSPILLED.text,
) -> Reconciled:
    """``text_of`` reads a record's text (the record may be spilled to disk:
    ``flows.derive.spill``; the default reads records that are not)."""
    out = Reconciled()
    by_hash = {entry.content_hash: entry.id for entry in state.articles.values()}
    near = NearDuplicateIndex()
    for entry in state.articles.values():
        near.add(entry.id, entry.simhash)
    for record in records:
        existing = state.articles.get(record["id"])
        if existing is not None:
            if (
                existing.content_hash == record["content_hash"]
                and existing.title == record["title"]
            ):
                out.unchanged.append(record)
                continue
            changed: list[ChangedField] = []
            if existing.title != record["title"]:
                changed.append("title")
            if existing.content_hash != record["content_hash"]:
                changed.append("text")
            old_text = previous_text(existing)
            record["version"] = existing.version + 1
            record["previous_version"] = existing.record_ref
            record["changed_fields"] = changed
            record["diff"] = (
                paragraph_diff(old_text, text_of(record)) if old_text is not None else None
            )
            out.versions += 1
        else:
            same = by_hash.get(record["content_hash"])
            if same is not None and same != record["id"]:
                out.aliases.append(
                    {
                        "kind": "alias",
                        "article_id": same,
                        "alias_id": record["id"],
                        "url": record["url"],
                        "time": record["provenance"]["fetched_at"],
                        "evidence": _evidence(record),
                    }
                )
                continue
            hit = near.nearest(record["simhash"], exclude=record["id"])
            if hit is not None:
                record["near_duplicate_of"] = hit[0]
                out.near_duplicates += 1
            out.new += 1
        by_hash.setdefault(record["content_hash"], record["id"])
        near.add(record["id"], record["simhash"])
        out.records.append(record)
    return out


def _evidence(record: RunRecord) -> RecordEvidence:
    prov = record["provenance"]
    return {
        "warc_key": prov["warc_key"],
        "warc_record_id": prov["warc_record_id"],
        "http_status": prov["http_status"],
    }
