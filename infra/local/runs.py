"""The archive runs of a local stack, so that ``down`` stops them before their servers.

A run that uses the stack (``newsvault run``, or the process Prefect spawns for each run
``newsvault serve`` starts) registers itself in ``HOME/run/runs/PID.pid`` (pid, pid namespace,
start time, kind) while it lives. ``down`` sends each registered run SIGTERM first and waits for
it: the run stops its crawl, keeps its spool, releases its lock and says so in one line while S3
and Prefect still answer. Then each ``serve`` (kind ``serve``: it would poll stopped servers and
start no run); only then are the servers stopped. Without this a run would find its servers
gone mid-upload and retry against nothing for minutes. A file written in another pid namespace,
or naming a pid that is now another process, is never signalled (the start time tells them
apart).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from infra.local import processes
from infra.local.stack import LocalStack, ServiceState

log = logging.getLogger(__name__)

#: How long ``down`` waits for its runs (a run stops within seconds; then SIGKILL).
RUN_STOP_TIMEOUT = 45.0
Kind = Literal["run", "serve"]  # of registered processes
RUN: Kind = "run"
SERVE: Kind = "serve"
_TITLES: dict[Kind, tuple[str, str]] = {
    RUN: ("Archive run", "stopped; its spool is kept, the next run recovers it"),
    SERVE: ("Scheduled runs (`newsvault serve`)", "stopped; its schedules stay active"),
}


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
def registered(stack: LocalStack, kind: Kind = RUN) -> Iterator[None]:
    """Register this process as a run (or a ``serve``) of ``stack`` (when the stack has been
    set up here)."""
    if not stack.run_dir.is_dir():
        yield
        return
    pid = os.getpid()
    processes.mkdir_private(runs_dir(stack))
    path = runs_dir(stack) / f"{pid}.pid"
    identity = f"{pid}\n{processes.pid_namespace()}\n{_started(pid)}\n{kind}\n"
    path.write_text(identity, encoding="ascii")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def _live_run(path: Path) -> tuple[int, Kind] | None:
    """The pid and kind a run file names if that very process still runs here; stale files
    removed."""
    if not processes.written_here(path):
        return None  # another container's run: not ours to judge or signal
    pid = processes.read_pid(path)
    try:
        lines = path.read_text(encoding="ascii").split("\n")
        started = lines[2].strip()
    except (OSError, UnicodeDecodeError, IndexError):
        started, lines = "", []
    kind: Kind = SERVE if len(lines) > 3 and lines[3].strip() == SERVE else RUN
    if pid is not None and processes.alive(pid) and started and _started(pid) == started:
        return pid, kind
    path.unlink(missing_ok=True)
    return None


def stop_runs(stack: LocalStack, timeout: float = RUN_STOP_TIMEOUT) -> list[ServiceState]:
    """SIGTERM every live registered run and wait for them (SIGKILL after ``timeout``), then
    every registered ``serve`` the same way."""
    directory = runs_dir(stack)
    if not directory.is_dir():
        return []
    live = [found for path in sorted(directory.glob("*.pid")) if (found := _live_run(path))]
    states: list[ServiceState] = []
    for kind in (RUN, SERVE):  # runs first: a `serve` stopping would cancel its own
        pids = [pid for pid, of in live if of == kind]
        _stop(pids, timeout)
        title, action = _TITLES[kind]
        for pid in pids:
            (directory / f"{pid}.pid").unlink(missing_ok=True)
            states.append(
                ServiceState(
                    name=kind,
                    title=f"{title} (pid {pid})",
                    url="",
                    running=False,
                    pid=pid,
                    action=action,
                )
            )
    return states


def _stop(pids: list[int], timeout: float) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    if not processes.poll(lambda: not any(processes.alive(p) for p in pids), timeout):
        for pid in (p for p in pids if processes.alive(p)):
            log.warning("pid %d did not stop within %.0f s; sending SIGKILL", pid, timeout)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
