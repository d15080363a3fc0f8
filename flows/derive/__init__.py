"""Derive: from a run's WARC files to what the run archives. ``process`` cleans the article
responses and reads the listing; ``derive`` reconciles them with the site state into versions,
aliases and deletions; ``articles`` is the contract of ``articles.jsonl.gz`` and ``events`` that
of ``events.jsonl.gz`` (their JSON Schemas, and the manifest's, are in ``schema/``)."""

from flows.derive.articles import (
    ArticleQuality,
    ArticleRecord,
    ChangedField,
    CoreRecord,
    DiffOp,
    RecordProvenance,
    read_jsonl_gz,
    write_jsonl_gz,
)
from flows.derive.events import (
    AliasEvent,
    DeletedEvent,
    DeletionHow,
    Event,
    EventKind,
    ListingEvidence,
    RecordEvidence,
    ResponseEvidence,
    RestoredEvent,
)
from flows.derive.learn import learn_template, learns_template
from flows.derive.process import (
    FileResult,
    ProcessCounts,
    clean_warc,
    merge_results,
    process_warcs,
)
from flows.derive.run import Derived, DerivedCounts, derive
from flows.derive.spill import RunRecord, SpilledRecord

__all__ = [
    "AliasEvent",
    "ArticleQuality",
    "ArticleRecord",
    "ChangedField",
    "CoreRecord",
    "DeletedEvent",
    "DeletionHow",
    "Derived",
    "DerivedCounts",
    "DiffOp",
    "Event",
    "EventKind",
    "FileResult",
    "ListingEvidence",
    "ProcessCounts",
    "RecordEvidence",
    "RecordProvenance",
    "ResponseEvidence",
    "RestoredEvent",
    "RunRecord",
    "SpilledRecord",
    "clean_warc",
    "derive",
    "learn_template",
    "learns_template",
    "merge_results",
    "process_warcs",
    "read_jsonl_gz",
    "write_jsonl_gz",
]
