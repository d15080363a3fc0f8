"""A full disk (issue 14), made for real: a small tmpfs holds the spool and the Prefect server's
database (its home), as when a machine's one disk fills up; S3 lives elsewhere, as in production.
The run ends with one line naming the disk, nothing archived is lost, and once space is freed
the next run archives normally. Mounting needs root (CAP_SYS_ADMIN); elsewhere the test skips."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from flows.store.s3 import make_client
from infra.local import control as local
from infra.local.control import LocalStack
from infra.replica.server import ReplicaServer
from tests.helpers import (
    NEWSVAULT,
    cli_env,
    newsvault,
    one_error_line,
    pick_stack,
    stack_home_env,
    store_config,
)

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

pytestmark = pytest.mark.e2e
DISK_SIZE = "48m"


@pytest.fixture
def small_disk() -> Iterator[Path]:
    mount = Path(tempfile.mkdtemp(prefix="nv-disk-", dir="/tmp"))
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE},mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        shutil.rmtree(mount, ignore_errors=True)


def _fill(disk: Path, leave: int) -> Path:
    """A file that takes all of ``disk``'s space but ``leave`` bytes."""
    filler = disk / "filler"
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(filler, "wb") as fh:
        left = max(0, free - leave)
        while left > 0:
            chunk = min(left, 1 << 22)
            fh.write(b"\0" * chunk)
            left -= chunk
    return filler


def test_full_disk_ends_with_one_line_loses_nothing_and_recovers(
    small_disk: Path, tmp_path: Path
) -> None:
    home = Path(tempfile.mkdtemp(prefix="nv-full-", dir="/tmp"))
    stack = pick_stack(home)
    (small_disk / "prefect").mkdir()
    home.mkdir(exist_ok=True)
    stack.prefect_home.symlink_to(small_disk / "prefect")  # the server's database on the disk
    spool = small_disk / "spool"
    base = stack_home_env(stack)
    try:
        assert newsvault("up", env=base).returncode == 0
        env = cli_env(stack, spool, **{k: v for k, v in base.items() if k.startswith("NEWSVAULT_")})
        with ReplicaServer(articles=20, seed=15) as server:
            first = newsvault("run", "replica", "--base-url", server.base_url, env=env)
            assert first.returncode == 0, first.stderr[-3000:]
            archived = _objects(stack)
            filler = _fill(small_disk, leave=150_000)
            full = _run_or_dump(
                [NEWSVAULT, "run", "replica", "--base-url", server.base_url, "--full"],
                {**env, "PYTHONFAULTHANDLER": "1"},
                tmp_path,
            )
            line = one_error_line(full)
            assert full.returncode != 0
            assert f"no space left on device at {small_disk}" in line, full.stderr[-3000:]
            assert "free space and re-run" in line
            ours = [x for x in full.stderr.splitlines() if "| Task run 'crawl-" not in x]
            assert not [x for x in ours if "Traceback" in x]  # Scrapy forwards its own
            assert set(archived) <= set(_objects(stack))  # nothing archived is lost
            filler.unlink()
            again = newsvault("run", "replica", "--base-url", server.base_url, env=env)
        assert again.returncode == 0, again.stderr[-3000:]
        summary = json.loads(again.stdout[again.stdout.index("{") :])
        assert summary["health"] == "ok"
        assert not list(spool.glob("replica/2*"))  # whatever the full run left was recovered
    finally:
        newsvault("down", env=base)
        shutil.rmtree(home, ignore_errors=True)


def _run_or_dump(
    cmd: list[str], env: dict[str, str], tmp: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; if it has not ended after 300 s, fail with the stacks of its threads (it
    runs with PYTHONFAULTHANDLER: SIGABRT makes it print them)."""
    with open(tmp / "full.out", "w") as out, open(tmp / "full.err", "w") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        try:
            code = proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait(timeout=30)
            pytest.fail("the run on a full disk hangs:\n" + (tmp / "full.err").read_text()[-8000:])
    return subprocess.CompletedProcess(
        cmd, code, (tmp / "full.out").read_text(), (tmp / "full.err").read_text()
    )


def _objects(stack: LocalStack) -> dict[str, int]:
    client = _client(stack)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix="sites/")
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def _client(stack: LocalStack) -> S3Client:
    """A client with this stack's own keys (``helpers.s3`` would leave them in the process's
    environment, where the session stack's tests would pick them up)."""
    return make_client(store_config(stack), credentials=local.credentials(stack))
