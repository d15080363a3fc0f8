"""Every capture replays in a browser, with its requisites and nothing from outside: three runs
of a replica (the later two the default incremental ones: conditional GETs answered 304; the last
on the theme update's day), then captures opened in headless Chromium through `newsvault replay
serve` (pywb), watching every request the browser makes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import sync_playwright

from flows.warc.captures import CaptureEntry, read_entries
from infra.local.control import LocalStack
from infra.replica import SEED_PATH, THEME_UPDATE_DAY
from infra.replica.assets import THEME_VERSION, UPDATED_STYLE_VERSION
from infra.replica.server import ReplicaServer
from tests.helpers import (
    CHROMIUM_ARGS,
    chromium_or_skip,
    cli_env,
    get,
    newsvault,
    objects,
    replay_serve,
    requisites,
)

pytestmark = pytest.mark.e2e
PREFIX = "replaybrowsertest"
SITE = f"{PREFIX}/sites/replica/runs/"
ARTICLES = 30


@dataclass
class Served:
    port: int
    home: Path
    replica: ReplicaServer
    runs: list[str]
    captures: dict[str, list[CaptureEntry]] = field(default_factory=dict)

    def index_lines(self) -> list[dict[str, object]]:
        """The mirror's index lines (what pywb reads), as dicts with their time."""
        out: list[dict[str, object]] = []
        for path in sorted((self.home / "replay" / "replica" / "indexes").glob("*.cdxj")):
            for line in path.read_text().splitlines():
                _key, ts, rest = line.split(" ", 2)
                out.append({"ts": ts, **json.loads(rest)})
        return out


def _captures(stack: LocalStack, run_id: str, tmp: Path) -> list[CaptureEntry]:
    path = tmp / f"{run_id}.captures.jsonl.gz"
    path.write_bytes(get(stack, f"{SITE}{run_id}/captures.jsonl.gz"))
    return list(read_entries(path))


@pytest.fixture(scope="module")
def served(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Three runs of a replica of its own: day 0; day 0 again, the scheduled way (conditional
    GETs answered 304); the theme update's day, scheduled too. Then `newsvault replay serve`."""
    home = tmp_path_factory.mktemp("replay-browser")
    env = cli_env(stack, home / "spool", NEWSVAULT_S3_PREFIX=PREFIX, NEWSVAULT_HOME=str(home))
    with ReplicaServer(articles=ARTICLES, seed=1) as replica:
        for day in (0, 0, THEME_UPDATE_DAY):
            replica.set_day(day)
            proc = newsvault("run", "replica", "--base-url", replica.base_url, env=env)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        runs = sorted({k.split("/")[4] for k in objects(stack, SITE)})
        assert len(runs) == 3
        with replay_serve(env) as (port, _server):
            yield Served(port, home, replica, runs, {r: _captures(stack, r, home) for r in runs})


@dataclass
class Visit:
    url: str  # the page's final URL (pywb redirects a time it has no capture for)
    title: str
    text: str
    memento: str
    header_background: str  # a rule of the theme's stylesheet, computed
    featured_width: int  # natural width of the featured image (0: not loaded or none)
    probe: str  # the border-bottom width of the element a test asked about
    requests: list[str]
    failed: list[str]  # replayed URLs that answered 4xx/5xx


def visit(port: int, url: str, timestamp: str = "", probe: str = "") -> Visit:
    """Open a capture of ``url`` in pywb (no timestamp: the latest, the default view)."""
    requests: list[str] = []
    failed: list[str] = []
    where = f"http://127.0.0.1:{port}/replica/{timestamp + '/' if timestamp else ''}{url}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_or_skip()), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
            response = page.goto(where, wait_until="load")
            assert response is not None and response.status == 200, url
            page.wait_for_load_state("networkidle")
            background = page.eval_on_selector(
                ".td-header-top-menu-full", "e => getComputedStyle(e).backgroundColor"
            )
            featured = page.query_selector(".td-post-featured-image img")
            width = featured.evaluate("e => e.naturalWidth") if featured is not None else 0
            measured = (
                page.eval_on_selector(probe, "e => getComputedStyle(e).borderBottomWidth")
                if probe
                else ""
            )
            return Visit(
                page.url,
                page.title(),
                page.inner_text("body"),
                response.headers.get("memento-datetime", ""),
                str(background),
                int(width),
                str(measured),
                requests,
                failed,
            )
        finally:
            browser.close()


def _in_scope_failures(seen: Visit, replica: ReplicaServer) -> list[str]:
    hosts = (urlsplit(replica.base_url).netloc, urlsplit(replica.cdn_url or "").netloc)
    return [u for u in seen.failed if any(f"/http://{h}/" in u for h in hosts)]


def test_latest_captures_of_rechecked_and_seed_articles_render(served: Served) -> None:
    replica, last = served.replica, served.runs[-1]
    articles = {replica.base_url + a.path: a for a in replica.site.iter_articles()}
    rechecked = [
        e
        for e in served.captures[last]
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
        assert seen.header_background == "rgb(0, 0, 0)"  # the theme's style.css applied
        assert seen.featured_width > 0
        # nothing left the replay server, and every requisite of the site replayed
        outside = [u for u in seen.requests if not u.startswith(f"http://127.0.0.1:{served.port}/")]
        assert outside == []
        assert _in_scope_failures(seen, replica) == []


def test_a_304_recheck_is_listed_and_replays_at_its_own_time(served: Served) -> None:
    replica = served.replica
    entry = next(
        e for e in served.captures[served.runs[1]] if e.type == "revisit" and e.status == 304
    )
    ts = timestamp(entry.date)
    timemap = httpx.get(
        f"http://127.0.0.1:{served.port}/replica/timemap/link/{entry.uri}", timeout=30
    )
    assert ts in timemap.text
    seen = visit(served.port, entry.uri, ts)
    assert f"/replica/{ts}/" in seen.url  # served at the re-check's time, not redirected
    assert entry.uri.startswith(replica.base_url) and seen.text.strip()
    # pywb dates the response by the record it loaded: the capture the 304 confirmed
    assert seen.memento


def test_every_in_scope_requisite_is_archived_once_per_version(served: Served) -> None:
    """Listed from the pages' HTML and CSS by tests.helpers (not the spider's code); the
    theme update's stylesheet is archived once, by the run that first saw it."""
    lines = served.index_lines()
    archived = {str(d["url"]) for d in lines if str(d.get("status")) in ("200", "304")}
    for path in ("/", SEED_PATH):
        found = requisites(served.replica, path)
        missing = sorted(set(found.served) - archived)
        assert missing == [], path
    style = "/wp-content/themes/Newspaper/style.css?ver="
    full = Counter(
        str(d["url"]).split("?ver=")[1]
        for d in lines
        if style in str(d["url"]) and d.get("mime") != "warc/revisit"
    )
    assert full == {THEME_VERSION: 1, UPDATED_STYLE_VERSION: 1}


def test_pages_before_and_after_the_theme_update_replay_with_their_own_stylesheet(
    served: Served,
) -> None:
    home = served.replica.base_url + "/"
    times = [
        timestamp(e.date)
        for run in (served.runs[0], served.runs[-1])
        for e in served.captures[run]
        if e.uri == home and e.status == 200
    ]
    assert len(times) == 2
    before, after = (visit(served.port, home, ts, ".td-header-menu-wrap-full") for ts in times)
    assert any(f"ver={THEME_VERSION}" in u for u in before.requests)
    assert any(f"ver={UPDATED_STYLE_VERSION}" in u for u in after.requests)
    assert (before.probe, after.probe) == ("0px", "4px")  # the update's rule under the menu
    assert before.header_background == after.header_background == "rgb(0, 0, 0)"


def timestamp(warc_date: str) -> str:
    return "".join(c for c in warc_date[:19] if c.isdigit())
