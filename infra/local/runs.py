"""The archive runs of a local stack, so that ``down`` stops them before their servers.

A run that uses the stack (``newsvault run``) registers itself in ``HOME/run/runs/PID.pid``
(pid, pid namespace, start time) while it lives. ``down`` sends each registered run SIGTERM
first and waits for it: the run stops its crawl, keeps its spool, releases its lock and says so
in one line while S3 and Prefect still answer; only then are the servers stopped. Without this
a run would find its servers gone mid-upload and retry against nothing for minutes. A file
written in another pid namespace, or naming a pid that is now another process, is never
signalled (the start time tells them apart).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

from infra.local import processes
from infra.local.stack import LocalStack, ServiceState

log = logging.getLogger(__name__)

#: How long ``down`` waits for its runs (a run stops within seconds; then SIGKILL).
RUN_STOP_TIMEOUT = 45.0


def runs_dir(stack: LocalStack) -> Path:
    return stack.run_dir / "runs"


def _started(pid: int) -> str:
    """The process's start time in clock ticks since boot ("" if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        return stat[stat.rindex(")") + 2 :].split()[19]
    except (OSError, ValueError, IndexError):
        return ""


@contextlib.contextmanager
def registered(stack: LocalStack) -> Iterator[None]:
    """Register this process as a run of ``stack`` (when the stack has been set up here)."""
    if not stack.run_dir.is_dir():
        yield
        return
    pid = os.getpid()
    processes.mkdir_private(runs_dir(stack))
    path = runs_dir(stack) / f"{pid}.pid"
    path.write_text(f"{pid}\n{processes.pid_namespace()}\n{_started(pid)}\n", encoding="ascii")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _live_run(path: Path) -> int | None:
    """The pid a run file names if that very process still runs here; stale files removed."""
    if not processes.written_here(path):
        return None  # another container's run: not ours to judge or signal
    pid = processes.read_pid(path)
    try:
        started = path.read_text(encoding="ascii").split("\n")[2].strip()
    except (OSError, UnicodeDecodeError, IndexError):
        started = ""
    if pid is not None and processes.alive(pid) and started and _started(pid) == started:
        return pid
    path.unlink(missing_ok=True)
    return None


def stop_runs(stack: LocalStack, timeout: float = RUN_STOP_TIMEOUT) -> list[ServiceState]:
    """SIGTERM every live registered run, wait for them (SIGKILL after ``timeout``)."""
    directory = runs_dir(stack)
    if not directory.is_dir():
        return []
    pids = [pid for path in sorted(directory.glob("*.pid")) if (pid := _live_run(path))]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    if not processes.poll(lambda: not any(processes.alive(p) for p in pids), timeout):
        for pid in (p for p in pids if processes.alive(p)):
            log.warning("run pid %d did not stop within %.0f s; sending SIGKILL", pid, timeout)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    for pid in pids:
        (directory / f"{pid}.pid").unlink(missing_ok=True)
    return [
        ServiceState(
            name="run",
            title=f"Archive run (pid {pid})",
            url="",
            running=False,
            pid=pid,
            action="stopped; its spool is kept, the next run recovers it",
        )
        for pid in pids
    ]
