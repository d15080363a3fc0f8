"""From a run's cleaned pages to what the run archives: versions, aliases, deletions.

The one function live runs and reprocessing share after cleaning: ``derive`` takes the cleaned
records of a run (``flows.derive.process``) and the site state before the run, and returns the
article
records to write (new articles and new versions only) and the run's events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from flows.clean import canonical_url
from flows.derive.articles import ArticleRecord
from flows.derive.deletions import detect_deletions
from flows.derive.events import DeletedEvent, Event
from flows.derive.process import ProcessCounts, ProcessResult
from flows.derive.spill import RunRecord
from flows.derive.versions import PreviousText, Reconciled, reconcile
from flows.state import SiteState
from flows.store import Keys


def canonical(url: str) -> str:
    return canonical_url(url)


class DerivedCounts(ProcessCounts):
    """A run's counts once derived (``RunCounts`` in the manifest adds the indexes')."""

    new_articles: int
    new_versions: int
    unchanged: int
    near_duplicates: int
    deletions: int
    restored: int


@dataclass
class Derived:
    process: ProcessResult
    reconciled: Reconciled
    events: list[Event] = field(default_factory=list)

    @property
    def records(self) -> list[RunRecord]:
        """What this run writes; light when spilled (see ``full_records``)."""
        return self.reconciled.records

    def full_records(self) -> Iterator[ArticleRecord]:
        """The records as archived (read back from the spill, one at a time)."""
        return self.process.spilled.full(self.reconciled.records)

    @property
    def deletions(self) -> list[DeletedEvent]:
        return [e for e in self.events if e["kind"] == "deleted"]

    def summary(self) -> DerivedCounts:
        return {  # the process's keys first, in their order (changes.json is not sorted)
            **self.process.summary(),
            "articles": len(self.records),
            "new_articles": self.reconciled.new,
            "new_versions": self.reconciled.versions,
            "unchanged": len(self.reconciled.unchanged),
            "near_duplicates": self.reconciled.near_duplicates,
            "aliases": self.process.aliases + len(self.reconciled.aliases),
            "deletions": len(self.deletions),
            "restored": sum(1 for e in self.events if e["kind"] == "restored"),
        }


def derive(
    result: ProcessResult,
    state: SiteState,
    run_id: str,
    keys: Keys,
    previous_text: PreviousText,
) -> Derived:
    reconciled = reconcile(state, result.records, previous_text, result.spilled.text)
    events: list[Event] = list(reconciled.aliases)
    for record in [*reconciled.records, *reconciled.unchanged]:
        entry = state.articles.get(record["id"])
        if entry is not None and entry.deleted is not None:
            events.append(
                {
                    "kind": "restored",
                    "article_id": entry.id,
                    "url": record["url"],
                    "time": record["provenance"]["fetched_at"],
                    "run_id": run_id,
                    "evidence": {
                        "warc_key": record["provenance"]["warc_key"],
                        "warc_record_id": record["provenance"]["warc_record_id"],
                        "http_status": record["provenance"]["http_status"],
                    },
                }
            )
    events += detect_deletions(state, result, run_id, canonical, keys.warc)
    return Derived(result, reconciled, events)
