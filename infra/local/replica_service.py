"""The replica site (``python -m infra.replica``) as an optional, detached service of the local
stack: ``newsvault replica --detach`` starts it, ``newsvault down`` stops it.

It runs with this interpreter, logs to ``HOME/logs/replica.log`` and has its pid in
``HOME/run/replica.pid``. A pid is "ours" when its command line is ``-m infra.replica`` and it was
started with ``NEWSVAULT_HOME`` set to this stack's home, so a reused pid is never killed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path

from flows.errors import ConfigError, InfraError
from infra.local import processes
from infra.local.processes import HOST
from infra.local.stack import ENV_HOME, LocalStack, ServiceState

log = logging.getLogger(__name__)

DEFAULT_REPLICA_PORT = 8765
REPLICA_START_TIMEOUT = 30.0
_MODULE = "infra.replica"
# the directory holding the ``infra`` package, so the child imports this very code
_IMPORT_ROOT = Path(__file__).resolve().parents[2]


def replica_command(
    port: int, articles: int, seed: int, day: int = 0, admin: bool = False
) -> list[str]:
    """``python -m infra.replica --port P --articles N --seed S --day D [--admin]``."""
    cmd = [sys.executable, "-m", _MODULE, "--port", str(port), "--articles", str(articles)]
    cmd += ["--seed", str(seed), "--day", str(day)]
    return cmd + (["--admin"] if admin else [])


def replica_url(port: int) -> str:
    return f"http://{HOST}:{port}"


def state(
    stack: LocalStack, pid: int | None, running: bool, action: str, port: int | None = None
) -> ServiceState:
    url = replica_url(port) if port is not None else ""
    return ServiceState(
        name="replica",
        title="Replica site",
        url=url,
        running=running,
        pid=pid,
        action=action,
        links={"robots": f"{url}/robots.txt"} if url else {},
    )


def our_pid(stack: LocalStack) -> int | None:
    """The pid of this home's running replica, removing a stale pid file on the way."""

    home = str(stack.home)

    def is_ours(pid: int) -> bool:
        if processes.cmdline(pid)[1:3] != ["-m", _MODULE]:
            return False
        return processes.environ_value(pid, ENV_HOME) == home

    return processes.our_pid(stack.pid_file("replica"), is_ours)


def running_port(pid: int) -> int | None:
    """The ``--port`` the replica process ``pid`` was started with."""
    args = processes.cmdline(pid)
    with contextlib.suppress(ValueError, IndexError):
        return int(args[args.index("--port") + 1])
    return None


def answering(port: int, timeout: float = 2.0) -> bool:
    return processes.http_status(f"{replica_url(port)}/robots.txt", timeout=timeout) == 200


def start_replica(
    stack: LocalStack,
    *,
    port: int = DEFAULT_REPLICA_PORT,
    articles: int = 200,
    seed: int = 1,
    day: int = 0,
    admin: bool = False,
) -> ServiceState:
    """Start the replica in the background on ``127.0.0.1:port`` and wait until it serves
    ``/robots.txt``. Idempotent: if this home's replica already runs on ``port`` it is left
    alone (whatever its ``articles``/``seed``); on another port, InfraError."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"replica port {port} is not a port number (1-65535)")
    if articles < 1:
        raise ConfigError(f"the replica needs at least 1 article, got {articles}")
    try:
        processes.mkdir_private(stack.home)
        with processes.locked(stack.run_dir):
            return _start(stack, port, replica_command(port, articles, seed, day, admin))
    except OSError as exc:
        raise InfraError(
            f"cannot prepare the local stack in {stack.home}: {exc.strerror or exc}"
            + (f" ({exc.filename})" if exc.filename else "")
        ) from exc


def _ok(status: int) -> bool:
    return status == 200


def _start(stack: LocalStack, port: int, command: list[str]) -> ServiceState:
    pid_file = stack.pid_file("replica")
    robots = f"{replica_url(port)}/robots.txt"
    pid = our_pid(stack)
    if pid is not None:
        current = running_port(pid)
        if current != port:
            raise InfraError(
                f"the replica for {stack.home} already runs (pid {pid}) on port {current}; "
                "run `newsvault down` first"
            )
        if processes.wait_for_http(
            robots, REPLICA_START_TIMEOUT, ok=_ok, give_up=lambda: not processes.alive(pid)
        ):
            return state(stack, pid, True, "already running", port)
        raise InfraError(
            f"the replica (pid {pid}) runs but {robots} does not answer; "
            f"run `newsvault down` and retry (log: {stack.replica_log})"
        )

    if not processes.port_is_free(port):
        raise processes.port_taken(port, "stop it or pass --port")
    for d in (stack.logs_dir, stack.run_dir):
        processes.mkdir_private(d)
    env = dict(os.environ)
    env[ENV_HOME] = str(stack.home)  # marks the process as this home's (see our_pid)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_IMPORT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    started = time.monotonic()
    proc = processes.spawn(
        command,
        cwd=stack.home,
        env=env,
        log_path=stack.replica_log,
        label="newsvault replica",
    )
    processes.write_pid(pid_file, proc.pid)
    if not processes.wait_for_http(
        robots, REPLICA_START_TIMEOUT, ok=_ok, give_up=lambda: proc.poll() is not None
    ):
        code = proc.poll()
        processes.abort_start(proc, pid_file)
        if code is not None:
            raise InfraError(
                f"the replica exited during startup (exit code {code}); see {stack.replica_log}"
            )
        raise InfraError(
            f"the replica did not answer {robots} within {REPLICA_START_TIMEOUT:.0f} s; "
            f"see {stack.replica_log}"
        )
    log.info("replica up in %.1f s (pid %d)", time.monotonic() - started, proc.pid)
    return state(stack, proc.pid, True, "started", port)
