"""Reliability: a crawl killed with SIGKILL, a flow killed mid-upload, two runs started together.
Real `newsvault run` subprocesses against the session's SeaweedFS and Prefect and a replica."""

from __future__ import annotations

import gzip
import io
import json
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.orchestrate.crawl import PROGRESS_FILE, crawl_command, crawl_env
from flows.sites import load_profile
from flows.store.runs import RunPaths
from flows.warc.repair import complete_prefix
from infra.local.control import LocalStack
from infra.replica.server import ReplicaServer
from spiders.recorder import ON_DISK
from tests.helpers import (
    NEWSVAULT,
    Gate,
    cli_env,
    newsvault,
    one_error_line,
    s3,
    store_config,
    wait_for,
    writers_into,
)

pytestmark = pytest.mark.e2e


class Archive:
    def __init__(self, stack: LocalStack, prefix: str) -> None:
        self.prefix, self.client, self.bucket = prefix, s3(stack), store_config(stack).bucket

    def keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/sites/replica/runs/"
        )
        return [o["Key"] for page in pages for o in page.get("Contents", [])]

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def runs(self) -> list[str]:
        return sorted({k.split("/")[4] for k in self.keys()})

    def records(self, run_id: str) -> int:
        total = 0
        for key in (k for k in self.keys() if f"/{run_id}/warc/" in k):
            recs = ArchiveIterator(io.BytesIO(self.get(key)))
            total += sum(1 for r in recs if r.rec_type != "warcinfo")
        return total

    def articles(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for key in (k for k in self.keys() if k.endswith("articles.jsonl.gz")):
            out += [json.loads(x) for x in gzip.decompress(self.get(key)).splitlines()]
        return out


def test_killed_crawl_is_repaired_and_archived_by_next_run(
    stack: LocalStack, tmp_path: Path
) -> None:
    archive = Archive(stack, "crashcrawl")
    spool = tmp_path / "spool"
    gate = Gate(after=20)  # the crawl waits at the gate after 20 articles: killed mid-crawl
    with ReplicaServer(articles=30, seed=7, behaviour=gate) as server:
        profile = load_profile("replica", server.base_url)
        run = RunPaths.create(spool, "replica")
        proc = subprocess.Popen(
            crawl_command(profile, run),
            env=crawl_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def grown() -> bool:
            files = list(run.warc_dir.glob("*.open"))
            return bool(files) and files[0].stat().st_size > 60_000

        wait_for("the open WARC file to pass 60 kB", grown, 120, 0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        wait_for("the WARC writer to end", lambda: not writers_into(run.warc_dir), 60, 0.05)
        gate.open.set()
        (open_file,) = run.warc_dir.glob("*.warc.gz.open")
        with open(open_file, "ab") as fh:  # a record torn in the middle of its gzip member
            fh.write(gzip.compress(b"WARC/1.1\r\n" + random.Random(7).randbytes(4000))[:1500])
        _, kept_records = complete_prefix(open_file)
        env = cli_env(stack, spool, NEWSVAULT_S3_PREFIX="crashcrawl")
        done = newsvault("run", "replica", "--base-url", server.base_url, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "recovering run " + run.run_id in done.stdout + done.stderr
    assert "torn bytes cut" in done.stdout + done.stderr
    runs = archive.runs()
    assert runs[0] == run.run_id and len(runs) == 2
    assert archive.records(run.run_id) == kept_records - 1  # all but warcinfo, nothing torn
    assert not run.dir.exists()  # spool verified then removed
    articles = archive.articles()
    ids = Counter((a["id"], a["version"]) for a in articles)
    assert ids and max(ids.values()) == 1  # no article version archived twice
    assert len({a["id"] for a in articles}) == 30  # and every article is there


def test_killed_crawl_keeps_every_record_reported_on_disk(tmp_path: Path) -> None:
    """Records are written by the WARC writer process: a crawl killed (SIGKILL) while busy keeps
    every record its running stats last reported on disk (and those it had sent: the writer
    writes them, then exits), in rotated files and the open one, each readable by warcio."""
    with ReplicaServer(articles=300, seed=9) as server:
        profile = load_profile("replica", server.base_url)
        run = RunPaths.create(tmp_path / "spool", "replica")
        cmd = crawl_command(profile, run, warc_max_size=200_000)
        cmd += ["-s", "NEWSVAULT_PROGRESS_INTERVAL=0.05"]
        proc = subprocess.Popen(
            cmd, env=crawl_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        progress = run.dir / PROGRESS_FILE

        def on_disk() -> int:
            try:
                return int(json.loads(progress.read_text()).get(ON_DISK, 0))
            except (OSError, ValueError):
                return 0  # not written yet

        wait_for("the crawl to report 300 records on disk", lambda: on_disk() >= 300, 120, 0.02)
        assert proc.poll() is None, "the crawl ended before the kill"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        wait_for("the WARC writer to end", lambda: not writers_into(run.warc_dir), 60, 0.05)
    reported = on_disk()  # the last progress the killed crawl wrote (replaced atomically)
    closed = sorted(run.warc_dir.glob("*.warc.gz"))
    assert closed, "no file was rotated"
    kept = 0
    for path in closed:
        with open(path, "rb") as fh:
            kept += sum(1 for _ in ArchiveIterator(fh))
    for path in run.warc_dir.glob("*.warc.gz.open"):
        good_end, records = complete_prefix(path)
        with open(path, "rb") as fh:
            readable = sum(1 for _ in ArchiveIterator(io.BytesIO(fh.read(good_end))))
        assert readable == records
        kept += records
    assert kept >= reported >= 300


def test_two_runs_together_one_refused_then_killed_flow_resumes(
    stack: LocalStack, tmp_path: Path
) -> None:
    archive = Archive(stack, "together")
    gate = Gate()
    with ReplicaServer(articles=30, seed=8, behaviour=gate) as server:
        procs = []
        for name in ("a", "b"):
            env = cli_env(
                stack,
                tmp_path / name,
                NEWSVAULT_S3_PREFIX="together",
                NEWSVAULT_SCRAPY_SETTINGS=json.dumps({"DOWNLOAD_TIMEOUT": 600}),  # at the gate
            )
            cmd = [NEWSVAULT, "run", "replica", "--base-url", server.base_url]
            # files, not pipes: a pipe nobody reads while the other run waits could fill up
            with (
                open(tmp_path / f"{name}.out", "w") as out,
                open(tmp_path / f"{name}.err", "w") as err,
            ):
                procs.append(subprocess.Popen(cmd, env=env, stdout=out, stderr=err))
        # the run without the lock exits while the other waits at the gate; then it may go on
        wait_for("one run to exit", lambda: any(p.poll() is not None for p in procs), 300, 0.2)
        gate.open.set()
        results = [
            subprocess.CompletedProcess(
                cmd,
                p.wait(timeout=300),
                (tmp_path / f"{n}.out").read_text(),
                (tmp_path / f"{n}.err").read_text(),
            )
            for n, p in zip("ab", procs, strict=True)
        ]
        codes = sorted(r.returncode for r in results)
        assert codes == [0, 1], [r.stderr[-2000:] for r in results]
        refused = next(r for r in results if r.returncode == 1)
        assert "already being archived" in one_error_line(refused)
        runs = archive.runs()
        assert len(runs) == 1  # one run archived; the refused one wrote nothing
        keys = archive.keys()
        assert len(keys) == len(set(keys))

        # A flow killed in the middle of its upload: the next run takes over its dead lock,
        # finishes the upload and archives nothing twice.
        env = cli_env(
            stack,
            tmp_path / "k",
            NEWSVAULT_S3_PREFIX="together",
            NEWSVAULT_SCRAPY_SETTINGS=json.dumps({"NEWSVAULT_WARC_MAX_SIZE": 4000}),
        )
        server.set_day(1)
        cmd = [NEWSVAULT, "run", "replica", "--base-url", server.base_url, "--full"]
        killed = subprocess.Popen(cmd, env=env, text=True, stdout=-1, stderr=-1)
        deadline, killed_mid_upload = time.monotonic() + 180, False
        while time.monotonic() < deadline and killed.poll() is None:
            new = [k for k in archive.keys() if k.split("/")[4] not in runs]
            if new:
                killed.send_signal(signal.SIGKILL)
                killed_mid_upload = not any(k.endswith("manifest.json") for k in new)
                break
            time.sleep(0.01)
        killed.communicate(timeout=60)
        assert killed_mid_upload, "the upload finished before the kill landed"
        done = newsvault("run", "replica", "--base-url", server.base_url, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "took over the stale lock" in output and "is gone" in output
    assert "left in the spool by an earlier run" in output
    runs_now = archive.runs()
    assert len(runs_now) == 3
    for run_id in runs_now:
        manifest = json.loads(archive.get(f"together/sites/replica/runs/{run_id}/manifest.json"))
        listed = {o["key"] for o in manifest["objects"]}
        present = {k for k in archive.keys() if f"/{run_id}/" in k} - {
            f"together/sites/replica/runs/{run_id}/manifest.json"
        }
        assert listed == present, run_id
    ids = Counter((a["id"], a["version"]) for a in archive.articles())
    assert max(ids.values()) == 1
    assert not list((tmp_path / "k" / "replica").glob("2*"))  # spool emptied
