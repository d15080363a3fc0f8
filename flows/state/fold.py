"""A site's state: what the archive holds, so the next run (on any machine) can continue.

Two objects beside the archive, both derived from it and so rebuildable from it alone:

- ``sites/{site}/state/captures.jsonl.gz`` — the compacted digest index (``flows.warc.captures``):
  payload digest -> original record (revisits), URL -> latest capture with its ETag and
  Last-Modified (conditional requests);
- ``sites/{site}/state/state.json.gz`` — per article: current version, where that version's record
  is, its content hash, title, SimHash, aliases and deletion; plus the runs applied, the
  captures object's SHA-256 and the site template's statistics (``flows.clean.template``; sites
  cleaned without a profile selector only). Written last: it is the commit point.

The state after a run is a pure fold of the state before it with that run's archived outputs
(``articles.jsonl.gz``, ``events.jsonl.gz``, ``captures.jsonl.gz``, ``template.json.gz``), so
``rebuild`` (folding every archived run in order) equals what live runs saved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Literal

from typing_extensions import ReadOnly, TypedDict

from flows.clean import TemplateStats
from flows.warc import dump_gzjson, load_gzjson

STATE_SCHEMA = "newsvault.state/1"


# What the fold reads of the archived outputs of a run. Article records and events are
# ``flows.derive``'s contracts (``ArticleRecord``, ``Event``), and derive builds on the state, so
# the state names only the fields it reads, read-only: derive's types fit these views (mypy checks
# it where derive's outputs are folded) and tests/test_contracts.py checks them against the
# published JSON Schemas.
class FoldedProvenance(TypedDict):
    fetched_at: ReadOnly[str]


class FoldedRecord(TypedDict):
    id: ReadOnly[str]
    canonical_url: ReadOnly[str]
    version: ReadOnly[int]
    content_hash: ReadOnly[str]
    title: ReadOnly[str | None]
    simhash: ReadOnly[str]
    aliases: ReadOnly[list[str]]
    provenance: ReadOnly[FoldedProvenance]


class FoldedAlias(TypedDict):
    kind: ReadOnly[Literal["alias"]]
    article_id: ReadOnly[str]
    url: ReadOnly[str]


class FoldedDeletion(TypedDict):
    kind: ReadOnly[Literal["deleted"]]
    article_id: ReadOnly[str]
    how: ReadOnly[str]
    time: ReadOnly[str]
    run_id: ReadOnly[str]
    evidence: ReadOnly[Mapping[str, object]]


class FoldedRestoration(TypedDict):
    kind: ReadOnly[Literal["restored"]]
    article_id: ReadOnly[str]


FoldedEvent = FoldedAlias | FoldedDeletion | FoldedRestoration


class Deletion(TypedDict):
    """An article's deletion, as its deletion event says (``ArticleEntry.deleted``)."""

    how: str
    time: str
    run_id: str
    evidence: Mapping[str, object]


@dataclass(slots=True)  # one per article of the site: kept small
class ArticleEntry:
    id: str
    url: str
    version: int
    record_ref: str  # "{articles.jsonl.gz key}#{id}@{version}"
    content_hash: str
    title: str | None
    simhash: str
    first_seen: str
    updated: str
    aliases: list[str] = field(default_factory=list)
    deleted: Deletion | None = None

    @property
    def record_key(self) -> str:
        return self.record_ref.split("#", 1)[0]


@dataclass
class SiteState:
    site: str
    runs: list[str] = field(default_factory=list)
    articles: dict[str, ArticleEntry] = field(default_factory=dict)
    captures_sha256: str = ""
    template: TemplateStats | None = None  # the latest run's, when it learned one

    # -- the fold ----------------------------------------------------------------------------
    def apply_run(
        self,
        run_id: str,
        articles_key: str,
        records: Iterable[FoldedRecord],
        events: Iterable[FoldedEvent],
        template: TemplateStats | None = None,
    ) -> None:
        """Fold one archived run's outputs into the state (order: records, then events; the
        run's template statistics, if it learned any, replace the state's)."""
        for record in records:
            previous = self.articles.get(record["id"])
            fetched = record["provenance"]["fetched_at"]
            self.articles[record["id"]] = ArticleEntry(
                id=record["id"],
                url=record["canonical_url"],
                version=record["version"],
                record_ref=f"{articles_key}#{record['id']}@{record['version']}",
                content_hash=record["content_hash"],
                title=record["title"],
                simhash=record["simhash"],
                first_seen=previous.first_seen if previous else fetched,
                updated=fetched,
                aliases=sorted(set(previous.aliases if previous else []) | set(record["aliases"])),
                deleted=None,
            )
        for event in events:
            entry = self.articles.get(event["article_id"])
            if entry is None:
                continue
            if event["kind"] == "alias" and event["url"] not in entry.aliases:
                entry.aliases = sorted([*entry.aliases, event["url"]])
            elif event["kind"] == "deleted":
                entry.deleted = {
                    "how": event["how"],
                    "time": event["time"],
                    "run_id": event["run_id"],
                    "evidence": event["evidence"],
                }
            elif event["kind"] == "restored":
                entry.deleted = None
        if template is not None:
            self.template = template
        if run_id not in self.runs:
            self.runs.append(run_id)

    # -- serialisation -----------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        data = {
            "site": self.site,
            "runs": self.runs,
            "captures_sha256": self.captures_sha256,
            "articles": {k: asdict(v) for k, v in sorted(self.articles.items())},
        }
        if self.template is not None:  # absent, not null: states of profiled sites unchanged
            data["template"] = self.template.to_json()
        return dump_gzjson(STATE_SCHEMA, data)

    @classmethod
    def from_bytes(cls, raw: bytes) -> SiteState:
        """Parse a saved state; ``ValueError`` names what is wrong with it."""
        data = load_gzjson(raw, STATE_SCHEMA, "state")
        try:
            articles = {k: ArticleEntry(**v) for k, v in data["articles"].items()}
            template = data.get("template")
            return cls(
                site=str(data["site"]),
                runs=[str(r) for r in data["runs"]],
                articles=articles,
                captures_sha256=str(data.get("captures_sha256", "")),
                template=None if template is None else TemplateStats.from_json(template),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed state ({exc})") from exc

    def digest(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    # -- queries -----------------------------------------------------------------------------
    def live_articles(self) -> dict[str, ArticleEntry]:
        return {k: v for k, v in self.articles.items() if v.deleted is None}

    def by_url(self) -> dict[str, ArticleEntry]:
        found: dict[str, ArticleEntry] = {}
        for entry in self.articles.values():
            found[entry.url] = entry
            for alias in entry.aliases:
                found.setdefault(alias, entry)
        return found
