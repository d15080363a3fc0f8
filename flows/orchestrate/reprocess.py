"""The ``reprocess`` flow: re-derive a site's article JSON and state from the archived WARCs.

The same code as a live run (``flows.derive.process`` map/merge, then ``flows.derive.run``),
reading WARCs
from S3 (verified against their manifests, ``flows.store.remote``) instead of the spool. The state
before run R is the fold of the runs before R: archived outputs for runs not reprocessed,
re-derived ones for runs this job reprocessed. With the cleaner version that archived a run, the
output must equal the archived JSONL byte for byte (reported as ``identical``); otherwise it is
written under ``sites/{site}/derived/{cleaner_version}/runs/{run_id}/`` (``SiteKeys.derived``)
with ``changes.json``.

Cleaning fans out per WARC file through the flow's task runner: a process pool on one machine
(``ProcessPoolTaskRunner``: cleaning is CPU-bound, threads would serialise on the GIL), a Dask
cluster (``prefect_dask.DaskTaskRunner``) across machines.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ProcessPoolTaskRunner

from flows.clean import CLEANER_VERSION, SiteTemplate, TemplateStats
from flows.derive import (
    CoreRecord,
    DerivedCounts,
    Event,
    FileResult,
    RunRecord,
    clean_warc,
    derive,
    merge_results,
    read_jsonl_gz,
    write_jsonl_gz,
)
from flows.errors import ConfigError
from flows.sites import SiteProfile, load_profile
from flows.state import SiteState, previous_text_loader, run_template
from flows.store import (
    ARTICLES,
    EVENTS,
    TEMPLATE,
    ArchivedRun,
    Keys,
    ObjectKind,
    SiteKeys,
    Store,
    StoreConfig,
    cache_root,
    check_run_id,
    check_store,
    fetch_verified,
    site_runs,
)

if TYPE_CHECKING:
    from prefect.task_runners import TaskRunner

_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class Comparison(TypedDict):
    """Archived vs re-derived records of one run, by ``{id}@{version}``."""

    added: list[str]
    removed: list[str]
    changed: list[str]
    changed_fields: dict[str, int]  # field name -> records where it changed


class RunChanges(Comparison):
    sha256_archived: str  # of the archived articles.jsonl.gz
    sha256_rederived: str


class OutcomeRow(RunChanges):
    """One reprocessed run, as the flow returns it."""

    run_id: str
    archived_cleaner: str
    articles: int
    identical: bool
    written: str | None


class ChangesReport(RunChanges):
    """``changes.json``, written beside re-derived outputs that differ from the archive."""

    cleaner_version: str
    archived_cleaner: str
    run_id: str
    summary: DerivedCounts


class ReprocessSummary(TypedDict):
    """What the ``reprocess`` flow returns (``newsvault replay reprocess`` prints it)."""

    site: str
    cleaner_version: str
    runs: list[OutcomeRow]
    identical: bool


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    archived_cleaner: str
    articles: int
    identical: bool
    written: str | None  # the derived prefix, when something was written
    changes: RunChanges

    def as_dict(self) -> OutcomeRow:
        return {
            "run_id": self.run_id,
            "archived_cleaner": self.archived_cleaner,
            "articles": self.articles,
            "identical": self.identical,
            "written": self.written,
            **self.changes,
        }


def select_runs(
    runs: list[ArchivedRun], only: list[str] | None, since: str | None
) -> list[ArchivedRun]:
    """The runs to reprocess; a run id that is not archived or a bad date is a ``ConfigError``."""
    if only:
        ids = {r.run_id for r in runs}
        for run_id in only:
            if check_run_id(run_id) not in ids:
                raise ConfigError(f"run {run_id!r} is not archived (or has no manifest)")
        return [r for r in runs if r.run_id in only]
    if since:
        match = _DATE_RE.match(since)
        if not match:
            raise ConfigError(f"--since {since!r} is not a date such as 2026-01-31")
        chosen = [r for r in runs if r.run_id[:8] >= "".join(match.groups())]
        if not chosen:
            raise ConfigError(f"no archived run since {since}")
        return chosen
    return list(runs)


@task(name="clean-warc", cache_policy=NO_CACHE)
def clean_warc_task(
    path: str, profile: SiteProfile, run_id: str, keys: Keys, template: SiteTemplate | None
) -> FileResult:
    return clean_warc(Path(path), profile, run_id, keys.warc, template=template)


def _jsonl_bytes(records: Iterable[Mapping[str, object]], path: Path) -> bytes:
    """Written by the live run's writer, so identical records give identical bytes."""
    write_jsonl_gz(path, records)
    return path.read_bytes()


def _archived_jsonl(
    store: Store, run: ArchivedRun, kind: ObjectKind, dest: Path
) -> tuple[bytes, list[Any]]:
    """The archived bytes and parsed lines (``ArticleRecord``s or ``Event``s) of one output."""
    entry = run.one(kind)
    if entry is None:
        return b"", []
    path = fetch_verified(store, entry, dest)
    return path.read_bytes(), read_jsonl_gz(path)


def compare(old: Sequence[CoreRecord], new: Sequence[CoreRecord]) -> Comparison:
    """What changed between archived and re-derived records of one run, by (id, version)."""
    before = {(r["id"], r["version"]): r for r in old}
    after = {(r["id"], r["version"]): r for r in new}
    fields: dict[str, int] = {}
    changed: list[str] = []
    for key in sorted(before.keys() & after.keys()):
        diff = [
            f
            for f in sorted(before[key].keys() | after[key].keys())
            if f != "provenance" and before[key].get(f) != after[key].get(f)
        ]
        if diff:
            changed.append(f"{key[0]}@{key[1]}")
            for name in diff:
                fields[name] = fields.get(name, 0) + 1
    return {
        "added": sorted(f"{i}@{v}" for i, v in after.keys() - before.keys()),
        "removed": sorted(f"{i}@{v}" for i, v in before.keys() - after.keys()),
        "changed": changed,
        "changed_fields": fields,
    }


def reprocess_run(
    store: Store,
    profile: SiteProfile,
    state: SiteState,
    run: ArchivedRun,
    template: TemplateStats | None,
) -> tuple[RunOutcome, str, list[RunRecord], list[Event]]:
    """Re-derive one run against ``state`` (the fold of the runs before it), with the site
    template the run archived (the one it cleaned with)."""
    site_keys = SiteKeys(store.config.prefix, profile.name)
    keys = site_keys.run(run.run_id)
    cache = cache_root() / profile.name / run.run_id
    warcs = [
        fetch_verified(store, o, cache / "warc" / Path(str(o["key"])).name)
        for o in run.objects("warc")
    ]
    futures = clean_warc_task.map(
        [str(p) for p in warcs],
        unmapped(profile),
        unmapped(run.run_id),
        unmapped(keys),
        unmapped(template.template() if template else None),
    )
    result = merge_results([f.result() for f in futures])
    derived = derive(result, state, run.run_id, keys, previous_text_loader(store))
    old_articles, old_records = _archived_jsonl(store, run, "articles", cache / "articles.jsonl.gz")
    old_events, _ = _archived_jsonl(store, run, "events", cache / "events.jsonl.gz")
    out = cache / f"rederived-{CLEANER_VERSION}"
    out.mkdir(parents=True, exist_ok=True)
    new_articles = _jsonl_bytes(list(derived.full_records()), out / "articles.jsonl.gz")
    new_events = _jsonl_bytes(derived.events, out / "events.jsonl.gz")
    identical = new_articles == old_articles and (new_events == old_events or not old_events)
    archived_cleaner = str(run.manifest.get("cleaner_version", "unknown"))
    changes: RunChanges = {
        **compare(old_records, derived.records),
        "sha256_archived": hashlib.sha256(old_articles).hexdigest(),
        "sha256_rederived": hashlib.sha256(new_articles).hexdigest(),
    }
    articles_key, written = keys.articles, None
    if not identical:
        written = site_keys.derived(CLEANER_VERSION, run.run_id)
        articles_key = written + ARTICLES
        store.put_bytes(articles_key, new_articles)
        store.put_bytes(written + EVENTS, new_events)
        report: ChangesReport = {
            "cleaner_version": CLEANER_VERSION,
            "archived_cleaner": archived_cleaner,
            "run_id": run.run_id,
            "summary": derived.summary(),
            **changes,
        }
        store.put_bytes(written + "changes.json", json.dumps(report, indent=1).encode())
    outcome = RunOutcome(
        run.run_id, archived_cleaner, len(derived.records), identical, written, changes
    )
    return outcome, articles_key, derived.records, derived.events


def markdown(site: str, outcomes: list[RunOutcome]) -> str:
    lines = [
        f"# Reprocessing of **{site}** with cleaner {CLEANER_VERSION}",
        "",
        "| run | archived with | articles | identical | added | removed | changed | written to |",
        "|---|---|---:|---|---:|---:|---:|---|",
    ]
    for o in outcomes:
        c = o.changes
        lines.append(
            f"| {o.run_id} | {o.archived_cleaner} | {o.articles} | {'yes' if o.identical else 'no'}"
            f" | {len(c['added'])} | {len(c['removed'])} | {len(c['changed'])} | "
            f"{o.written or '-'} |"
        )
    return "\n".join(lines) + "\n"


@flow(
    name="reprocess",
    flow_run_name="reprocess-{site}",
    task_runner=cast("Any", ProcessPoolTaskRunner()),  # invariant generic in Prefect's stubs
)
def reprocess(
    site: str, runs: list[str] | None = None, since: str | None = None
) -> ReprocessSummary:
    """Re-derive a site's runs (all, ``runs`` by id, or those ``since`` a date) from the archive."""
    logger = get_run_logger()
    profile = load_profile(site)
    config = StoreConfig.from_env()
    check_store(config)
    store = Store(config)
    archived = site_runs(store, site)
    for problem in archived.problems:
        logger.warning("skipped: %s", problem)
    targets = {r.run_id for r in select_runs(archived.runs, runs, since)}
    state, outcomes = SiteState(site), []
    for run in archived.runs:
        if not targets - set(state.runs):
            break
        template = run_template(store, run, cache_root() / site / run.run_id / TEMPLATE)
        if run.run_id in targets:
            outcome, key, records, events = reprocess_run(store, profile, state, run, template)
            logger.info("run %s: %s", run.run_id, outcome.as_dict())
            outcomes.append(outcome)
        else:  # the archived outputs, as the live runs folded them
            cache = cache_root() / site / run.run_id
            entry = run.one("articles")
            key = str(entry["key"]) if entry else ""
            records = _archived_jsonl(store, run, "articles", cache / ARTICLES)[1]
            events = _archived_jsonl(store, run, "events", cache / EVENTS)[1]
        state.apply_run(run.run_id, key, records, events, template)
    create_markdown_artifact(
        markdown(site, outcomes), key=f"{site}-reprocess", description="reprocessing report"
    )
    return {
        "site": site,
        "cleaner_version": CLEANER_VERSION,
        "runs": [o.as_dict() for o in outcomes],
        "identical": all(o.identical for o in outcomes),
    }


def task_runner(workers: int | None = None, dask: str | None = None) -> TaskRunner[Any]:
    if dask:
        from prefect_dask.task_runners import DaskTaskRunner

        return DaskTaskRunner(address=dask)
    return ProcessPoolTaskRunner(max_workers=workers)


def run_reprocess(
    site: str,
    *,
    run: str | None = None,
    since: str | None = None,
    workers: int | None = None,
    dask: str | None = None,
) -> ReprocessSummary:
    load_profile(site)  # unknown site, bad run id, S3 down: one line before anything starts
    config = StoreConfig.from_env()
    check_store(config)
    select_runs(site_runs(Store(config), site).runs, [run] if run else None, since)
    configured = reprocess.with_options(task_runner=task_runner(workers, dask))
    return configured(site=site, runs=[run] if run else None, since=since)
