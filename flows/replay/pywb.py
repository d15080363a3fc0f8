"""Replay in pywb: a generated config over a verified local mirror, pywb in its own virtualenv.

pywb pins an old redis that conflicts with Prefect, so it runs from ``.venv-pywb`` as a child
process bound to 127.0.0.1 only. Its one collection is named after the site and reads every
mirrored run's WARC files and CDXJ indexes (pywb merges the per-run indexes at query time, so a
revisit in one run resolves to the payload of another).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from flows.errors import ConfigError, InfraError

READY_TIMEOUT = 60.0


def pywb_bin() -> Path:
    """``wayback`` from the pywb virtualenv (``NEWSVAULT_PYWB_VENV``, default ``.venv-pywb``)."""
    default = Path(__file__).resolve().parents[2] / ".venv-pywb"
    venv = Path(os.environ.get("NEWSVAULT_PYWB_VENV", str(default)))
    wayback = venv / "bin" / "wayback"
    if not wayback.is_file():
        raise InfraError(f"pywb is not installed at {venv}: run `make install` to build it")
    return wayback


def write_config(directory: Path, collection: str, archive_dir: Path, index_dir: Path) -> Path:
    """pywb's config.yaml for one collection (JSON is valid YAML); returns its path."""
    config = {
        "collections_root": str(directory / "no-auto-collections"),
        "collections": {
            collection: {
                "archive_paths": str(archive_dir.resolve()) + "/",
                "index_paths": str(index_dir.resolve()) + "/",
            }
        },
        "framed_replay": False,
        "enable_memento": True,
    }
    path = directory / "config.yaml"
    path.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    return path


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310 - our own 127.0.0.1
            return int(reply.status) < 500
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


@contextmanager
def running_pywb(
    directory: Path, collection: str, port: int, *, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start pywb in ``directory`` (which holds config.yaml), wait until it answers, stop it."""
    if not 0 < port < 65536:
        raise ConfigError(f"port {port} is not a valid TCP port")
    log_file = open(log or directory / "pywb.log", "ab")
    proc = subprocess.Popen(
        [str(pywb_bin()), "--bind", "127.0.0.1", "--port", str(port), "--threads", "8"],
        cwd=directory,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT
        while not _answers(f"http://127.0.0.1:{port}/{collection}/"):
            if proc.poll() is not None:
                raise InfraError(
                    f"pywb exited with code {proc.returncode} before it answered on port "
                    f"{port} (port taken?); see {log_file.name}"
                )
            if time.monotonic() > deadline:
                raise InfraError(f"pywb did not answer on port {port} in time; see {log_file.name}")
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log_file.close()


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def serve_forever(directory: Path, collection: str, port: int, first_url: str) -> int:
    """Run pywb in the foreground until Ctrl-C or SIGTERM; stops pywb cleanly either way."""
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    try:
        with running_pywb(directory, collection, port) as proc:
            print(f"replay of {collection}: open {first_url}", flush=True)
            print("pywb runs until Ctrl-C", file=sys.stderr, flush=True)
            try:
                code = proc.wait()
            except (KeyboardInterrupt, _Stop):
                return 0
            raise InfraError(f"pywb stopped by itself with code {code}")
    except (KeyboardInterrupt, _Stop):
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
