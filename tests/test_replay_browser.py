"""Every capture replays in a browser: two replica runs, the second the default incremental one
(conditional GETs answered 304), then the latest captures opened in headless Chromium through
`newsvault replay serve` (pywb), watching every request the browser makes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from flows.warc.captures import CaptureEntry, read_entries
from infra.local.control import LocalStack
from infra.replica import SEED_PATH
from infra.replica.server import ReplicaServer
from tests.helpers import (
    CHROMIUM_ARGS,
    NEWSVAULT,
    chromium_or_skip,
    cli_env,
    free_port,
    get,
    newsvault,
    objects,
)

pytestmark = pytest.mark.e2e
PREFIX = "replaybrowsertest"
SITE = f"{PREFIX}/sites/replica/runs/"


@dataclass
class Served:
    port: int
    runs: list[str]
    captures: dict[str, list[CaptureEntry]] = field(default_factory=dict)


def _captures(stack: LocalStack, run_id: str, tmp: Path) -> list[CaptureEntry]:
    path = tmp / f"{run_id}.captures.jsonl.gz"
    path.write_bytes(get(stack, f"{SITE}{run_id}/captures.jsonl.gz"))
    return list(read_entries(path))


@pytest.fixture(scope="module")
def served(
    stack: LocalStack, replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("replay-browser")
    env = cli_env(stack, home / "spool", NEWSVAULT_S3_PREFIX=PREFIX, NEWSVAULT_HOME=str(home))
    for _ in range(2):  # the second run is the scheduled one: conditional GETs, 304s
        proc = newsvault("run", "replica", "--base-url", replica.base_url, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = sorted({k.split("/")[4] for k in objects(stack, SITE)})
    assert len(runs) == 2
    port = free_port()
    server = subprocess.Popen(
        [NEWSVAULT, "replay", "serve", "replica", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stderr is not None
    line = server.stdout.readline()
    assert f"http://127.0.0.1:{port}/replica/" in line, line + server.stderr.read()
    served = Served(port, runs, {r: _captures(stack, r, home) for r in runs})
    yield served
    server.terminate()
    server.wait(timeout=30)


@dataclass
class Visit:
    title: str
    text: str
    memento: str
    requests: list[str]


def visit(port: int, url: str) -> Visit:
    """Open the latest capture of ``url`` in pywb (no timestamp: the default view)."""
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_or_skip()), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            response = page.goto(f"http://127.0.0.1:{port}/replica/{url}", wait_until="load")
            assert response is not None and response.status == 200, url
            memento = response.headers.get("memento-datetime", "")
            return Visit(page.title(), page.inner_text("body"), memento, requests)
        finally:
            browser.close()


def test_latest_captures_of_rechecked_and_seed_articles_render(
    served: Served, replica: ReplicaServer
) -> None:
    _run1, run2 = served.runs
    articles = {replica.base_url + a.path: a for a in replica.site.iter_articles()}
    rechecked = [
        e
        for e in served.captures[run2]
        if e.type == "revisit" and e.status == 304 and e.uri in articles
    ]
    assert rechecked, "the scheduled run re-checked no article with a conditional GET"
    seed = replica.base_url + SEED_PATH
    for url in dict.fromkeys([rechecked[0].uri, seed]):
        article = articles[url]
        seen = visit(served.port, url)
        assert article.title in seen.title, (url, seen.title)
        words = " ".join(article.paragraphs[0].split()[:8])
        assert words in " ".join(seen.text.split()), url
        # nothing left the replay server
        outside = [u for u in seen.requests if not u.startswith(f"http://127.0.0.1:{served.port}/")]
        assert outside == []
    # the re-checked article's latest capture is the 304 re-check itself, showing its page
    entry = rechecked[0]
    seen = visit(served.port, entry.uri)
    assert seen.memento and _http_date_to_warc(seen.memento) == entry.date[:19]


def _http_date_to_warc(value: str) -> str:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(value).strftime("%Y-%m-%dT%H:%M:%S")
