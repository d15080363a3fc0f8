"""Background servers on 127.0.0.1: spawn detached with a log file, pid files, "is this pid still
ours" checks through /proc, SIGTERM-then-SIGKILL stops, a lock file, and small HTTP/port probes.

Nothing here knows about a particular server; ``seaweed``, ``prefect_server`` and
``replica_service`` build on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from flows.errors import InfraError

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
STOP_TIMEOUT = 20.0
KILL_TIMEOUT = 5.0

# Popen objects of servers started by this process, so we can reap them (no zombies, no
# "subprocess still running" warnings) when the same process calls ``down``.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


# --------------------------------------------------------------------------------------------
# ports and HTTP probes


def port_is_free(port: int, host: str = HOST) -> bool:
    """True if nothing listens on ``host:port`` (we could bind it right now)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: TIME_WAIT leftovers do not count as "taken" (the servers set it too),
        # a listening socket still does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_taken(port: int, hint: str, what: str = "") -> InfraError:
    """The one-line error for a port someone else listens on; ``hint`` says what to do."""
    which = f" ({what})" if what else ""
    return InfraError(f"port {port} on {HOST}{which} is taken by another process; {hint}")


_NO_PROXY_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status ``url`` answers with (any status, 403 included), or None if nothing
    answers. Never goes through a proxy."""
    try:
        with _NO_PROXY_OPENER.open(url, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_for_http(
    url: str,
    timeout: float,
    *,
    ok: Callable[[int], bool] | None = None,
    interval: float = 0.2,
    give_up: Callable[[], bool] | None = None,
) -> bool:
    """Poll ``url`` until it answers with a status accepted by ``ok`` (default: any HTTP
    answer). False on timeout, or as soon as ``give_up()`` is true (e.g. the server died)."""
    deadline = time.monotonic() + timeout
    while True:
        status = http_status(url, timeout=min(2.0, max(0.1, deadline - time.monotonic())))
        if status is not None and (ok is None or ok(status)):
            return True
        if give_up is not None and give_up():
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(interval, remaining))


def poll(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    """Call ``condition`` until it is true (True) or ``timeout`` seconds passed (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True


# --------------------------------------------------------------------------------------------
# files


def mkdir_private(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


@contextlib.contextmanager
def locked(run_dir: Path) -> Iterator[None]:
    """Serialise starts and stops on one home directory (``run_dir/lock``)."""
    mkdir_private(run_dir)
    with open(run_dir / "lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    first = text.split("\n", 1)[0].strip()
    return int(first) if first.isdigit() and int(first) > 0 else None


def pid_namespace() -> str:
    """This process's boot and pid namespace: a pid means the same process only within it."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        return f"{boot}/{os.stat('/proc/self/ns/pid').st_ino}"
    except (OSError, UnicodeDecodeError):
        return ""


def written_here(path: Path) -> bool:
    """True when the pid file was written in our pid namespace (or by an older version that did
    not say): only then can "that pid is gone" be judged from here."""
    try:
        lines = path.read_text(encoding="ascii").split("\n")
    except (OSError, UnicodeDecodeError):
        return True
    namespace = lines[1].strip() if len(lines) > 1 else ""
    return not namespace or namespace == pid_namespace()


def write_pid(path: Path, pid: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"{pid}\n{pid_namespace()}\n", encoding="ascii")
    os.replace(tmp, path)


def find_executable(name: str) -> Path | None:
    """``name`` next to the running interpreter (the venv's bin/), else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    return Path(found) if found else None


# --------------------------------------------------------------------------------------------
# /proc


def _reap(pid: int) -> None:
    proc = _CHILDREN.get(pid)
    if proc is not None:
        if proc.poll() is not None:
            _CHILDREN.pop(pid, None)
        return
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    _reap(pid)
    try:
        stat_text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    state = stat_text.rpartition(")")[2].split()[:1]
    return state not in (["Z"], ["X"])


def cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [os.fsdecode(part) for part in raw.split(b"\0") if part]


def environ_value(pid: int, name: str) -> str | None:
    """``name`` in the environment ``pid`` was started with (None if unset or unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return None
    prefix = os.fsencode(name) + b"="
    for entry in raw.split(b"\0"):
        if entry.startswith(prefix):
            return os.fsdecode(entry[len(prefix) :])
    return None


def our_pid(pid_file: Path, is_ours: Callable[[int], bool]) -> int | None:
    """The pid in ``pid_file`` if that process runs and ``is_ours(pid)``; a stale pid file
    (gone, garbage, or a pid reused by an unrelated process) is removed on the way."""
    pid = read_pid(pid_file)
    if pid is None:
        if pid_file.exists():
            pid_file.unlink(missing_ok=True)
        return None
    if alive(pid) and is_ours(pid):
        return pid
    if not written_here(pid_file):  # another container's stack: its pid is not ours to judge
        return None
    log.info("removing stale pid file %s (pid %s is gone or not ours)", pid_file, pid)
    pid_file.unlink(missing_ok=True)
    return None


# --------------------------------------------------------------------------------------------
# start and stop


def spawn(
    args: list[str], *, cwd: Path, env: dict[str, str], log_path: Path, label: str = "newsvault up"
) -> subprocess.Popen[bytes]:
    """Start ``args`` in its own session, stdin closed, stdout+stderr appended to ``log_path``."""
    mkdir_private(log_path.parent)
    with open(log_path, "ab") as out:
        header = f"\n--- {label}: {time.strftime('%Y-%m-%dT%H:%M:%S%z')} ---\n"
        out.write(header.encode())
        out.flush()
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[proc.pid] = proc
    return proc


def abort_start(proc: subprocess.Popen[bytes], pid_file: Path) -> None:
    """Undo a failed ``spawn``: stop the process if it still runs, reap it, drop its pid file."""
    if proc.poll() is None:
        stop_pid(proc.pid, timeout=10.0)
    _CHILDREN.pop(proc.pid, None)
    with contextlib.suppress(Exception):
        proc.wait(timeout=1.0)
    pid_file.unlink(missing_ok=True)


def stop_pid(pid: int, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group led by ``pid`` (or just ``pid``), then SIGKILL after a timeout."""
    try:
        group = os.getpgid(pid) == pid
    except ProcessLookupError:
        return

    def send(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)

    def gone() -> bool:
        if alive(pid):
            return False
        if not group:
            return True
        try:
            os.killpg(pid, 0)
        except (ProcessLookupError, PermissionError):
            return True
        return False  # children of the group still alive (or zombies not yet reaped by init)

    send(signal.SIGTERM)
    if poll(gone, timeout):
        return
    log.warning("pid %d did not stop within %.0f s; sending SIGKILL", pid, timeout)
    send(signal.SIGKILL)
    if not poll(gone, KILL_TIMEOUT):
        raise InfraError(f"process {pid} survived SIGKILL; stop it by hand")


def stop(pid: int) -> None:
    """``stop_pid`` and forget the Popen object if this process started it."""
    stop_pid(pid)
    _CHILDREN.pop(pid, None)
