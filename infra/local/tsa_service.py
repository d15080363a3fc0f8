"""The local TSA (``infra.local.tsa``) as a service of the stack: ``newsvault up`` starts it,
``down`` stops it. Its CA, certificate and key live in ``HOME/tsa/`` (kept by ``down``, so the
tokens of earlier runs keep verifying); it answers on a free port of 127.0.0.1 written to
``HOME/tsa/port``; ``NEWSVAULT_TSA_URL`` and ``NEWSVAULT_TSA_CA`` point clients at it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from pathlib import Path

from flows.errors import InfraError
from infra.local import processes
from infra.local.processes import HOST
from infra.local.stack import ENV_HOME, LocalStack, ServiceState
from infra.local.tsa import TsaPki, make_pki

START_TIMEOUT = 20.0
_MODULE = "infra.local.tsa"
_IMPORT_ROOT = Path(__file__).resolve().parents[2]


def pki(stack: LocalStack) -> TsaPki:
    return TsaPki(stack.home / "tsa")


def _port_file(stack: LocalStack) -> Path:
    return pki(stack).home / "port"


def port(stack: LocalStack) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(_port_file(stack).read_text().strip())
    return None


def url(port: int) -> str:
    return f"http://{HOST}:{port}/"


def state(stack: LocalStack, pid: int | None, running: bool, action: str) -> ServiceState:
    found = port(stack)
    return ServiceState(
        name="tsa",
        title="Time-stamping authority (RFC 3161)",
        url=url(found) if found and running else "",
        running=running,
        pid=pid,
        action=action,
        links={"CA certificate": str(pki(stack).ca)} if running else {},
    )


def our_pid(stack: LocalStack) -> int | None:
    home = str(stack.home)

    def is_ours(pid: int) -> bool:
        if processes.cmdline(pid)[1:3] != ["-m", _MODULE]:
            return False
        return processes.environ_value(pid, ENV_HOME) == home

    return processes.our_pid(stack.pid_file("tsa"), is_ours)


def answering(stack: LocalStack, timeout: float = 2.0) -> bool:
    found = port(stack)
    return found is not None and processes.http_status(url(found), timeout=timeout) == 200


def environment(stack: LocalStack) -> dict[str, str]:
    """``NEWSVAULT_TSA_URL`` and ``NEWSVAULT_TSA_CA`` of this home's TSA (empty if none)."""
    found = port(stack)
    if found is None or not pki(stack).ca.is_file():
        return {}
    return {"NEWSVAULT_TSA_URL": url(found), "NEWSVAULT_TSA_CA": str(pki(stack).ca)}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start(stack: LocalStack) -> ServiceState:
    """Start the TSA unless this home's already answers (caller holds the stack's lock)."""
    pid = our_pid(stack)
    if pid is not None and answering(stack):
        return state(stack, pid, True, "already running")
    if pid is not None:
        processes.stop(pid)
    make_pki(pki(stack).home)
    chosen = _free_port()
    _port_file(stack).write_text(f"{chosen}\n")
    env = dict(os.environ)
    env[ENV_HOME] = str(stack.home)  # marks the process as this home's (see our_pid)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(_IMPORT_ROOT), env.get("PYTHONPATH", "")) if p
    )
    command = [sys.executable, "-m", _MODULE, str(pki(stack).home), str(chosen)]
    log_path = stack.logs_dir / "tsa.log"
    proc = processes.spawn(
        command, cwd=stack.home, env=env, log_path=log_path, label="newsvault tsa"
    )
    processes.write_pid(stack.pid_file("tsa"), proc.pid)
    if not processes.wait_for_http(
        url(chosen), START_TIMEOUT, ok=lambda s: s == 200, give_up=lambda: proc.poll() is not None
    ):
        processes.abort_start(proc, stack.pid_file("tsa"))
        raise InfraError(f"the local TSA did not answer {url(chosen)}; see {log_path}")
    return state(stack, proc.pid, True, "started")


def stop(stack: LocalStack) -> ServiceState | None:
    """Stop this home's TSA; its state when it ran, else None."""
    pid = our_pid(stack)
    if pid is not None:
        processes.stop(pid)
    stack.pid_file("tsa").unlink(missing_ok=True)
    return state(stack, pid, False, "stopped") if pid is not None else None
