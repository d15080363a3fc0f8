"""Every stage against a baseline measured in the same run: ``make bench``.

Usage: ``.venv/bin/python bench/run.py [--quick] [--only B1,...,M,MR,Q,R] [--articles N]
[--b1-rounds N] [--b1-inline] [--output FILE] [--merge]``.
Prints one table (measured, baseline, ratio, target, met) with notes, and for a full run of all
rows writes it with the machine's description to ``bench/RESULTS.md``. Asserts nothing about
wall times. Rows: B1 recording overhead, B2 processing, B3 end to end, B4 incremental rerun,
B5 upload, B6 replay from S3, H server headroom, M peak memory with a 30 MB page, Q replay QA
(run wall time with QA on / off, cost per sampled page), R page requisites. ``--merge`` puts
the measured rows into ``bench/RESULTS.md`` in place of that file's rows with the same keys (a
partial run, dated and with its load, in the notes).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import harness
import merge
import stage_clean
import stage_crawl
import stage_flow
import stage_memory
import stage_qa
import stage_requisites
import stage_upload
import stages
from harness import Row

ROWS = ("B1", "B2", "B3", "B4", "B5", "B6", "H", "M", "MR", "Q", "R")
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a ~2 minute smoke run")
    parser.add_argument("--only", default="", help=f"comma-separated rows of {','.join(ROWS)}")
    parser.add_argument("--output", type=Path, default=None, help="write the results here")
    parser.add_argument(
        "--articles", type=int, default=0, help="site size of B1, R and B3's smaller run (B4, B6)"
    )
    parser.add_argument("--b1-rounds", type=int, default=0, help="B1's rounds (default 2)")
    parser.add_argument(
        "--b1-inline", action="store_true", help="B1 also with members written inline (before)"
    )
    parser.add_argument(
        "--merge", action="store_true", help="put the measured rows into bench/RESULTS.md"
    )
    parser.add_argument("--b3-worker", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--spool", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--extras", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.b3_worker:  # one B3 size in a fresh process (see stage_flow.run_e2e_worker)
        assert args.spool is not None
        print(json.dumps(stage_flow.e2e_worker(args.b3_worker, args.spool, args.extras)))
        return 0

    only = [r.strip().upper() for r in args.only.split(",") if r.strip()] or list(ROWS)
    unknown = sorted(set(only) - set(ROWS))
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {','.join(ROWS)}")
    sizes = stages.Sizes.quick() if args.quick else stages.Sizes()
    if args.articles:
        sizes = sizes.with_articles(args.articles)
    if args.b1_rounds:
        sizes = dataclasses.replace(sizes, b1_rounds=args.b1_rounds)
    output = args.output or (RESULTS if not args.quick and set(only) == set(ROWS) else None)

    started = time.perf_counter()
    load_start = os.getloadavg()
    workdir = stages.new_workdir()
    rows: list[Row] = []
    crawl_rate: float | None = None
    try:
        with ExitStack() as stack:
            if "B1" in only:
                print("B1 recording overhead ...", flush=True)
                b1 = stage_crawl.b1_recording(sizes, workdir / "spool", args.b1_inline)
                rows.append(b1.row)
                crawl_rate = b1.crawl_pages_per_s
            if "H" in only:
                print("H server headroom ...", flush=True)
                rows.append(stage_crawl.headroom(sizes, crawl_rate, workdir))
            if "B2" in only:
                print("B2 processing ...", flush=True)
                rows += stage_clean.b2_processing(sizes)
            s3_env = (
                stack.enter_context(harness.seaweed_stack())
                if {"B3", "B4", "B5", "B6", "Q"} & set(only)
                else {}
            )
            e2e = {"B3", "B4", "B6"} & set(only)
            if e2e:
                print(f"{'/'.join(sorted(e2e))} end to end, incremental, replay ...", flush=True)
                rows += stage_flow.e2e_rows(sizes, workdir / "spool", s3_env, e2e)
            if "B5" in only:
                print("B5 upload ...", flush=True)
                rows.append(stage_upload.b5_upload(sizes, workdir, s3_env))
            if "Q" in only:
                print("Q replay QA ...", flush=True)
                rows.append(stage_qa.q_replay_qa(sizes, workdir, s3_env))
            if "M" in only:
                print("M peak memory with a 30 MB page ...", flush=True)
                rows.append(stage_memory.m_memory())
            if "MR" in only:
                print("MR peak memory with an 8.6 MB robots.txt ...", flush=True)
                rows.append(stage_memory.mr_memory())
            if "R" in only:
                print("R page requisites ...", flush=True)
                rows += stage_requisites.r_requisites(sizes, workdir / "spool")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    order = {key: n for n, key in enumerate(ROWS)}
    rows.sort(key=lambda r: order.get(r.key, 99))

    elapsed = time.perf_counter() - started
    mode = "quick" if args.quick else "full"
    lines = [
        f"# Benchmark results ({mode} run, rows {','.join(only)})",
        "",
        "Each ratio compares the measured value with a baseline measured in the same run;",
        "`met` compares the ratio with the target. See bench/README.md.",
        "",
        *harness.table_lines(rows),
        "",
        f"Wall time of the whole benchmark: {elapsed / 60:.1f} min "
        f"(load average at the start {load_start[0]:.2f}, at the end {os.getloadavg()[0]:.2f}).",
        "",
        "Notes:",
        "",
        *harness.notes_lines(rows),
        "",
        "Machine:",
        "",
        *harness.machine_lines(shutil.which("wrk"), load_start),
    ]
    print("\n" + "\n".join(lines))
    if output is not None:
        output.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"\nwritten to {output}")
    elif args.merge:
        how = " ".join(["bench/run.py", *(sys.argv[1:] if argv is None else argv)])
        merge.merge_results(RESULTS, rows, ROWS, how, (load_start[0], os.getloadavg()[0]))
        print(f"\nrows {','.join(sorted({r.key for r in rows}))} merged into {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
