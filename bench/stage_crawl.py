"""B1 recording overhead (the crawl with and without the WARC recorder) and H server headroom
(the replica alone under load, against B1's crawl rate)."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path

from harness import ReplicaProcess, Row
from loadgen import warm_up
from stages import BENCH_CONCURRENCY, Sizes, bench_profile

from flows.orchestrate.crawl import crawl_command, crawl_env
from flows.sites import SiteProfile
from flows.store.runs import RunPaths

# ----- B1 recording overhead --------------------------------------------------------------------


# The variants of B1's crawl: the recorder as shipped, switched off, and writing its gzip members
# inline on the reactor thread (NEWSVAULT_WARC_WRITER_PROCESS off: no writer process;
# ``run.py --b1-inline`` adds it, for a before/after in the same conditions).
ON, OFF, INLINE = "on", "off", "inline"


@dataclass(frozen=True)
class CrawlTiming:
    variant: str
    seconds: float
    responses: int
    warc_bytes: int
    cpu_seconds: float = 0.0  # the crawl subprocess's user + system
    replica_cpu: float = 0.0  # the replica's, meanwhile


def timed_crawl(profile: SiteProfile, spool: Path, variant: str) -> CrawlTiming:
    """One ``scrapy crawl news`` subprocess, as flows.orchestrate.crawl builds it; ``OFF`` sets
    the WARC directory empty, so the recorder raises NotConfigured and is switched off."""
    run = RunPaths.create(spool, profile.name)
    cmd = crawl_command(profile, run)
    recorder = variant != OFF
    if not recorder:
        cmd = [
            "NEWSVAULT_WARC_DIR=" if arg.startswith("NEWSVAULT_WARC_DIR=") else arg for arg in cmd
        ]
    if variant == INLINE:
        cmd += ["-s", "NEWSVAULT_WARC_WRITER_PROCESS=False"]
    with open(run.crawl_log, "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=crawl_env(), stdout=log, stderr=subprocess.STDOUT)
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # its rusage: what the crawl itself used
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        seconds = time.perf_counter() - started
        proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise RuntimeError(f"crawl exited with {code}; see {run.crawl_log}")
    stats = json.loads(run.stats.read_text(encoding="utf-8"))
    warc_bytes = sum(p.stat().st_size for p in run.warc_files())
    if recorder != (warc_bytes > 0):
        raise RuntimeError(f"recorder={recorder} but {warc_bytes} WARC bytes in {run.warc_dir}")
    shutil.rmtree(run.dir)
    responses = int(stats.get("downloader/response_count", 0))
    return CrawlTiming(variant, seconds, responses, warc_bytes, usage.ru_utime + usage.ru_stime)


@dataclass
class B1Result:
    row: Row
    crawl_pages_per_s: float


def b1_recording(sizes: Sizes, spool: Path, inline: bool = False) -> B1Result:
    timings: list[CrawlTiming] = []
    variants = (ON, OFF, INLINE) if inline else (ON, OFF)
    load_start = os.getloadavg()[0]
    with ReplicaProcess(sizes.b1_articles, cache_all=True) as replica:
        profile = bench_profile(replica.base_url)
        timed_crawl(profile, spool, OFF)  # warm-up: page cache, .pyc, the replica's full cache
        for round_ in range(sizes.b1_rounds):
            for variant in variants if round_ % 2 == 0 else variants[::-1]:
                before = replica.cpu_seconds()
                timing = timed_crawl(profile, spool, variant)
                timings.append(replace(timing, replica_cpu=replica.cpu_seconds() - before))
    median = {v: statistics.median(t.seconds for t in timings if t.variant == v) for v in variants}
    on, off = median[ON], median[OFF]
    responses = max(t.responses for t in timings)
    row = Row(
        "B1",
        f"recording overhead ({sizes.b1_articles} articles, wall time)",
        measured=f"{on:.1f} s recorder on",
        baseline=f"{off:.1f} s recorder off",
        ratio=on / off,
        target=1.10,
        higher_is_better=False,
    )
    each = ", ".join(f"{t.variant} {t.seconds:.1f}s" for t in timings)
    # each round's on / off, from crawls next to each other in time (the drift cancels better)
    paired = [
        next(t.seconds for t in got if t.variant == ON)
        / next(t.seconds for t in got if t.variant == OFF)
        for got in (timings[k : k + len(variants)] for k in range(0, len(timings), len(variants)))
    ]
    row.notes.append(
        f"{responses} responses per crawl (page requisites on), CONCURRENT_REQUESTS="
        f"{BENCH_CONCURRENCY}, no delay; median of {sizes.b1_rounds} round(s), order "
        f"alternating: {each}; {max(t.warc_bytes for t in timings) / 1e6:.0f} MB of WARC per "
        f"recorded crawl; load average {load_start:.2f} at B1's start, "
        f"{os.getloadavg()[0]:.2f} at its end; each round's own ratio: "
        + ", ".join(f"{r:.2f}" for r in paired)
    )
    row.notes.append(
        "CPU per timed crawl (user+sys), crawl / replica: "
        + ", ".join(f"{t.variant} {t.cpu_seconds:.1f}s / {t.replica_cpu:.1f}s" for t in timings)
        + "; the replica serves every response from its cache after the warm-up crawl "
        "(--cache-size all: a remote site's page cache, whose CPU is not the crawler's)"
    )
    if inline:
        row.notes.append(
            f"before/after in the same rounds: gzip members written inline on the reactor "
            f"thread (NEWSVAULT_WARC_WRITER_PROCESS=False) {median[INLINE]:.1f}s, ratio "
            f"{median[INLINE] / off:.2f}; by the WARC writer process (shipped) ratio "
            f"{on / off:.2f}"
        )
    return B1Result(row, responses / min(on, off))


# ----- Server headroom --------------------------------------------------------------------------


def article_paths(articles: int, seed: int = 1) -> list[str]:
    from infra.replica.content import Site

    site = Site(articles=articles, seed=seed)
    return [site.article_at(k).path for k in range(site.count)]


_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)")

WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("NV_BENCH_PATHS")) do paths[#paths + 1] = line end
local threads = 0
function setup(thread) thread:set("id", threads); threads = threads + 1 end
function init(args) counter = id * 7919 end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], {["Accept-Encoding"] = "gzip, deflate"})
end
"""


def load_replica(
    base_url: str, paths: list[str], seconds: int, connections: int, workdir: Path
) -> tuple[float, str]:
    """Requests per second the replica serves over loopback, cycling through distinct article
    pages (as a crawl asks for them: each once, gzip accepted); wrk when installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        from loadgen import run_load

        rps, errors = run_load(base_url, paths, seconds, connections)
        return rps, f"bench/loadgen.py, {connections} connections, {errors} errors"
    paths_file = workdir / "paths.txt"
    paths_file.write_text("\n".join(paths) + "\n", encoding="utf-8")
    script = workdir / "paths.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script), base_url]
    env = {**os.environ, "NV_BENCH_PATHS": str(paths_file)}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    match = _WRK_RPS.search(out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    non2xx = _WRK_ERRORS.search(out)
    return float(match[1]), f"wrk -t2 -c{connections}, {non2xx[1] if non2xx else 0} non-2xx"


def headroom(sizes: Sizes, crawl_rate: float | None, workdir: Path) -> Row:
    paths = article_paths(sizes.b1_articles)
    with ReplicaProcess(sizes.b1_articles, cache_all=True) as replica:
        warm_up(replica.base_url, paths)  # every page in the replica's cache, as in B1
        rps, how = load_replica(
            replica.base_url, paths, sizes.headroom_seconds, BENCH_CONCURRENCY, workdir
        )
    row = Row(
        "H",
        "server headroom (replica alone vs crawl rate)",
        measured=f"{rps:.0f} req/s replica",
        baseline=f"{crawl_rate:.0f} pages/s crawl" if crawl_rate else "needs B1",
        ratio=rps / crawl_rate if crawl_rate else None,
        target=3.0,
    )
    row.notes.append(
        f"{how}, {sizes.headroom_seconds}s over {len(paths)} distinct article pages, each "
        "fetched once before (the replica serves them from its full cache, as in B1); "
        "crawl rate = B1's faster variant (responses / wall time)"
    )
    return row
