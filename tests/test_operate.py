"""Operating newsvault on the session stack: schedules with one run per site, health checks that
fail a run after its report, reprocessing from the archive (process pool and Dask), and two
process workers on a Prefect work pool."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.derive.articles import write_jsonl_gz
from flows.derive.process import process_warcs
from flows.derive.run import derive
from flows.sites import load_profile_file
from flows.state.fold import SiteState
from flows.store.manifest import build_manifest, write_manifest
from flows.store.runs import Keys, RunPaths
from flows.store.s3 import Store
from flows.store.upload import upload_run
from infra.local.control import LocalStack
from infra.replica import Behaviour, ReplicaServer, Request
from infra.replica.response import Response
from tests.helpers import (
    NEWSVAULT,
    REPO,
    Crawled,
    Gate,
    cli_env,
    get,
    newsvault,
    objects,
    one_error_line,
    prefect_api,
    s3,
    store_config,
    wait_for,
)

pytestmark = pytest.mark.e2e
PREFECT = str(Path(sys.executable).with_name("prefect"))
ARTICLE = re.compile(r"^/\d{4}/\d{2}/[^/?#]+/$")
# opserve's article pages wait here until the overlap test has seen the second run cancelled
SERVE_GATE = Gate()


def write_profile(directory: Path, name: str, base_url: str, extra: str = "") -> None:
    text = (REPO / "spiders" / "profiles" / "replica.toml").read_text()
    text = text.replace('name = "replica"', f'name = "{name}"')
    text = text.replace('base_url = "http://127.0.0.1:8765"', f'base_url = "{base_url}"')
    text = text.replace("stale_runs = 24", "stale_runs = 0")
    (directory / f"{name}.toml").write_text(text + extra)
    assert load_profile_file(directory / f"{name}.toml").base_url == base_url


class TooManyRequests(Behaviour):
    """Every article answers 429 (with Retry-After): the site rate-limits the crawler."""

    def respond(self, request: Request, response: Response) -> Response:
        if ARTICLE.match(request.target):
            return Response(429, "text/html", b"slow down", headers=(("Retry-After", "0"),))
        return response


class NewLayout(Behaviour):
    """Article URLs now render a page the cleaner does not know (no article body in it): here,
    the front page's teaser layout, as after a theme change."""

    server: ReplicaServer | None = None

    def respond(self, request: Request, response: Response) -> Response:
        if ARTICLE.match(request.target) and response.status == 200 and self.server:
            front = self.server.router.resolve("/", request.base)
            marker = f"<!-- {request.target} --></body>".encode()  # a payload per URL
            return Response(200, front.content_type, front.body.replace(b"</body>", marker))
        return response


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory, replica: ReplicaServer) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("profiles")
    layout = NewLayout()
    servers = {
        "opserve": ReplicaServer(articles=10, seed=6, behaviour=SERVE_GATE),
        "opblocked": ReplicaServer(articles=10, seed=3, behaviour=TooManyRequests()),
        "oplayout": ReplicaServer(articles=10, seed=4, behaviour=layout),
        "opw2": ReplicaServer(articles=15, seed=5),
    }
    layout.server = servers["oplayout"]
    for server in servers.values():
        server.start()
    for name in ("oprep", "opold", "opw1"):
        write_profile(directory, name, replica.base_url)
    for name, server in servers.items():
        write_profile(directory, name, server.base_url)
    write_profile(directory, "opalert", servers["oplayout"].base_url)  # its own first run
    yield directory
    for server in servers.values():
        server.stop()


def env_for(stack: LocalStack, tmp: Path, profiles: Path, **extra: str) -> dict[str, str]:
    return cli_env(stack, tmp / "spool", NEWSVAULT_PROFILES=str(profiles), **extra)


def api(stack: LocalStack, method: str, path: str, body: Any = None) -> Any:
    return prefect_api(stack, method, path, body)


def deployment(stack: LocalStack, name: str) -> dict[str, Any] | None:
    found = api(stack, "POST", "/deployments/filter", {"deployments": {"name": {"any_": [name]}}})
    return found[0] if found else None


def flow_run(stack: LocalStack, run_id: str) -> dict[str, Any]:
    result: dict[str, Any] = api(stack, "GET", f"/flow_runs/{run_id}")
    return result


# ---- schedules ------------------------------------------------------------------------------


def test_serve_schedules_and_cancels_an_overlapping_run(
    stack: LocalStack, profiles: Path, tmp_path: Path
) -> None:
    env = env_for(
        stack,
        tmp_path,
        profiles,
        PREFECT_RUNNER_POLL_FREQUENCY="2",
        NEWSVAULT_SCRAPY_SETTINGS=json.dumps({"DOWNLOAD_TIMEOUT": 600}),  # at the gate
    )
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen(
        [NEWSVAULT, "serve", "opserve", "--cron", "* * * * *"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        dep = wait_for("the deployment", lambda: deployment(stack, "opserve"), timeout=90)
        assert dep["global_concurrency_limit"]["limit"] == 1
        assert dep["concurrency_options"]["collision_strategy"] == "CANCEL_NEW"
        schedules = api(stack, "GET", f"/deployments/{dep['id']}/schedules")
        assert [s["schedule"]["cron"] for s in schedules] == ["* * * * *"]

        def scheduled() -> list[dict[str, Any]]:
            runs: list[dict[str, Any]] = api(
                stack,
                "POST",
                "/flow_runs/filter",
                {"flow_runs": {"deployment_id": {"any_": [dep["id"]]}}},
            )
            return [r for r in runs if r["auto_scheduled"]]

        runs = wait_for("scheduled runs", scheduled, timeout=90)
        starts = sorted(r["expected_start_time"] for r in runs)
        assert len(starts) >= 2 and all(s[17:19] == "00" for s in starts)  # on the minute

        # two runs at once: the server cancels the second, it does not queue it (a run holds
        # the deployment's one slot while it waits at the gate, until a cancel is seen)
        mine = [
            api(stack, "POST", f"/deployments/{dep['id']}/create_flow_run", {})["id"]
            for _ in range(2)
        ]

        def a_cancel() -> bool:
            return any(flow_run(stack, r)["state_type"] == "CANCELLED" for r in mine)

        wait_for("one of the two runs cancelled", a_cancel, timeout=240, every=2)
        SERVE_GATE.open.set()

        def settled() -> list[dict[str, Any]] | None:
            states = [flow_run(stack, r) for r in mine]
            done = all(r["state_type"] in ("COMPLETED", "CANCELLED", "FAILED") for r in states)
            return states if done else None

        states = wait_for("both runs to settle", settled, timeout=240, every=2)
        cancelled = [r for r in states if r["state_type"] == "CANCELLED"]
        assert cancelled, [(r["state_type"], r["state"]["message"]) for r in states]
        assert all("concurrency limit" in (r["state"]["message"] or "") for r in cancelled)
        assert any(r["state_type"] == "COMPLETED" for r in states) or len(cancelled) == 2
        completed = wait_for(
            "a completed scheduled or manual run",
            lambda: (
                [r for r in scheduled() + states if r["state_type"] == "COMPLETED"]
                or [r for r in (flow_run(stack, i) for i in mine) if r["state_type"] == "COMPLETED"]
            ),
            timeout=150,
            every=3,
        )
        assert completed
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    # a restart continues the schedule: stopping `serve` did not pause it
    again = deployment(stack, "opserve")
    assert again is not None and again["paused"] is False
    schedules = api(stack, "GET", f"/deployments/{again['id']}/schedules")
    assert all(s["active"] for s in schedules)


def test_serve_bad_input(stack: LocalStack, profiles: Path, tmp_path: Path) -> None:
    env = env_for(stack, tmp_path, profiles)
    proc = newsvault("serve", "opserve", "--cron", "every minute", env=env, timeout=60)
    assert proc.returncode == 2 and "is not valid" in one_error_line(proc)
    assert proc.stderr.count("\n") == 1
    proc = newsvault("serve", "nosuchsite", env=env, timeout=60)
    assert proc.returncode == 2 and "unknown site 'nosuchsite'" in one_error_line(proc)


# ---- health checks --------------------------------------------------------------------------


def report_of_last_run(stack: LocalStack, site: str) -> str:
    artifacts = api(
        stack,
        "POST",
        "/artifacts/filter",
        {"artifacts": {"key": {"any_": [f"{site}-run-report"]}}, "sort": "CREATED_DESC"},
    )
    assert artifacts, f"no report artifact for {site}"
    run = flow_run(stack, artifacts[0]["flow_run_id"])
    assert run["state_type"] == "FAILED", run["state_type"]
    return str(artifacts[0]["data"])


@pytest.mark.parametrize(
    ("site", "expected"),
    [
        ("oplayout", "extraction coverage 0% (0 of 10 article pages cleaned)"),
        ("opblocked", "responses were 403/429"),
    ],
)
def test_failed_health_check_fails_the_run_after_its_report(
    stack: LocalStack, profiles: Path, tmp_path: Path, site: str, expected: str
) -> None:
    proc = newsvault("run", site, env=env_for(stack, tmp_path, profiles))
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    line = one_error_line(proc)
    assert expected in line and f"of {site}" in line
    report = report_of_last_run(stack, site)
    assert "Health: **FAILED**" in report and expected in report
    if site == "opblocked":
        assert "| 429 |" in report  # the error responses, with their URLs
    else:
        assert "Pages that could not be cleaned" in report
    # the run was archived all the same: the evidence is in S3
    assert objects(stack, f"sites/{site}/runs/")


# ---- reprocessing ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oprep_runs(
    stack: LocalStack, profiles: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[str]:
    """Two archive runs of one site (the second sees the state of the first)."""
    tmp = tmp_path_factory.mktemp("oprep")
    for _ in range(2):
        proc = newsvault("run", "oprep", "--full", env=env_for(stack, tmp, profiles))
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    runs = sorted({k.split("/")[3] for k in objects(stack, "sites/oprep/runs/")})
    assert len(runs) == 2
    return runs


def reprocess(stack: LocalStack, tmp: Path, profiles: Path, *args: str) -> dict[str, Any]:
    proc = newsvault("replay", "reprocess", *args, env=env_for(stack, tmp, profiles))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    data: dict[str, Any] = json.loads(proc.stdout[proc.stdout.index("{\n") :])
    return data


def test_reprocess_same_cleaner_is_byte_identical(
    stack: LocalStack, profiles: Path, tmp_path: Path, oprep_runs: list[str]
) -> None:
    out = reprocess(stack, tmp_path, profiles, "oprep", "--workers", "2")
    assert [r["run_id"] for r in out["runs"]] == oprep_runs
    assert out["identical"] and all(r["identical"] and not r["written"] for r in out["runs"])
    for run in out["runs"]:  # byte for byte: the same SHA-256 as the archived object
        archived = get(stack, f"sites/oprep/runs/{run['run_id']}/articles.jsonl.gz")
        assert hashlib.sha256(archived).hexdigest() == run["sha256_rederived"]
    assert out["runs"][0]["articles"] == 40
    # one run alone: the state before it is the fold of the runs before it
    out = reprocess(stack, tmp_path, profiles, "oprep", "--run", oprep_runs[1])
    assert [r["run_id"] for r in out["runs"]] == [oprep_runs[1]] and out["identical"]
    assert not objects(stack, "sites/oprep/derived/")


def test_reprocess_on_dask_cluster(
    stack: LocalStack, profiles: Path, tmp_path: Path, oprep_runs: list[str]
) -> None:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        out = reprocess(stack, tmp_path, profiles, "oprep", "--dask", cluster.scheduler_address)
        assert out["identical"] and len(out["runs"]) == 2
        logs = cluster.get_logs()  # the workers did the cleaning
        assert logs


def test_reprocess_bad_input(
    stack: LocalStack, profiles: Path, tmp_path: Path, oprep_runs: list[str]
) -> None:
    env = env_for(stack, tmp_path, profiles)
    for args, expected in [
        (("oprep", "--run", "20200101T000000Z-abcdef"), "is not archived"),
        (("oprep", "--run", "yesterday"), "is not of the form"),
        (("oprep", "--since", "2999-01-01"), "no archived run since 2999-01-01"),
        (("oprep", "--since", "last week"), "is not a date"),
        (("nosuchsite",), "unknown site 'nosuchsite'"),
    ]:
        proc = newsvault("replay", "reprocess", *args, env=env, timeout=120)
        assert proc.returncode == 2, (args, proc.stderr[-2000:])
        assert expected in one_error_line(proc) and proc.stderr.count("\n") == 1, proc.stderr


def test_reprocess_newer_cleaner_writes_under_its_version(
    stack: LocalStack, profiles: Path, crawled: Crawled, tmp_path: Path
) -> None:
    """A run archived by an 'older cleaner' (two texts differ): reprocessing writes the new JSON
    under derived/{version}/ with what changed, and leaves the archived run alone."""
    config = store_config(stack)
    profile = load_profile_file(profiles / "opold.toml")
    run = RunPaths.create(tmp_path, "opold")
    for warc in crawled.result.warc_files:
        (run.warc_dir / warc.name).write_bytes(warc.read_bytes())
    keys = Keys(config.prefix, "opold", run.run_id)
    result = process_warcs(run.warc_files(), profile, run.run_id, keys.warc)
    derived = derive(result, SiteState("opold"), run.run_id, keys, lambda _: None)
    old: list[dict[str, Any]] = [dict(r) for r in derived.records]
    for record in old[:2]:
        record["text"] = record["text"] + "\nSubscribe to our newsletter"
    write_jsonl_gz(run.articles, old)
    write_jsonl_gz(run.events, derived.events)
    manifest = build_manifest(
        run,
        keys,
        base_url=profile.base_url,
        started_at=datetime.now(UTC),
        counts={**derived.summary(), "records": {"response": 0, "revisit": 0}, "cdxj_lines": 0},
        crawl={},
        cleaner_version="0.1.0",
    )
    write_manifest(run, manifest)
    upload_run(Store(config, s3(stack)), run)

    out = reprocess(stack, tmp_path, profiles, "opold")
    [outcome] = out["runs"]
    prefix = f"sites/opold/derived/{out['cleaner_version']}/runs/{run.run_id}/"
    assert outcome["archived_cleaner"] == "0.1.0" and not outcome["identical"]
    assert outcome["written"] == prefix
    assert sorted(outcome["changed"]) == sorted(f"{r['id']}@{r['version']}" for r in old[:2])
    assert outcome["changed_fields"] == {"text": 2} and not outcome["added"]
    found = objects(stack, prefix)
    assert {k.rsplit("/", 1)[1] for k in found} == {
        "articles.jsonl.gz",
        "events.jsonl.gz",
        "changes.json",
    }
    changes = json.loads(get(stack, prefix + "changes.json"))
    assert changes["cleaner_version"] == out["cleaner_version"] and len(changes["changed"]) == 2


# ---- scale-out: a process work pool with two workers ------------------------------------------


def test_two_workers_run_two_sites_concurrently(
    stack: LocalStack, profiles: Path, tmp_path: Path
) -> None:
    pool = f"nv-{uuid.uuid4().hex[:8]}"
    env = env_for(stack, tmp_path, profiles, PREFECT_WORKER_QUERY_SECONDS="2")
    create = subprocess.run(
        [PREFECT, "work-pool", "create", pool, "--type", "process"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert create.returncode == 0, create.stdout + create.stderr
    deployed = newsvault("serve", "opw1", "opw2", "--pool", pool, env=env, timeout=120)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    workers = []
    for i in range(2):
        log = open(tmp_path / f"worker{i}.log", "w")
        workers.append(
            (
                subprocess.Popen(
                    [PREFECT, "worker", "start", "--pool", pool, "--limit", "1", "--name", f"w{i}"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                log,
            )
        )
    try:
        # both workers must be polling before the runs exist, or the first one up takes both
        def online() -> bool:
            found = api(stack, "POST", f"/work_pools/{pool}/workers/filter", {})
            return {w["name"] for w in found if w["status"] == "ONLINE"} >= {"w0", "w1"}

        wait_for("both workers online", online, timeout=180, every=1)
        run_ids = []
        for site in ("opw1", "opw2"):
            dep = deployment(stack, site)
            assert dep is not None and dep["work_pool_name"] == pool
            run_ids.append(
                api(stack, "POST", f"/deployments/{dep['id']}/create_flow_run", {})["id"]
            )

        def finished() -> list[dict[str, Any]] | None:
            runs = [flow_run(stack, r) for r in run_ids]
            return (
                runs
                if all(r["state_type"] in ("COMPLETED", "FAILED", "CRASHED") for r in runs)
                else None
            )

        runs = wait_for("both runs", finished, timeout=400, every=3)
        assert [r["state_type"] for r in runs] == ["COMPLETED", "COMPLETED"], [
            r["state"]["message"] for r in runs
        ]
        # each worker takes one run at a time (--limit 1), so each ran one of them. Both may
        # log "submitting" for the same run (the loser's Pending is refused); only the winner
        # logs that it submitted the run to its infrastructure.
        for _proc, log in workers:
            log.flush()
        ran = [
            (tmp_path / f"worker{i}.log").read_text().count("submitted to infrastructure")
            for i in range(2)
        ]
        assert ran == [1, 1], ran
        for site in ("opw1", "opw2"):
            found = objects(stack, f"sites/{site}/")
            assert any(k.endswith("/manifest.json") for k in found)
            assert f"sites/{site}/state/state.json.gz" in found
            assert any(k.endswith(".warc.gz") for k in found)
    finally:
        for proc, _log in workers:
            proc.send_signal(signal.SIGINT)
        for proc, log in workers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


# ---- notification on failed runs ------------------------------------------------------------


def test_failed_run_automation_calls_the_webhook(
    stack: LocalStack, profiles: Path, tmp_path: Path
) -> None:
    import http.server
    import threading

    received: list[bytes] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"] or 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        env = env_for(stack, tmp_path, profiles)
        url = f"http://127.0.0.1:{hook.server_address[1]}/hook"
        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "flows.orchestrate.automation",
                "--webhook-url",
                url,
                "--allow-private",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        [automation] = api(
            stack,
            "POST",
            "/automations/filter",
            {"automations": {"name": {"any_": ["newsvault-failed-runs"]}}},
        )
        assert automation["enabled"] and automation["actions"][0]["type"] == "call-webhook"
        assert "prefect.flow-run.Failed" in automation["trigger"]["expect"]
        # a run that fails its health check is announced on the webhook
        proc = newsvault("run", "opalert", env=env)
        assert proc.returncode == 1, proc.stderr[-2000:]
        wait_for("the webhook call", lambda: received, timeout=120, every=2)
        body = json.loads(received[0])
        assert "archive-site" in body["text"] and "extraction coverage" in body["text"]
    finally:
        hook.shutdown()
