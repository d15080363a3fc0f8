"""A small threaded HTTP load generator, used by the headroom row when ``wrk`` is not installed.

Each connection is a thread with its own keep-alive ``http.client`` connection, cycling through
the given paths with ``Accept-Encoding: gzip, deflate``. It is Python, so it spends CPU of its
own: its numbers are a lower bound of the server's capacity.
"""

from __future__ import annotations

import http.client
import threading
import time
from urllib.parse import urlsplit


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
