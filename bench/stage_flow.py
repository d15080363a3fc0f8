"""B3 end to end (a fresh worker process per size), B4 incremental rerun and B6 replay from S3
(both in the smaller size's worker, after its first run): the archive flow without Prefect."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from flowrun import POOL_WORKERS, FlowRun
from harness import REPO, ReplicaProcess, Row, RssSampler, mib
from stages import Sizes, bench_profile

from flows.state.checkpoint import CheckpointPolicy

# ----- B3 end to end ----------------------------------------------------------------------------


B3_WARC_MAX_SIZE = 32 * 1024 * 1024  # rotation: several files per run, so the pool has work


def _run_summary(run: FlowRun) -> dict[str, Any]:
    stats = run.stats
    return {
        "requests": run.requests,
        "responses": run.responses,
        "article_records": len(run.derived.records),
        "seconds": run.seconds,
        "phases": run.phases,
        "bytes": run.stored.bytes_uploaded,
        "objects": run.stored.objects,
        "uploaded": len(run.stored.uploaded),
        "state_bytes": run.state_bytes,
        "bytes_stored": run.bytes_stored,
        "article_requests": run.article_requests,
        "article_bytes": run.article_bytes,
        "kinds": run.kinds,
        "breakdown": run.breakdown,
        "counts": {
            k: run.derived.summary()[k] for k in ("new_articles", "new_versions", "unchanged")
        },
        "crawl": {
            "304": int(stats.get("downloader/response_status_count/304", 0)),
            "unchanged_by_lastmod": int(stats.get("newsvault/articles_unchanged_by_lastmod", 0)),
            "conditional": int(stats.get("newsvault/articles_conditional", 0)),
            "scheduled": int(stats.get("newsvault/articles_scheduled", 0)),
            "revisits": int(stats.get("newsvault/warc_revisits", 0)),
        },
        "requisites": {
            k: int(stats.get(f"newsvault/requisites_{k}", 0))
            for k in ("archived", "rechecked", "unchanged", "fresh", "excluded", "failed")
        },
        "requisite_bytes": run.breakdown.get("requisites", (0, 0))[1],
    }


def e2e_worker(articles: int, spool: Path, extras: bool) -> dict[str, Any]:
    """Load state -> crawl -> process -> store -> save state with the flow's plain functions (no
    Prefect; ``flowrun.archive_once``), in a fresh process per size (``run.py --b3-worker``) with
    the S3 variables in its environment. With ``extras``, on the same replica afterwards: B4 (a
    second run, incremental from the saved state) and B6 (the first run re-derived from S3 and
    from its spool)."""
    from flowrun import archive_once, new_pool, replay_once

    from flows.store.s3 import Store, StoreConfig

    store = Store(replace(StoreConfig.from_env(), prefix=f"bench-b3-{articles}/"))
    pool = new_pool()
    try:
        with ReplicaProcess(articles) as replica:
            profile = bench_profile(replica.base_url)
            with RssSampler() as sampler:
                first, run = archive_once(
                    store,
                    profile,
                    spool,
                    pool,
                    warc_max_size=B3_WARC_MAX_SIZE,
                    keep_spool=extras,
                )
            out: dict[str, Any] = {
                "articles": articles,
                **_run_summary(first),
                "warc_files": len(run.warc_files()) if extras else None,
                "peak_total": sampler.peak_total,
                "peaks": sampler.peaks,
            }
            if not extras:
                return out
            second, _ = archive_once(store, profile, spool, pool, warc_max_size=B3_WARC_MAX_SIZE)
            out["b4"] = _run_summary(second)
            cache = spool / "b6-cache" / "warc"
            replays = []
            for round_ in range(int(os.environ.get("NV_BENCH_B6_ROUNDS", "1"))):
                for source in ("s3", "spool") if round_ % 2 == 0 else ("spool", "s3"):
                    replays.append(asdict(replay_once(store, profile, pool, run, source, cache)))
            out["b6"] = replays
            out["b6_bytes"] = sum(p.stat().st_size for p in run.warc_files())
            shutil.rmtree(run.dir)
            shutil.rmtree(cache.parent, ignore_errors=True)
            return out
    finally:
        pool.terminate()
        pool.join()


def run_e2e_worker(
    articles: int, spool: Path, s3_env: dict[str, str], extras: bool = False, b6_rounds: int = 1
) -> dict[str, Any]:
    cmd = [sys.executable, str(REPO / "bench" / "run.py"), "--b3-worker", str(articles)]
    cmd += ["--spool", str(spool)] + (["--extras"] if extras else [])
    env = {**os.environ, **s3_env, "NV_BENCH_B6_ROUNDS": str(b6_rounds)}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"B3 worker ({articles} articles) failed:\n{proc.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def e2e_rows(sizes: Sizes, spool: Path, s3_env: dict[str, str], only: set[str]) -> list[Row]:
    """B3 (both sizes), and B4 and B6 on the smaller size's run (same worker, same replica)."""
    extras = bool({"B4", "B6"} & only)
    small = run_e2e_worker(sizes.b3_articles[0], spool, s3_env, extras, sizes.b6_rounds)
    rows: list[Row] = []
    if "B3" in only:
        large = run_e2e_worker(sizes.b3_articles[1], spool, s3_env)
        rows += b3_rows(small, large)
    if "B4" in only:
        rows += b4_rows(small)
    if "B6" in only:
        rows.append(b6_row(small))
    return rows


def b3_rows(small: dict[str, Any], large: dict[str, Any]) -> list[Row]:
    rate_small = small["responses"] / small["seconds"]
    rate_large = large["responses"] / large["seconds"]
    rows = []
    for data, rate in ((small, rate_small), (large, rate_large)):
        row = Row(
            "B3",
            f"end to end, {data['articles']} articles (crawl -> verified in S3)",
            measured=f"{rate:.1f} pages/s",
            baseline=f"{rate_small:.1f} pages/s (B3 {small['articles']})" if data is large else "-",
            ratio=rate / rate_small if data is large else None,
        )
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in data["phases"].items())
        row.notes.append(
            f"{data['articles']} articles: {data['responses']} pages in {data['seconds']:.1f}s "
            f"({phases}); {data['article_records']} article records; {data['objects']} objects, "
            f"{data['bytes'] / 1e6:.0f} MB verified, then the state saved "
            f"({data['state_bytes'] / 1e6:.1f} MB)"
        )
        rows.append(row)
    rows[0].notes.append(
        "the flow's plain functions, no Prefect: load state, crawl, process (clean, derive, "
        "digest and CDXJ indexes, manifest, state advanced), store (upload_run, save_state); "
        f"WARC rotated at {B3_WARC_MAX_SIZE >> 20} MiB; cleaning maps the product's per-file "
        f"clean_warc over the WARC files in a {POOL_WORKERS}-process pool (forkserver, largest "
        "file first) and merges with merge_results in file order: reprocess's path (a live run "
        "maps in-process; same result); the digest and CDXJ indexes are built in the same "
        "pool meanwhile"
    )
    memory = Row(
        "B3",
        f"peak RSS, {large['articles']} vs {small['articles']} articles (all processes)",
        measured=mib(large["peak_total"]),
        baseline=mib(small["peak_total"]),
        ratio=large["peak_total"] / small["peak_total"],
        target=1.2,
        higher_is_better=False,
    )
    for data in (small, large):
        each = ", ".join(f"{k} {mib(v)}" for k, v in sorted(data["peaks"].items()))
        memory.notes.append(f"{data['articles']} articles, per-process peaks: {each}")
    rows.append(memory)
    return rows


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n < 10e6 else f"{n / 1e6:.0f} MB"


def b4_rows(small: dict[str, Any]) -> list[Row]:
    first, second = small, small["b4"]
    size = f"{small['articles']} articles"
    requests = Row(
        "B4",
        f"incremental rerun, unchanged site ({size}): requests",
        measured=f"{second['requests']} requests",
        baseline=f"{first['requests']} (first run)",
        ratio=second["requests"] / first["requests"],
        target=0.02,
        higher_is_better=False,
    )
    # A rerun that keeps the state checkpoint still owes its share of the next one: counted.
    every = CheckpointPolicy().max_runs
    owed = first["state_bytes"] / every if not second["state_bytes"] else 0.0
    rerun_bytes = second["bytes_stored"] + owed
    stored = Row(
        "B4",
        f"incremental rerun ({size}): bytes stored in S3",
        measured=_mb(rerun_bytes),
        baseline=f"{_mb(first['bytes_stored'])} (first run)",
        ratio=rerun_bytes / first["bytes_stored"],
        target=0.01,
        higher_is_better=False,
    )
    if owed:
        stored.notes.append(
            f"second run kept the state checkpoint (runs after it are its log); counted: "
            f"1/{every} of the {_mb(first['state_bytes'])} checkpoint the first run wrote "
            f"({_mb(owed)}), since one is rewritten at least every {every} runs"
        )
    art_requests = Row(
        "B4",
        f"incremental rerun ({size}), article pages only: requests",
        measured=f"{second['article_requests']} requests",
        baseline=f"{first['article_requests']} (first run)",
        ratio=second["article_requests"] / max(first["article_requests"], 1),
        target=0.02,
        higher_is_better=False,
    )
    art_bytes = Row(
        "B4",
        f"incremental rerun ({size}), article pages only: bytes stored",
        measured=_mb(second["article_bytes"]),
        baseline=f"{_mb(first['article_bytes'])} (first run)",
        ratio=second["article_bytes"] / max(first["article_bytes"], 1),
        target=0.01,
        higher_is_better=False,
    )
    crawl = second["crawl"]
    requests.notes.append(
        "first run, then a second run on the same unchanged replica with the state the first "
        "saved (load_state -> prior captures -> run_crawl; sitemap lastmod vs the capture's "
        "Last-Modified, conditional GETs; profile replica, recheck_days 2); "
        f"second run: {crawl['unchanged_by_lastmod']} articles skipped by lastmod, "
        f"{crawl['scheduled']} fetched ({crawl['conditional']} conditional), "
        f"{crawl['304']} answered 304, {crawl['revisits']} revisit records; "
        f"{second['counts']['new_articles']} new articles, "
        f"{second['counts']['new_versions']} new versions"
    )
    for label, data in (("second run", second), ("first run", first)):
        each = ", ".join(f"{cat} {req}" for cat, (req, _) in data["breakdown"].items() if req)
        requests.notes.append(
            f"{label}'s requests by URL (WARC request records; the crawl counted "
            f"{data['requests']}): {each}"
        )
    for label, data in (("second run", second), ("first run", first)):
        warc = ", ".join(
            f"{cat} {_mb(size)}" for cat, (_, size) in data["breakdown"].items() if size
        )
        kinds = ", ".join(f"{k} {_mb(v)}" for k, v in sorted(data["kinds"].items()) if v)
        stored.notes.append(
            f"{label}: {_mb(data['bytes_stored'])} = objects uploaded ({data['uploaded']}): "
            f"{kinds}; state checkpoint written {_mb(data['state_bytes'])} (state.json.gz + the "
            f"compacted captures.jsonl.gz); the WARC bytes by URL: {warc}"
        )
    art_requests.notes.append(
        "article pages only = requests for article URLs (the profile's article_pattern); "
        "article bytes = WARC records of article URLs + articles.jsonl.gz + events.jsonl.gz "
        "(indexes, manifest, stats, log and state are per-run overhead, counted in the rows "
        "above)"
    )
    one, two = first["requisites"], second["requisites"]
    requests.notes.append(
        "page requisites on (the replica profile's [requisites], as users run it; their own "
        f"costs are row R): first run {one['archived']} archived "
        f"({_mb(first['requisite_bytes'])} of WARC), {one['excluded']} excluded, "
        f"{one['failed']} failed; second run {two['archived']} archived, {two['rechecked']} "
        f"re-checked, {two['unchanged']} unchanged, {two['fresh']} within refresh_hours (not "
        "asked)"
    )
    return [requests, stored, art_requests, art_bytes]


def b6_row(small: dict[str, Any]) -> Row:
    replays = small["b6"]
    s3 = [r for r in replays if r["source"] == "s3"]
    local = [r for r in replays if r["source"] == "spool"]
    t_s3 = statistics.median(r["seconds"] for r in s3)
    t_local = statistics.median(r["seconds"] for r in local)
    docs = replays[0]["docs"]
    identical = len({r["records_digest"] for r in replays}) == 1
    row = Row(
        "B6",
        f"replay: re-derive a run from S3 vs from the spool ({docs} docs)",
        measured=f"{docs / t_s3:.1f} docs/s from S3",
        baseline=f"{docs / t_local:.1f} docs/s spool",
        ratio=t_local / t_s3 if identical else 0.0,
        target=0.9,
    )
    each = ", ".join(
        f"{r['source']} {r['seconds']:.1f}s"
        + (f" (fetch {r['fetch_seconds']:.1f}s)" if r["source"] == "s3" else "")
        for r in replays
    )
    row.notes.append(
        f"B3's {small['articles']}-article run ({small['warc_files']} WARC files, "
        f"{_mb(small['b6_bytes'])}) re-derived against the state before it: from S3 "
        "(site_runs + fetch_verified of each WARC into an empty cache: size and SHA-256 checked "
        f"against the manifest) or from the spool, then clean_warc per file in the "
        f"{POOL_WORKERS}-process pool + merge_results + derive (reprocess_run's steps); "
        f"{len(s3)} round(s) alternating, medians: {each}; records "
        + ("identical from both sources" if identical else "DIFFER between sources")
    )
    return row
