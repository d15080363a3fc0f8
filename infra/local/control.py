"""The local stack behind ``newsvault up`` / ``down`` / ``env`` / ``status`` / ``replica --detach``.

Real servers run in the background under one home directory (``NEWSVAULT_HOME``, default
``.newsvault/`` in the current directory), all bound to 127.0.0.1 only:

* SeaweedFS (``weed mini``, ``infra.local.seaweed``): S3 on :8333, always with credentials. The
first
  ``up`` generates an access key and secret and writes them to ``HOME/s3.json`` (mode 0600);
  later ``up``s reuse them.
* Prefect server + UI on :4200 (``infra.local.prefect_server``), its database under
``HOME/prefect``.
* Optionally the replica site (``infra.local.replica_service``), started by ``start_replica``.

Layout of HOME::

    s3.json                    SeaweedFS identities (the credentials), mode 0600
    seaweedfs-config/          weed's -config_dir: security.toml with random JWT keys, mode 0600
    seaweedfs/                 SeaweedFS data (kept by ``down``)
    prefect/                   PREFECT_HOME: SQLite database, profiles (kept by ``down``)
    logs/seaweedfs.log         weed's stdout/stderr; logs/seaweedfs/ holds its glog files
    logs/prefect.log           the Prefect server's output
    logs/replica.log           the replica's output
    run/*.pid, run/*.sock      pid files and SeaweedFS local sockets
    tmp/                       TMPDIR of the servers

This module is the facade: ``up``, ``down``, ``status``, ``env_vars``/``env_lines``,
``stack_environment`` and re-exports of everything callers use (configuration and result types
from ``infra.local.stack``, process helpers from ``infra.local.processes``).
"""

from __future__ import annotations

import shlex

from flows.errors import InfraError
from infra.local import prefect_server, processes, replica_service, runs, seaweed, tsa_service
from infra.local.prefect_server import prefect_command
from infra.local.processes import HOST, find_executable, http_status, port_is_free, wait_for_http
from infra.local.replica_service import DEFAULT_REPLICA_PORT, start_replica
from infra.local.runs import registered as run_registered
from infra.local.seaweed import ensure_bucket, s3_store, weed_command
from infra.local.seaweed_secrets import credentials, ensure_credentials, ensure_security_toml
from infra.local.stack import (
    DEFAULT_BUCKET,
    DEFAULT_HOME_DIRNAME,
    DEFAULT_PREFECT_PORT,
    DEFAULT_S3_PORT,
    ENV_BUCKET,
    ENV_HOME,
    ENV_PREFECT_PORT,
    ENV_S3_PORT,
    DownResult,
    LocalStack,
    Ports,
    ServiceName,
    ServiceState,
    StackReport,
    StatusResult,
    UpResult,
)

#: HTTP timeout of ``stack_environment``'s probes: it runs before every flow, so keep it short.
PROBE_TIMEOUT = 1.0


def up(stack: LocalStack, *, prefect: bool = True, s3: bool = True) -> UpResult:
    """Start the stack in the background (idempotent: running servers are left alone)."""
    states: list[ServiceState] = []
    try:
        processes.mkdir_private(stack.home)
        with processes.locked(stack.run_dir):
            if s3:
                states.append(seaweed.start(stack))
                states.append(tsa_service.start(stack))  # the runs' timestamps
            if prefect:
                states.append(prefect_server.start(stack))
    except OSError as exc:
        raise InfraError(
            f"cannot prepare the local stack in {stack.home}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else "")
        ) from exc
    return StackReport(stack.home, tuple(states))


def down(stack: LocalStack) -> DownResult:
    """Stop the runs using the stack (``infra.local.runs``: they keep their spools), then the
    servers named in our pid files (the replica too, when it runs); keep all data.
    Idempotent. The replica and the runs appear in the report only when they were stopped."""
    if not stack.home.exists():
        return StackReport(
            stack.home,
            (
                seaweed.state(stack, None, False, "not running"),
                prefect_server.state(stack, None, False, "not running"),
            ),
        )
    states: list[ServiceState] = runs.stop_runs(stack)  # while S3 and Prefect still answer
    with processes.locked(stack.run_dir):
        pid = seaweed.our_pid(stack)
        if pid is not None:
            processes.stop(pid)
        stack.pid_file("s3").unlink(missing_ok=True)
        states.append(seaweed.state(stack, pid, False, "stopped" if pid else "not running"))
        if pid is not None:
            seaweed.remove_sockets(stack)

        pid = prefect_server.our_pid(stack)
        if pid is not None:
            processes.stop(pid)
        stack.pid_file("prefect").unlink(missing_ok=True)
        states.append(prefect_server.state(stack, pid, False, "stopped" if pid else "not running"))

        pid = replica_service.our_pid(stack)
        if pid is not None:
            port = replica_service.running_port(pid)
            processes.stop(pid)
            states.append(replica_service.state(stack, pid, False, "stopped", port))
        stack.pid_file("replica").unlink(missing_ok=True)
        if (tsa := tsa_service.stop(stack)) is not None:
            states.append(tsa)
    return StackReport(stack.home, tuple(states))


def _action(pid: int | None, answering: bool) -> str:
    if pid is None:
        return "not running"
    return "running" if answering else "starting or not answering"


def status(stack: LocalStack) -> StatusResult:
    """Which servers of this home run and answer, with their URLs (the replica only when it
    runs). Changes nothing but stale pid files."""
    if not stack.run_dir.exists():
        return StackReport(
            stack.home,
            (
                seaweed.state(stack, None, False, "not running"),
                prefect_server.state(stack, None, False, "not running"),
            ),
        )
    pid = seaweed.our_pid(stack)
    answering = pid is not None and seaweed.answering(stack)
    states = [seaweed.state(stack, pid, pid is not None, _action(pid, answering))]

    pid = prefect_server.our_pid(stack)
    answering = pid is not None and prefect_server.answering(stack)
    states.append(prefect_server.state(stack, pid, pid is not None, _action(pid, answering)))

    pid = replica_service.our_pid(stack)
    if pid is not None:
        port = replica_service.running_port(pid)
        answering = port is not None and replica_service.answering(port)
        states.append(replica_service.state(stack, pid, True, _action(pid, answering), port))
    return StackReport(stack.home, tuple(states))


# --------------------------------------------------------------------------------------------
# environment for a shell or a flow


def env_vars(stack: LocalStack) -> dict[str, str]:
    """The variables a shell (or a flow) needs to use the local stack. Contains the secret."""
    access_key, secret_key = credentials(stack)
    return {
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret_key,
        "NEWSVAULT_S3_ENDPOINT": stack.s3_endpoint,
        "NEWSVAULT_S3_BUCKET": stack.bucket,
        "PREFECT_API_URL": stack.prefect_api_url,
        **tsa_service.environment(stack),
    }


def env_lines(stack: LocalStack) -> list[str]:
    """``export NAME=value`` lines, shell-quoted, for ``eval "$(newsvault env)"``."""
    return [f"export {name}={shlex.quote(value)}" for name, value in env_vars(stack).items()]


def stack_environment(stack: LocalStack) -> dict[str, str]:
    """The variables a client needs for the parts of this stack that run right now: the S3
    ones when this home's SeaweedFS runs, answers and has credentials, ``PREFECT_API_URL`` when
    its Prefect server runs and is healthy. Empty when nothing runs; never raises InfraError.
    Fast: short HTTP probes only. Callers ``setdefault`` these, so explicit settings win."""
    env: dict[str, str] = {}
    if not stack.run_dir.is_dir():
        return env
    if seaweed.our_pid(stack) is not None and seaweed.answering(stack, timeout=PROBE_TIMEOUT):
        try:
            access_key, secret_key = credentials(stack)
        except InfraError:
            pass
        else:
            env.update(
                {
                    "AWS_ACCESS_KEY_ID": access_key,
                    "AWS_SECRET_ACCESS_KEY": secret_key,
                    "NEWSVAULT_S3_ENDPOINT": stack.s3_endpoint,
                    "NEWSVAULT_S3_BUCKET": stack.bucket,
                }
            )
    if prefect_server.our_pid(stack) is not None and prefect_server.answering(
        stack, timeout=PROBE_TIMEOUT
    ):
        env["PREFECT_API_URL"] = stack.prefect_api_url
    if tsa_service.our_pid(stack) is not None:
        env.update(tsa_service.environment(stack))
    return env


__all__ = [
    "DEFAULT_BUCKET",
    "DEFAULT_HOME_DIRNAME",
    "DEFAULT_PREFECT_PORT",
    "DEFAULT_REPLICA_PORT",
    "DEFAULT_S3_PORT",
    "ENV_BUCKET",
    "ENV_HOME",
    "ENV_PREFECT_PORT",
    "ENV_S3_PORT",
    "HOST",
    "DownResult",
    "LocalStack",
    "Ports",
    "ServiceName",
    "ServiceState",
    "StackReport",
    "StatusResult",
    "UpResult",
    "credentials",
    "down",
    "ensure_bucket",
    "ensure_credentials",
    "ensure_security_toml",
    "env_lines",
    "env_vars",
    "find_executable",
    "http_status",
    "port_is_free",
    "prefect_command",
    "run_registered",
    "s3_store",
    "stack_environment",
    "start_replica",
    "status",
    "up",
    "wait_for_http",
    "weed_command",
]
