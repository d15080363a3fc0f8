"""Load, save and rebuild a site's state in S3 (see ``flows.state.fold`` for what it holds).

Loading never trusts a broken state: a missing, corrupt or inconsistent state object is reported
in one line and rebuilt from the archive, and archived runs the state has not seen yet (a run
whose upload succeeded but whose state save did not) are folded in, so nothing is re-archived and
no version is lost.

The saved state is a checkpoint, and the runs archived after it are its log: every run's own
outputs (articles, events, digest index) are already in S3, and loading folds them in. So a run
that changed little does not rewrite the whole state (about 200 bytes per article): it writes a
new checkpoint only when ``CheckpointPolicy`` says the log has grown long enough to be worth it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from flows.clean import TemplateStats
from flows.errors import ConfigError, StoreVerifyError
from flows.state.fold import ArticleEntry, FoldedEvent, FoldedRecord, SiteState
from flows.store import (
    TEMPLATE,
    ArchivedRun,
    ObjectKind,
    RunPaths,
    SiteKeys,
    Store,
    cache_root,
    fetch_verified,
    site_runs,
)
from flows.warc import CaptureIndex, read_entries, write_entries

log = logging.getLogger(__name__)
Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]
STATE_NAME = "state.json.gz"
CAPTURES_NAME = "captures.jsonl.gz"
# Where a loaded state came from: the saved checkpoint, a rebuild from the archive, or nothing
# (the site's first run).
StateSource = Literal["saved", "rebuilt", "new"]


FOLDED_KINDS: tuple[ObjectKind, ...] = (
    "articles",
    "events",
    "captures",
    "template",
)  # what loading fetches per run after the checkpoint


@dataclass(frozen=True)
class CheckpointPolicy:
    """When a run writes a new checkpoint instead of leaving its outputs as the log.

    Loading pays one listing plus one download per logged run object, so the log is bounded both
    in runs and in bytes (as a share of the checkpoint it saves rewriting)."""

    max_runs: int = 24
    max_share: float = 0.1

    def due(self, loaded: LoadedState) -> bool:
        return (
            loaded.source != "saved"
            or loaded.runs_since_checkpoint >= self.max_runs
            or loaded.log_bytes > self.max_share * loaded.checkpoint_bytes
        )


@dataclass
class LoadedState:
    state: SiteState
    captures: Path  # compacted digest index, for the crawl and the next save
    source: StateSource
    problem: str | None = None
    runs_since_checkpoint: int = 0  # runs folded in after the saved checkpoint
    log_bytes: int = 0  # their archived outputs that the next load will fetch and fold
    checkpoint_bytes: int = 0  # size of the saved checkpoint (state + captures)


def _read_jsonl(path: Path) -> list[Any]:
    """The parsed lines of an archived ``articles`` or ``events`` file (verified on download)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def fold_run(
    store: Store,
    state: SiteState,
    index: CaptureIndex,
    run: ArchivedRun,
    logger: Logger = log,
) -> None:
    """Apply one archived run to the state and the digest index (verified downloads)."""
    cache = cache_root() / state.site / run.run_id
    records: list[FoldedRecord] = []
    events: list[FoldedEvent] = []
    articles = run.one("articles")
    if articles is not None:
        records = _read_jsonl(fetch_verified(store, articles, cache / "articles.jsonl.gz"))
    entry = run.one("events")
    if entry is not None:
        events = _read_jsonl(fetch_verified(store, entry, cache / "events.jsonl.gz"))
    entry = run.one("captures")
    if entry is not None:
        index.load(read_entries(fetch_verified(store, entry, cache / CAPTURES_NAME)))
    else:
        logger.warning("run %s has no digest index; its payloads are not deduplicated", run.run_id)
    template = run_template(store, run, cache / TEMPLATE)
    state.apply_run(run.run_id, str(articles["key"]) if articles else "", records, events, template)


def run_template(store: Store, run: ArchivedRun, dest: Path) -> TemplateStats | None:
    """The site template statistics a run archived, if it learned any (verified download)."""
    entry = run.one("template")
    if entry is None:
        return None
    try:
        return TemplateStats.from_bytes(fetch_verified(store, entry, dest).read_bytes())
    except ValueError as exc:  # its SHA-256 matched the manifest: written so, never readable
        raise StoreVerifyError(f"{entry['key']}: {exc}") from exc


def rebuild(store: Store, site: str, workdir: Path, logger: Logger = log) -> LoadedState:
    """The state from the archive alone: every run, oldest first."""
    workdir.mkdir(parents=True, exist_ok=True)
    state, index = SiteState(site), CaptureIndex()
    try:
        runs = site_runs(store, site)
    except ConfigError:
        runs = None  # no runs yet
    if runs is not None:
        for problem in runs.problems:
            logger.warning("state rebuild: %s", problem)
        for run in runs.runs:
            try:
                fold_run(store, state, index, run, logger)
            except StoreVerifyError as exc:
                logger.error("state rebuild: run %s skipped: %s", run.run_id, exc)
    captures = workdir / CAPTURES_NAME
    write_entries(captures, index.compact())
    state.captures_sha256 = hashlib.sha256(captures.read_bytes()).hexdigest()
    return LoadedState(state, captures, "rebuilt" if state.runs else "new")


def load_state(store: Store, site: str, workdir: Path, logger: Logger = log) -> LoadedState:
    workdir.mkdir(parents=True, exist_ok=True)
    keys = SiteKeys(store.config.prefix, site)
    raw = store.get(keys.state(STATE_NAME))
    problem: str | None = None
    if raw is None:
        problem = "missing"
    else:
        try:
            state = SiteState.from_bytes(raw)
            if state.site != site:
                raise ValueError(f"it belongs to site {state.site!r}")
            captures_raw = store.get(keys.state(CAPTURES_NAME))
            if captures_raw is None:
                raise ValueError(f"{CAPTURES_NAME} is missing")
            if hashlib.sha256(captures_raw).hexdigest() != state.captures_sha256:
                raise ValueError(f"{CAPTURES_NAME} does not match the state's checksum")
            captures = workdir / CAPTURES_NAME
            captures.write_bytes(captures_raw)
            loaded = LoadedState(
                state, captures, "saved", checkpoint_bytes=len(raw) + len(captures_raw)
            )
            _catch_up(store, loaded, logger)
            return loaded
        except ValueError as exc:
            problem = f"corrupt ({exc})"
    if problem != "missing":
        logger.warning("the saved state of %s is %s: rebuilding it from the archive", site, problem)
    loaded = rebuild(store, site, workdir, logger)
    if problem == "missing" and loaded.state.runs:
        logger.warning("the saved state of %s is missing: rebuilt it from the archive", site)
    loaded.problem = None if loaded.source == "new" else problem
    return loaded


def _catch_up(store: Store, loaded: LoadedState, logger: Logger) -> None:
    """Fold archived runs newer than the state (their state save failed after their upload)."""
    known = set(loaded.state.runs)
    last = max(known) if known else ""
    try:  # manifests of the runs after the checkpoint only: the listing names the rest
        runs = site_runs(store, loaded.state.site, after=last)
    except ConfigError as exc:
        raise ValueError("it names runs the archive does not hold") from exc
    if not known <= set(runs.ids):
        raise ValueError("it names runs the archive does not hold")
    if any(i < last and i not in known for i in runs.ids):
        raise ValueError("it misses runs older than its last run")
    newer = [r for r in runs.runs if r.run_id not in known]
    if not newer:
        return
    index = CaptureIndex().load(read_entries(loaded.captures))
    logger.info(
        "state: checkpoint of run %s + %d archived run(s) after it", last or "-", len(newer)
    )
    for run in newer:
        try:
            fold_run(store, loaded.state, index, run, logger)
        except StoreVerifyError as exc:
            raise ValueError(f"run {run.run_id} after it fails verification: {exc}") from exc
        loaded.runs_since_checkpoint += 1
        loaded.log_bytes += sum(int(o.get("size", 0)) for k in FOLDED_KINDS for o in run.objects(k))
    write_entries(loaded.captures, index.compact())
    loaded.state.captures_sha256 = hashlib.sha256(loaded.captures.read_bytes()).hexdigest()


def advance(
    loaded: LoadedState,
    run_id: str,
    articles_key: str,
    records: Iterable[FoldedRecord],
    events: Iterable[FoldedEvent],
    run_captures: Path,
    log_bytes: int = 0,
    template: TemplateStats | None = None,
) -> None:
    """The live counterpart of ``fold_run``: apply this run's outputs (already archived).

    ``log_bytes`` is the size of those outputs as archived (what a later load would fold)."""
    index = CaptureIndex().load(read_entries(loaded.captures))
    index.load(read_entries(run_captures))
    write_entries(loaded.captures, index.compact())
    loaded.state.apply_run(run_id, articles_key, records, events, template)
    loaded.state.captures_sha256 = hashlib.sha256(loaded.captures.read_bytes()).hexdigest()
    loaded.runs_since_checkpoint += 1
    loaded.log_bytes += log_bytes


def advance_run(
    loaded: LoadedState,
    run: RunPaths,
    articles_key: str,
    records: Iterable[FoldedRecord],
    events: Iterable[FoldedEvent],
    template: TemplateStats | None = None,
) -> None:
    """``advance`` with what a spooled run's directory says (its digest index, its outputs)."""
    advance(
        loaded,
        run.run_id,
        articles_key,
        records,
        events,
        run.captures,
        run.state_log_bytes(),
        template,
    )


def save_state(
    store: Store,
    loaded: LoadedState,
    policy: CheckpointPolicy | None = None,
    force: bool = False,
    logger: Logger = log,
) -> bool:
    """Write a checkpoint when the policy says so (or ``force``); True if one was written.

    Captures first, then the state object (the commit point that names their checksum). Skipping
    loses nothing: the runs since the checkpoint are archived, and loading folds them in."""
    policy = policy or CheckpointPolicy()
    if not force and not policy.due(loaded):
        logger.info(
            "state: checkpoint kept (%d run(s), %d bytes of archived outputs after it; a new one "
            "is written after %d runs or %d bytes)",
            loaded.runs_since_checkpoint,
            loaded.log_bytes,
            policy.max_runs,
            int(policy.max_share * loaded.checkpoint_bytes),
        )
        return False
    site = loaded.state.site
    captures = loaded.captures.read_bytes()
    state = loaded.state.to_bytes()
    keys = SiteKeys(store.config.prefix, site)
    store.put_bytes(keys.state(CAPTURES_NAME), captures)
    store.put_bytes(keys.state(STATE_NAME), state)
    loaded.source, loaded.problem = "saved", None
    loaded.runs_since_checkpoint, loaded.log_bytes = 0, 0
    loaded.checkpoint_bytes = len(captures) + len(state)
    return True


def previous_text_loader(store: Store) -> Callable[[ArticleEntry], str | None]:
    """Reads an article's current version text back from the archived JSONL (for diffs)."""
    cache: dict[str, dict[tuple[str, int], str]] = {}

    def load(entry: ArticleEntry) -> str | None:
        key = entry.record_key
        if key not in cache:
            raw = store.get(key)
            texts: dict[tuple[str, int], str] = {}
            if raw is not None:
                for line in gzip.decompress(raw).decode("utf-8").splitlines():
                    if line.strip():
                        record = json.loads(line)
                        texts[(record["id"], record["version"])] = record["text"]
            cache[key] = texts
        return cache[key].get((entry.id, entry.version))

    return load
