"""`newsvault down` while a run is under way (issue 14): the run stops within seconds with one
line, its spool is kept, and after `newsvault up` the next run recovers it and crawls normally;
a run `newsvault serve` started (in a process Prefect spawns for it) stops the same way. Its own
stack (started and stopped by the CLI, as a user does), a real replica held at a gate so the run
is mid-crawl when `down` comes, whatever the machine's speed."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from flows.errors import StoreUnreachableError
from flows.store.s3 import Store, StoreConfig, make_client
from flows.store.upload import upload_run
from infra.local import control as local
from infra.local import processes
from infra.local.control import LocalStack
from infra.replica.server import ReplicaServer
from tests.helpers import (
    NEWSVAULT,
    REPO,
    Crawled,
    Gate,
    cli_env,
    newsvault,
    one_error_line,
    pick_stack,
    prefect_api,
    spooled_run,
    stack_home_env,
    store_config,
    wait_for,
)

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

pytestmark = pytest.mark.e2e

# A bound no healthy machine gets near (the run stops in seconds; it used to take minutes, or
# half an hour mid-upload): not a timing, a "did it stop at all".
RUN_STOPS_WITHIN = 60.0


@pytest.fixture
def cli_stack() -> Iterator[tuple[LocalStack, dict[str, str]]]:
    """A stack of its own, up and down through the CLI; the environment that reaches it."""
    home = Path(tempfile.mkdtemp(prefix="nv-down-", dir="/tmp"))
    stack = pick_stack(home)
    base = stack_home_env(stack)
    try:
        started = newsvault("up", env=base)
        assert started.returncode == 0, started.stderr
        yield stack, base
    finally:
        newsvault("down", env=base)
        shutil.rmtree(home, ignore_errors=True)


def test_down_mid_crawl_stops_the_run_keeps_its_spool_next_run_recovers(
    cli_stack: tuple[LocalStack, dict[str, str]], tmp_path: Path
) -> None:
    stack, base = cli_stack
    spool = tmp_path / "spool"
    env = cli_env(
        stack,
        spool,
        **{k: v for k, v in base.items() if k.startswith("NEWSVAULT_")},
        NEWSVAULT_SCRAPY_SETTINGS=json.dumps({"DOWNLOAD_TIMEOUT": 600}),  # held at the gate
    )
    gate = Gate(after=5)
    with ReplicaServer(articles=20, seed=14, behaviour=gate) as server:
        try:
            cmd = [NEWSVAULT, "run", "replica", "--base-url", server.base_url]
            with open(tmp_path / "run.err", "w") as err:
                run = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)

            run_dir = _mid_crawl(spool)
            stopped = newsvault("down", env=base, timeout=300)
            # down returns once its runs are gone: the run must already have ended
            code = run.wait(timeout=RUN_STOPS_WITHIN)
        finally:
            gate.open.set()
            if run.poll() is None:
                run.kill()
        assert stopped.returncode == 0, stopped.stderr
        assert f"Archive run (pid {run.pid}): stopped" in stopped.stdout
        stderr = (tmp_path / "run.err").read_text()
        assert code == 143, stderr[-3000:]
        assert "Traceback" not in stderr
        line = one_error_line(subprocess.CompletedProcess(cmd, code, "", stderr))
        assert "the run was stopped" in line and str(spool / "replica") in line
        assert list((run_dir / "warc").iterdir()), "the spool was not kept"
        assert not list((stack.run_dir / "runs").glob("*.pid"))

        again = newsvault("up", env=base)
        assert again.returncode == 0, again.stderr
        done = newsvault("run", "replica", "--base-url", server.base_url, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"recovering run {run_dir.name}" in done.stderr
    assert not run_dir.exists()  # recovered, archived, verified, removed
    client = _client(stack)
    listed = client.list_objects_v2(Bucket=stack.bucket, Prefix="sites/replica/runs/")
    runs = {o["Key"].split("/")[3] for o in listed.get("Contents", [])}
    assert run_dir.name in runs and len(runs) == 2  # the stopped run and the new one
    ids = set()
    for item in listed["Contents"]:
        if item["Key"].endswith("articles.jsonl.gz"):
            body = client.get_object(Bucket=stack.bucket, Key=item["Key"])["Body"].read()
            ids |= {json.loads(line)["id"] for line in gzip.decompress(body).splitlines()}
    assert len(ids) == 20  # between them the two runs archived the whole site


def test_down_mid_served_run_stops_it_keeps_its_spool(
    cli_stack: tuple[LocalStack, dict[str, str]], tmp_path: Path
) -> None:
    """A run `serve` started is registered by the process that runs it: `down` stops it as it
    stops `newsvault run`'s (one line, no traceback, the spool kept) before the servers."""
    stack, base = cli_stack
    spool, profiles = tmp_path / "spool", tmp_path / "profiles"
    gate = Gate(after=5)
    with ReplicaServer(articles=20, seed=14, behaviour=gate) as server:
        shipped = (REPO / "spiders" / "profiles" / "replica.toml").read_text()
        profile = shipped.replace('"http://127.0.0.1:8765"', f'"{server.base_url}"')
        assert profile != shipped
        profiles.mkdir()
        (profiles / "replica.toml").write_text(profile)
        env = cli_env(
            stack,
            spool,
            **{k: v for k, v in base.items() if k.startswith("NEWSVAULT_")},
            NEWSVAULT_PROFILES=str(profiles),
            NEWSVAULT_SCRAPY_SETTINGS=json.dumps({"DOWNLOAD_TIMEOUT": 600}),  # held at the gate
            PREFECT_RUNNER_POLL_FREQUENCY="2",
        )
        with open(tmp_path / "serve.log", "w") as log:  # a schedule that never comes due here
            cmd = [NEWSVAULT, "serve", "replica", "--cron", "0 0 1 1 *"]
            serve = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        runs = stack.run_dir / "runs"
        try:
            found = wait_for("the deployment", lambda: _deployments(stack), 180)
            prefect_api(stack, "POST", f"/deployments/{found[0]['id']}/create_flow_run", {})

            def the_run() -> list[int]:  # the process Prefect spawned for the flow run
                return [p for f in runs.glob("*.pid") if (p := int(f.stem)) != serve.pid]

            [pid] = wait_for("the run to register", the_run, 300)
            assert (runs / f"{serve.pid}.pid").is_file()  # serve itself, stopped after its runs

            run_dir = _mid_crawl(spool)
            stopped = newsvault("down", env=base, timeout=300)
            # down returns once its runs and serve are gone: both must already have ended
            assert not processes.alive(pid)
            code = serve.wait(timeout=RUN_STOPS_WITHIN)
        finally:
            gate.open.set()
            if serve.poll() is None:
                serve.kill()
    assert stopped.returncode == 0, stopped.stderr
    assert f"Archive run (pid {pid}): stopped" in stopped.stdout
    assert f"(`newsvault serve`) (pid {serve.pid}): stopped" in stopped.stdout
    assert code == 0, code
    assert "not running" not in stopped.stdout  # the servers were up until then, and stopped
    output = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in output, output[-3000:]
    assert "Beginning flow run 'archive-replica' for flow 'archive-site'" in output
    said = [line for line in output.splitlines() if "the run was stopped" in line]
    assert said and str(spool / "replica") in said[0], output[-3000:]
    assert list((run_dir / "warc").iterdir()), "the spool was not kept"
    assert not list(runs.glob("*.pid"))


def _mid_crawl(spool: Path) -> Path:
    """The run's directory, once it has recorded its first pages (its WARC file still open)."""

    def recording() -> Path | None:
        found = list(spool.glob("replica/2*/warc/*.open"))
        return found[0] if found and found[0].stat().st_size > 0 else None

    return wait_for("the run to record its first pages", recording, 180, 0.2).parents[1]


def _deployments(stack: LocalStack) -> list[dict[str, Any]]:
    filtered = {"deployments": {"name": {"any_": ["replica"]}}}
    found: list[dict[str, Any]] = prefect_api(stack, "POST", "/deployments/filter", filtered)
    return found


def test_s3_gone_for_good_mid_upload_the_other_objects_stop_waiting(
    cli_stack: tuple[LocalStack, dict[str, str]],
    crawled: Crawled,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Once one object has used up its retries against a stopped S3, the others give up too
    (each would wait out the same backoff: minutes per run, 30 with many files)."""
    stack, base = cli_stack
    key, secret = local.credentials(stack)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3 caches the session stack's keys
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    config = replace(
        StoreConfig(bucket=stack.bucket, endpoint=stack.s3_endpoint, max_attempts=1),
        retry_backoff=(0.2, 0.2, 0.2),
        upload_workers=2,
    )
    run = spooled_run(crawled, tmp_path, "20200303T000000Z-0000d0", config.prefix)
    objects = len(json.loads(run.manifest.read_text())["objects"])
    assert objects > config.upload_workers
    assert newsvault("down", env=base).returncode == 0
    with (
        caplog.at_level(logging.WARNING, logger="flows.store.upload"),
        pytest.raises(StoreUnreachableError) as info,
    ):
        upload_run(Store(config), run)
    assert "cannot reach S3" in str(info.value) and "not attempted" not in str(info.value)
    retried = {r.getMessage().split()[2] for r in caplog.records if "retrying in" in r.message}
    assert 1 <= len(retried) <= config.upload_workers < objects
    assert run.manifest.is_file()  # the spool is kept


def _client(stack: LocalStack) -> S3Client:
    """A client with this stack's own keys (``helpers.s3`` would leave them in the process's
    environment, where the session stack's tests would pick them up)."""
    return make_client(store_config(stack), credentials=local.credentials(stack))
