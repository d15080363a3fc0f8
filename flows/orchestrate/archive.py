"""The ``archive_site`` flow: crawl -> process -> store -> report, as thin composition.

Each task wraps a plain function from its own module, so it can be tested with ``.fn`` or
without Prefect at all. A failing task fails the flow; the spool is deleted only after every
object was verified in S3, so a failed run loses nothing and the next run uploads what was left.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.clean import CLEANER_VERSION
from flows.derive import Derived, derive, learn_template, process_warcs, write_jsonl_gz
from flows.errors import HealthCheckError, StoreError
from flows.orchestrate.crawl import CrawlResult, read_stats, run_crawl
from flows.orchestrate.evidence import check_evidence_config, sign_task
from flows.orchestrate.health import (
    check_health,
    crawl_problems,
    reached_nothing,
    unreachable_report,
)
from flows.orchestrate.monitor import CrawlProgressArtifact, earlier_counts
from flows.orchestrate.qa import QAOutcome, qa_task
from flows.orchestrate.report import RunReport, RunSummary, article_rows, fetch_failures
from flows.sites import SiteProfile, load_profile
from flows.state import (
    LoadedState,
    S3Lease,
    advance_run,
    load_state,
    previous_text_loader,
    save_state,
    site_lock,
)
from flows.store import (
    SPILL_DIR,
    Keys,
    Manifest,
    RunPaths,
    Store,
    StoreConfig,
    StoreResult,
    build_manifest,
    check_store,
    count_recovery_failure,
    default_spool_root,
    discard_spool,
    disk_full_error,
    full_disk,
    pending_runs,
    quarantine_run,
    unprocessed_runs,
    upload_run,
    write_manifest,
)
from flows.warc import RecordCounts, index_warcs, repair_dir, write_run_index


@task(name="load-state", cache_policy=NO_CACHE)
def load_state_task(config: StoreConfig, run: RunPaths) -> LoadedState:
    """The site's state from S3 (rebuilt from the archive if missing or corrupt); its digest
    index becomes the crawl's prior-captures file (revisits, conditional requests)."""
    logger = get_run_logger()
    workdir = run.root / run.site / ".state"
    loaded = load_state(Store(config), run.site, workdir, logger)
    shutil.copyfile(loaded.captures, run.prior_captures)
    logger.info(
        "state %s: %d articles from %d runs",
        loaded.source,
        len(loaded.state.articles),
        len(loaded.state.runs),
    )
    return loaded


@task(name="crawl", cache_policy=NO_CACHE)
def crawl_task(
    profile: SiteProfile,
    run: RunPaths,
    max_pages: int | None,
    warc_max_size: int | None,
    full: bool = False,
) -> CrawlResult:
    progress = CrawlProgressArtifact(profile.name)
    progress.start()
    result = run_crawl(
        profile,
        run,
        get_run_logger(),
        max_pages=max_pages,
        warc_max_size=warc_max_size,
        full=full,
        on_progress=progress.update,
    )
    progress.finish(result.stats)
    return result


@task(name="process", cache_policy=NO_CACHE)
def process_task(
    profile: SiteProfile,
    run: RunPaths,
    config: StoreConfig,
    crawl: CrawlResult,
    started_at: datetime,
    loaded: LoadedState,
) -> Derived:
    keys = Keys(config.prefix, run.site, run.run_id)
    store = Store(config)
    spill = run.dir / SPILL_DIR  # records on disk meanwhile: memory flat in the run's size
    spill.mkdir(exist_ok=True)
    template = learn_template(run.warc_files(), profile, loaded.state.template)
    result = process_warcs(
        run.warc_files(),
        profile,
        run.run_id,
        keys.warc,
        spill,
        template.template() if template else None,
    )
    result.template = template
    derived = derive(result, loaded.state, run.run_id, keys, previous_text_loader(store))
    records = write_run_index(run.warc_files(), run.captures)  # digest index (flows.warc.captures)
    cdxj_lines = index_warcs(run.warc_files(), run.cdxj)
    seal_run(run, keys, profile, derived, crawl.stats, started_at, records, cdxj_lines, loaded)
    get_run_logger().info("processed: %s", derived.summary())
    return derived


def seal_run(
    run: RunPaths,
    keys: Keys,
    profile: SiteProfile,
    derived: Derived,
    crawl_stats: dict[str, Any],
    started_at: datetime,
    records: RecordCounts,
    cdxj_lines: int,
    loaded: LoadedState,
) -> Manifest:
    """After cleaning and indexing: the run's article and event files (the spill is removed once
    the articles are written), its manifest, and the state advanced in memory (it is saved only
    after the run's objects are verified in S3). Returns the manifest."""
    write_jsonl_gz(run.articles, derived.full_records())
    if derived.process.spill_dir is not None:
        shutil.rmtree(derived.process.spill_dir)
    write_jsonl_gz(run.events, derived.events)
    template = derived.process.template
    if template is not None:
        run.template.write_bytes(template.to_bytes())
    manifest = build_manifest(
        run,
        keys,
        base_url=profile.base_url,
        started_at=started_at,
        counts={**derived.summary(), "records": records, "cdxj_lines": cdxj_lines},
        crawl={k: v for k, v in crawl_stats.items() if isinstance(v, int | float | str)},
        cleaner_version=CLEANER_VERSION,
    )
    write_manifest(run, manifest)
    advance_run(loaded, run, keys.articles, derived.records, derived.events, template)
    return manifest


@task(name="save-state", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def save_state_task(config: StoreConfig, loaded: LoadedState) -> bool:
    return save_state(Store(config), loaded, logger=get_run_logger())


@task(name="store", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def store_task(config: StoreConfig, run: RunPaths) -> StoreResult:
    logger = get_run_logger()
    result = upload_run(Store(config), run)
    logger.info(
        "run %s: %d objects uploaded, %d already present, %d bytes",
        run.run_id,
        len(result.uploaded),
        len(result.already_present),
        result.bytes_uploaded,
    )
    discard_spool(run)
    return result


@flow(name="archive-site", flow_run_name="archive-{site}", log_prints=True)
def archive_site(
    site: str,
    max_pages: int | None = None,
    base_url: str | None = None,
    spool_root: str | None = None,
    warc_max_size: int | None = None,
    full: bool = False,
) -> RunSummary:
    """Archive one site once: crawl, record WARC, clean to article JSON, store in S3.

    One run per site at a time (``flows.state.lock``): a second run is refused with one line."""
    config = StoreConfig.from_env()
    check_store(config)
    root = Path(spool_root) if spool_root else default_spool_root()
    name = load_profile(site).name
    try:
        with site_lock(Store(config), root, name, get_run_logger()) as lease:
            return _archive_site(site, max_pages, base_url, spool_root, warc_max_size, full, lease)
    except Exception as exc:
        where = full_disk([root], exc)  # a full disk, whatever it broke first, named as such
        if where is None:
            raise
        raise disk_full_error(where, root / name) from exc


def _recover(
    profile: SiteProfile, config: StoreConfig, orphan: RunPaths, loaded: LoadedState, lease: S3Lease
) -> None:
    """Process and store a run whose crawl (or flow) died before processing: its torn WARC
    tails are cut to the last complete record (or quarantined), then it goes the normal way."""
    logger = get_run_logger()
    for repair in repair_dir(orphan.warc_dir):
        logger.warning(
            "run %s: %s %s (%d records kept, %d torn bytes cut)",
            orphan.run_id,
            "quarantined" if repair.quarantined else "repaired",
            repair.path.name,
            repair.records,
            repair.cut_bytes,
        )
    stats = read_stats(orphan.stats) or {"finish_reason": "crawl killed (recovered from spool)"}
    crawl = CrawlResult(0, stats, orphan.warc_files())
    started_at = datetime.strptime(orphan.run_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    process_task(profile, orphan, config, crawl, started_at, loaded)
    store_task(config, orphan)
    sign_task(config, orphan.site, orphan.run_id)
    lease.check()
    save_state_task(config, loaded)


MAX_RECOVERY_ATTEMPTS = 3  # then a spooled run that still cannot be processed is quarantined


def _recovery_failed(orphan: RunPaths, exc: Exception) -> None:
    """One failed attempt at a spooled run: counted; at the limit the run is quarantined (kept
    for a person to look at, never again in the way of the site's runs)."""
    logger = get_run_logger()
    attempts = count_recovery_failure(orphan)
    what = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    if attempts < MAX_RECOVERY_ATTEMPTS:
        logger.error(
            "run %s left in the spool could not be processed (attempt %d of %d): %s; "
            "this run goes on without it",
            orphan.run_id,
            attempts,
            MAX_RECOVERY_ATTEMPTS,
            what,
        )
        return
    where = quarantine_run(orphan, f"{attempts} failed attempts at processing it; last: {what}")
    logger.error(
        "run %s could not be processed %d times (%s): quarantined at %s",
        orphan.run_id,
        attempts,
        what,
        where,
    )


def _fail_unreachable(profile: SiteProfile, run: RunPaths, crawl: CrawlResult) -> NoReturn:
    """The site gave no response at all: publish why, drop the spooled run (an empty run in
    the archive would make every later replay and export warn about it), fail."""
    text, problem = unreachable_report(profile.name, run.run_id, profile.base_url, crawl.stats)
    create_markdown_artifact(
        text, key=f"{profile.name}-run-report", description="archive run report (unreachable)"
    )
    shutil.rmtree(run.dir, ignore_errors=True)
    raise HealthCheckError(f"run {run.run_id} of {profile.name}: {problem}")


def _archive_site(
    site: str,
    max_pages: int | None,
    base_url: str | None,
    spool_root: str | None,
    warc_max_size: int | None,
    full: bool,
    lease: S3Lease,
) -> RunSummary:
    started = time.monotonic()
    started_at = datetime.now(UTC)
    profile = load_profile(site, base_url)
    config = StoreConfig.from_env()
    check_store(config)
    root = Path(spool_root) if spool_root else default_spool_root()
    logger = get_run_logger()
    logger.info("evidence: runs are %s", check_evidence_config())

    # Runs that were processed but not stored (S3 was down last time) go first.
    for earlier in pending_runs(root, profile.name):
        logger.warning("uploading run %s left in the spool by an earlier run", earlier.run_id)
        store_task(config, earlier)
        sign_task(config, earlier.site, earlier.run_id)

    # Runs whose crawl or flow was killed before processing: processed and stored now.
    orphans = unprocessed_runs(root, profile.name)
    run = RunPaths.create(root, profile.name)
    loaded = load_state_task(config, run)
    for orphan in orphans:
        logger.warning("recovering run %s left unprocessed in the spool", orphan.run_id)
        try:
            _recover(profile, config, orphan, loaded, lease)
        except StoreError:
            raise  # S3 is down: this run could not store either (the spool is kept)
        except Exception as exc:  # noqa: BLE001 (a poison spool must not block the site)
            _recovery_failed(orphan, exc)
            loaded = load_state_task(config, run)  # the state as saved, without the orphan
    if orphans:  # the crawl's prior captures now include the recovered runs'
        shutil.copyfile(loaded.captures, run.prior_captures)
    crawl = crawl_task(profile, run, max_pages, warc_max_size, full)
    if reached_nothing(crawl.stats):  # nothing to archive: an empty run would only mislead
        _fail_unreachable(profile, run, crawl)
    processed = process_task(profile, run, config, crawl, started_at, loaded)
    keys = Keys(config.prefix, run.site, run.run_id)
    try:
        stored = store_task(config, run)
        evidence = sign_task(config, run.site, run.run_id)
        lease.check()  # the state is the commit point: only the lock's holder writes it
        save_state_task(config, loaded)
    except StoreError as exc:
        create_markdown_artifact(
            f"# Archive run `{run.run_id}` of **{profile.name}** failed to store\n\n"
            f"S3 error: {exc}\n\nThe run stays in the spool at `{run.dir}`; the next run "
            "uploads it.\n",
            key=f"{profile.name}-run-report",
            description="archive run report (S3 error)",
        )
        raise
    qa = qa_task(config, profile, run.run_id) if profile.qa.enabled else QAOutcome("")
    history = earlier_counts(Store(config), profile.name, run.run_id, profile.health.stale_runs - 1)
    counts = processed.summary()
    report = RunReport(
        site=profile.name,
        run_id=run.run_id,
        base_url=profile.base_url,
        where=config.where,
        manifest_key=keys.manifest,
        crawl_stats=crawl.stats,
        counts=counts,
        objects=stored.objects,
        bytes_archived=stored.bytes_uploaded,
        failures=processed.process.failures,
        events=processed.events,
        duration_s=time.monotonic() - started,
        error_responses=processed.process.error_responses,
        fetch_failures=fetch_failures(crawl.stats),
        low_quality=processed.process.low_quality,
        template=processed.process.template,
        health=check_health(
            profile.name,
            profile.health,
            counts,
            history,
            crawl.stats,
            low_quality=len(processed.process.low_quality),
        )
        + crawl_problems(profile.name, crawl.stats)
        + qa.problems,
        evidence=evidence.describe(),
        qa=qa.line,
    )
    create_markdown_artifact(
        report.markdown(), key=f"{profile.name}-run-report", description="archive run report"
    )
    create_table_artifact(
        article_rows(processed.records),
        key=f"{profile.name}-articles",
        description=f"articles archived by run {run.run_id}",
    )
    if report.health:  # after the artifacts, so the evidence stays in the UI
        raise HealthCheckError(f"run {run.run_id} of {profile.name}: " + "; ".join(report.health))
    return report.summary()
