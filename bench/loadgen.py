"""A small threaded HTTP load generator, used by the headroom row when ``wrk`` is not installed,
and its warm-up (every path fetched once).

Each connection is a thread with its own keep-alive ``http.client`` connection, cycling through
the given paths with ``Accept-Encoding: gzip, deflate``. It is Python, so it spends CPU of its
own: its numbers are a lower bound of the server's capacity.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit


def warm_up(base_url: str, paths: list[str], connections: int = 4) -> None:
    """Fetch every path once (gzip accepted), so a caching replica holds them all; RuntimeError
    naming the first path that failed."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    failed: list[str] = []

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=60)
        for path in paths[n::connections]:
            try:
                conn.request("GET", path, headers={"Accept-Encoding": "gzip, deflate"})
                conn.getresponse().read()
            except (OSError, http.client.HTTPException) as exc:
                failed.append(f"{path}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failed:
        raise RuntimeError(f"warm-up of {base_url} failed for {len(failed)} paths: {failed[0]}")


def run_load(
    base_url: str, paths: list[str], seconds: float, connections: int
) -> tuple[float, int]:
    """(requests per second, errors) over ``seconds``."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    deadline = time.perf_counter() + seconds
    done = [0] * connections
    errors = [0] * connections
    headers = {"Accept-Encoding": "gzip, deflate"}

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        i = n * 7919
        while time.perf_counter() < deadline:
            i += 1
            try:
                conn.request("GET", paths[i % len(paths)], headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status >= 400:
                    errors[n] += 1
                done[n] += 1
            except (OSError, http.client.HTTPException):
                errors[n] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started), sum(errors)
