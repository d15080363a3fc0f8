"""The archive flow without Prefect, for B3, B4 and B6: load state -> crawl -> process -> derive
-> store -> advance and save state, with the flow's own plain functions
(``flows.orchestrate.archive`` wraps
the same ones in tasks).

One deviation, named wherever it is reported: cleaning maps the product's per-file
``flows.derive.process.clean_warc`` over the run's WARC files in a process pool, then
``flows.derive.process.merge_results`` in file order: the path ``flows.orchestrate.reprocess``
takes (a live run maps
in-process; the merged result is the same, see ``merge_results``). The run's digest and CDXJ
indexes (``write_run_index``, ``index_warcs``: they read the WARC files on their own) are built
in the same pool meanwhile.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.pool import Pool
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator

from flows.derive.articles import write_jsonl_gz
from flows.derive.process import FileResult, ProcessResult, clean_warc, merge_results
from flows.derive.run import Derived, derive
from flows.orchestrate.archive import seal_run
from flows.orchestrate.crawl import run_crawl
from flows.sites import SiteProfile
from flows.state.checkpoint import (
    load_state,
    previous_text_loader,
    save_state,
)
from flows.state.fold import SiteState
from flows.store.runs import SPILL_DIR, Keys, RunPaths
from flows.store.s3 import Store
from flows.store.upload import StoreResult, upload_run
from flows.warc.captures import RecordCounts, write_run_index
from flows.warc.cdxj import index_warcs

LOG = logging.getLogger("bench.flow")
LOG.setLevel(logging.WARNING)
POOL_WORKERS = 2


def new_pool(workers: int = POOL_WORKERS) -> Pool:
    """A process pool (forkserver: the bench process has threads) with the cleaner imported."""
    pool = multiprocessing.get_context("forkserver").Pool(workers)
    pool.map(_warm, range(workers))
    return pool


def _warm(_: int) -> int:
    import flows.derive.process  # noqa: F401  (imports lxml and the cleaner in each worker)

    return 0


def clean_in_pool(
    pool: Pool,
    warcs: list[Path],
    profile: SiteProfile,
    run_id: str,
    keys: Keys,
    spill_dir: Path | None = None,
) -> ProcessResult:
    """``clean_warc`` per file in the pool, largest files first (so two workers end together),
    then ``merge_results`` in the run's file order (what ``process_warcs`` would return)."""
    order = sorted(range(len(warcs)), key=lambda i: -warcs[i].stat().st_size)
    pending = {
        i: pool.apply_async(clean_warc, (warcs[i], profile, run_id, keys.warc, spill_dir))
        for i in order
    }
    parts: list[FileResult] = [pending[i].get() for i in range(len(warcs))]
    return merge_results(parts, spill_dir)


# ----- one run of the flow ----------------------------------------------------------------------


@dataclass
class FlowRun:
    run_id: str
    phases: dict[str, float]
    stats: dict[str, Any]
    derived: Derived
    stored: StoreResult
    state_bytes: int  # state.json.gz + captures.jsonl.gz written after the run (0: checkpoint kept)
    kinds: dict[str, int]  # bytes uploaded by object kind (warc, articles, captures, ...)
    breakdown: dict[str, tuple[int, int]]  # WARC category -> (requests, bytes)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return int(self.stats.get("downloader/request_count", 0))

    @property
    def responses(self) -> int:
        return int(self.stats.get("downloader/response_count", 0))

    @property
    def bytes_stored(self) -> int:
        return self.stored.bytes_uploaded + self.state_bytes

    @property
    def article_requests(self) -> int:
        return self.breakdown.get("articles", (0, 0))[0]

    @property
    def article_bytes(self) -> int:
        """WARC records of article URLs, plus the article records and events written."""
        warc = self.breakdown.get("articles", (0, 0))[1]
        return warc + self.kinds.get("articles", 0) + self.kinds.get("events", 0)


def archive_once(
    store: Store,
    profile: SiteProfile,
    spool: Path,
    pool: Pool,
    *,
    warc_max_size: int,
    keep_spool: bool = False,
) -> tuple[FlowRun, RunPaths]:
    """One run of the flow; the spool is removed after the verified upload unless kept."""
    run = RunPaths.create(spool, profile.name)
    keys = Keys(store.config.prefix, run.site, run.run_id)
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    loaded = load_state(store, run.site, run.root / run.site / ".state", LOG)
    shutil.copyfile(loaded.captures, run.prior_captures)
    t1 = time.perf_counter()
    crawl = run_crawl(profile, run, LOG, warc_max_size=warc_max_size)
    t2 = time.perf_counter()
    warcs = run.warc_files()
    # The run's two indexes read the WARC files on their own: built in the pool beside cleaning.
    captures_job = pool.apply_async(write_run_index, (warcs, run.captures))
    cdxj_job = pool.apply_async(index_warcs, (warcs, run.cdxj))
    spill = run.dir / SPILL_DIR  # as process_task does
    spill.mkdir()
    result = clean_in_pool(pool, warcs, profile, run.run_id, keys, spill)
    derived = derive(result, loaded.state, run.run_id, keys, previous_text_loader(store))
    records: RecordCounts = captures_job.get()
    cdxj_lines: int = cdxj_job.get()
    manifest = seal_run(
        run, keys, profile, derived, crawl.stats, started_at, records, cdxj_lines, loaded
    )
    t3 = time.perf_counter()
    breakdown = warc_breakdown(run.warc_files(), profile)
    t4 = time.perf_counter()  # the breakdown is the bench's, not the flow's: not timed
    stored = upload_run(store, run)
    checkpoint = save_state(store, loaded)
    t5 = time.perf_counter()
    uploaded = set(stored.uploaded)
    kinds: Counter[str] = Counter()
    for entry in manifest["objects"]:
        if entry["key"] in uploaded:
            kinds[str(entry["kind"])] += int(entry["size"])
    kinds["manifest"] = stored.bytes_uploaded - sum(kinds.values())
    state_bytes = loaded.checkpoint_bytes if checkpoint else 0
    if not keep_spool:
        shutil.rmtree(run.dir)
    phases = {
        "load state": t1 - t0,
        "crawl": t2 - t1,
        "process": t3 - t2,
        "store": t5 - t4,
    }
    flow_run = FlowRun(
        run.run_id,
        phases,
        crawl.stats,
        derived,
        stored,
        state_bytes,
        dict(kinds),
        breakdown,
        seconds=sum(phases.values()),
    )
    return flow_run, run


# ----- what a run's WARC files hold -------------------------------------------------------------

CATEGORIES = (
    "robots.txt",
    "sitemaps",
    "feeds",
    "listings",
    "articles",
    "requisites",
    "other",
    "warcinfo",
)
_REQUISITE_SUFFIXES = (".css", ".js", ".ico", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ttf")


def url_category(url: str, profile: SiteProfile) -> str:
    path = urlsplit(url).path
    if path == "/robots.txt":
        return "robots.txt"
    if path.endswith((".xml", ".xml.gz")):
        return "sitemaps"
    if path.rstrip("/").endswith("/feed") or path == "/feed":
        return "feeds"
    if profile.is_article_url(url):
        return "articles"
    listings = {p.rstrip("/") or "/" for p in profile.discovery.listings}
    bare = path.rstrip("/") or "/"
    if bare in listings or "/page/" in path:
        return "listings"
    if path.endswith(_REQUISITE_SUFFIXES) or urlsplit(url).hostname != profile.host:
        return "requisites"  # what pages load (spiders/requisites.py)
    return "other"


def warc_breakdown(warcs: list[Path], profile: SiteProfile) -> dict[str, tuple[int, int]]:
    """Per URL category: requests (WARC ``request`` records) and the compressed bytes of every
    record (request, response, revisit, metadata) about those URLs; ``warcinfo`` apart."""
    requests: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    for path in warcs:
        with open(path, "rb") as fh:
            records = ArchiveIterator(fh)
            for record in records:
                uri = record.rec_headers.get_header("WARC-Target-URI")
                category = url_category(uri, profile) if uri else "warcinfo"
                if record.rec_type == "request":
                    requests[category] += 1
                records.read_to_end(record)
                sizes[category] += records.get_record_length()
        # Rounding: gzip members are the records, so the lengths add up to the file size.
    return {c: (requests[c], sizes[c]) for c in CATEGORIES if requests[c] or sizes[c]}


# ----- B6: the same WARCs from S3 and from the spool ---------------------------------------------


@dataclass(frozen=True)
class Replay:
    source: str  # "s3" | "spool"
    seconds: float
    fetch_seconds: float
    docs: int
    records_digest: str


def replay_once(
    store: Store,
    profile: SiteProfile,
    pool: Pool,
    run: RunPaths,
    source: str,
    cache: Path,
) -> Replay:
    """Re-derive one archived run against the state before it (empty: the site's first run):
    from S3 (``site_runs`` + ``fetch_verified`` of every WARC into a fresh cache, as
    ``reprocess_run`` reads them) or from the run's spool; then clean (pool) + merge + derive."""
    from flows.store.remote import fetch_verified, site_runs

    keys = Keys(store.config.prefix, run.site, run.run_id)
    started = time.perf_counter()
    if source == "s3":
        archived = site_runs(store, run.site, only=run.run_id).runs[0]
        shutil.rmtree(cache, ignore_errors=True)
        warcs = [
            fetch_verified(store, o, cache / Path(str(o["key"])).name)
            for o in archived.objects("warc")
        ]
    else:
        warcs = run.warc_files()
    fetched = time.perf_counter()
    result = clean_in_pool(pool, warcs, profile, run.run_id, keys)
    derived = derive(result, SiteState(run.site), run.run_id, keys, previous_text_loader(store))
    seconds = time.perf_counter() - started
    out = cache.parent / f"replay-{source}.jsonl.gz"
    write_jsonl_gz(out, derived.full_records())
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    return Replay(source, seconds, fetched - started, len(derived.records), digest)
