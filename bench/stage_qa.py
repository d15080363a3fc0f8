"""Q: what replay QA costs a run. Two first runs of the same replica (``flowrun.archive_once``:
the archive flow's plain functions, without Prefect), each into its own S3 prefix: one with QA
off (the baseline), one followed by QA of its default sample (``[qa] sample``), as the flow's
``replay-qa`` step runs it after the state is saved (``flows.qa.qa_archived_run``: the site's
mirror, pywb, Chromium live and replayed, the measures). A warm-up run first (the first run in a
process pays its imports). Reports the run's wall time with QA on against off, and QA's cost per
sampled page. Asserts nothing about wall times."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from harness import ReplicaProcess, Row
from stages import Sizes, bench_profile

if TYPE_CHECKING:
    from flows.qa import QAResult

QA_ARTICLES = 300
QA_ARTICLES_QUICK = 60


@contextmanager
def environment(extra: dict[str, str]) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(extra)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def q_replay_qa(sizes: Sizes, workdir: Path, s3_env: dict[str, str]) -> Row:
    from flowrun import archive_once, new_pool

    from flows.qa import qa_archived_run
    from flows.store.s3 import Store, StoreConfig

    articles = QA_ARTICLES_QUICK if sizes.b1_articles < 1000 else QA_ARTICLES
    row = Row("Q", "replay QA: run wall time, QA on / off")
    home = workdir / "qa-home"
    with environment({**s3_env, "NEWSVAULT_HOME": str(home)}), ReplicaProcess(articles) as replica:
        profile = bench_profile(replica.base_url)
        pool = new_pool()
        try:
            seconds: dict[str, float] = {}
            for mode in ("warm-up", "off", "on"):  # the first run in a process pays imports
                store = Store(replace(StoreConfig.from_env(), prefix=f"bench-q-{mode}/"))
                run, paths = archive_once(store, profile, workdir / f"spool-{mode}", pool,
                                          warc_max_size=32 * 1024 * 1024)  # fmt: skip
                seconds[mode] = run.seconds
                if mode == "on":
                    started = time.perf_counter()
                    result, _skipped = qa_archived_run(
                        store, profile, paths.run_id, profile.qa.sample, log=lambda _line: None
                    )
                    qa_seconds = time.perf_counter() - started
        finally:
            pool.terminate()
            pool.join()
    pages = len(result.pages)
    on, off = seconds["on"] + qa_seconds, seconds["off"]
    row.measured = f"{on:.1f} s (run {seconds['on']:.1f} s + QA {qa_seconds:.1f} s)"
    row.baseline = f"{off:.1f} s (run, QA off)"
    row.ratio = on / off
    row.notes = [
        f"replica of {articles} articles, first runs, default sample {profile.qa.sample}: "
        f"{pages} pages checked in {qa_seconds:.1f} s = {qa_seconds / max(pages, 1):.1f} s per "
        f"sampled page (mirror, pywb start, Chromium live + replay, pixel and text measures)",
        f"QA alone adds {qa_seconds / seconds['on']:.0%} to the run it checks "
        f"(run {seconds['on']:.1f} s); "
        f"scores: median screenshot_match {statistics.median(_known(result, 's')):.4f}, "
        f"median text_match {statistics.median(_known(result, 't')):.4f}, "
        f"{result.left} requests left the replay server",
        "a real site's run crawls with a politeness delay (minutes to hours), so QA's fixed "
        "cost per sampled page weighs far less there than against this unthrottled replica",
    ]
    return row


def _known(result: QAResult, which: str) -> list[float]:
    values = [p.screenshot_match if which == "s" else p.text_match for p in result.pages]
    return [v for v in values if v is not None] or [0.0]
