"""The Prefect server (API + UI) of the local stack: command line, start, recognise, probe.

Its database and profiles live under ``HOME/prefect`` (``PREFECT_HOME``), its output goes to
``HOME/logs/prefect.log``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from flows.errors import InfraError
from infra.local import processes
from infra.local.processes import HOST, port_is_free, wait_for_http
from infra.local.stack import ENV_PREFECT_PORT, LocalStack, ServiceState

log = logging.getLogger(__name__)

PREFECT_START_TIMEOUT = 90.0


def prefect_command(stack: LocalStack) -> list[str]:
    """The ``prefect server start`` command line, using this interpreter's Prefect."""
    exe = Path(sys.executable).parent / "prefect"
    base = [str(exe)] if exe.is_file() else [sys.executable, "-m", "prefect"]
    return [*base, "server", "start", "--host", HOST, "--port", str(stack.prefect_port)]


def health_url(stack: LocalStack) -> str:
    return f"{stack.prefect_api_url}/health"


def state(stack: LocalStack, pid: int | None, running: bool, action: str) -> ServiceState:
    return ServiceState(
        name="prefect",
        title="Prefect server",
        url=stack.prefect_url,
        running=running,
        pid=pid,
        action=action,
        links={"api": stack.prefect_api_url},
    )


def our_pid(stack: LocalStack) -> int | None:
    """The pid of this home's running Prefect server, removing a stale pid file on the way."""

    def is_ours(pid: int) -> bool:
        args = processes.cmdline(pid)
        return (
            any("prefect" in os.path.basename(a) for a in args[:3])
            and "server" in args
            and "start" in args
            and processes.environ_value(pid, "PREFECT_HOME") == str(stack.prefect_home)
        )

    return processes.our_pid(stack.pid_file("prefect"), is_ours)


def _healthy(status: int) -> bool:
    return status == 200


def answering(stack: LocalStack, timeout: float = 2.0) -> bool:
    """The API's health endpoint answers 200."""
    return processes.http_status(health_url(stack), timeout=timeout) == 200


def start(stack: LocalStack) -> ServiceState:
    """Start the Prefect server (or find it running) and wait for its health endpoint. Call
    under ``processes.locked(stack.run_dir)``."""
    pid_file = stack.pid_file("prefect")
    health = health_url(stack)
    pid = our_pid(stack)
    if pid is not None:
        if str(stack.prefect_port) not in processes.cmdline(pid):
            raise InfraError(
                f"the Prefect server for {stack.home} already runs (pid {pid}) on another port; "
                "run `newsvault down` first"
            )
        if wait_for_http(
            health,
            PREFECT_START_TIMEOUT,
            ok=_healthy,
            give_up=lambda: not processes.alive(pid),
        ):
            return state(stack, pid, True, "already running")
        raise InfraError(
            f"the Prefect server (pid {pid}) runs but {health} does not answer; "
            f"run `newsvault down` and retry (log: {stack.prefect_log})"
        )

    if not port_is_free(stack.prefect_port):
        raise processes.port_taken(
            stack.prefect_port, f"stop it or set {ENV_PREFECT_PORT} to a free port"
        )
    for d in (stack.prefect_home, stack.logs_dir, stack.run_dir, stack.tmp_dir):
        processes.mkdir_private(d)
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": str(stack.prefect_home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "PREFECT_UI_ENABLED": "true",
            # the UI calls the API it was served from, not the default port's server
            "PREFECT_UI_API_URL": stack.prefect_api_url,
            "TMPDIR": str(stack.tmp_dir),
        }
    )
    env.pop("PREFECT_API_URL", None)  # the server is the API; a stale client URL only confuses
    started = time.monotonic()
    proc = processes.spawn(
        prefect_command(stack), cwd=stack.prefect_home, env=env, log_path=stack.prefect_log
    )
    processes.write_pid(pid_file, proc.pid)
    if not wait_for_http(
        health,
        PREFECT_START_TIMEOUT,
        ok=_healthy,
        interval=0.5,
        give_up=lambda: proc.poll() is not None,
    ):
        code = proc.poll()
        processes.abort_start(proc, pid_file)
        if code is not None:
            raise InfraError(
                f"the Prefect server exited during startup (exit code {code}); "
                f"see {stack.prefect_log}"
            )
        raise InfraError(
            f"the Prefect server did not answer {health} within {PREFECT_START_TIMEOUT:.0f} s; "
            f"see {stack.prefect_log}"
        )
    log.info("Prefect server up in %.1f s (pid %d)", time.monotonic() - started, proc.pid)
    return state(stack, proc.pid, True, "started")
