"""Replay QA on the real stack: `newsvault run` with the profile's [qa] on (SeaweedFS, Prefect,
the replica over HTTP, pywb over the run's mirror, Debian's chromium), read back from the run's
Prefect artifacts as a user sees them; then a replica that keeps its stylesheet from the crawler
(a 404 to the crawler's User-Agent, the real file to browsers): replay loses the theme, the
scores fall and the health check fails the run naming the pages; and `newsvault qa`."""

from __future__ import annotations

import base64
import io
import json
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import sync_playwright

from flows.qa.report import THUMB_WIDTH
from infra.local.control import LocalStack
from infra.replica import Behaviour, ReplicaServer, Request
from infra.replica.response import Response
from tests.helpers import (
    CHROMIUM_ARGS,
    REPO,
    chromium_or_skip,
    cli_env,
    newsvault,
    objects,
    one_error_line,
    prefect_api,
    run_report,
)

pytestmark = pytest.mark.e2e
SAMPLE = 20


def profiles(directory: Path, *, qa: bool, sample: int = SAMPLE) -> Path:
    """The shipped replica profile with [qa] on or off."""
    directory.mkdir(parents=True, exist_ok=True)
    text = (REPO / "spiders" / "profiles" / "replica.toml").read_text()
    text += f"\n[qa]\nenabled = {'true' if qa else 'false'}\nsample = {sample}\n"
    (directory / "replica.toml").write_text(text)
    return directory


def qa_env(
    stack: LocalStack, home: Path, prefix: str, *, qa: bool, sample: int = SAMPLE, **extra: str
) -> dict[str, str]:
    """A `newsvault` environment of its own: S3 prefix, home, the replica profile with [qa]."""
    return cli_env(
        stack,
        home / "spool",
        NEWSVAULT_S3_PREFIX=prefix,
        NEWSVAULT_HOME=str(home),
        NEWSVAULT_PROFILES=str(profiles(home / f"profiles-{qa}", qa=qa, sample=sample)),
        **extra,
    )


def artifact(stack: LocalStack, key: str, run_id: str) -> tuple[str, Any]:
    """The id and data of the latest artifact ``key`` whose description names ``run_id``."""
    found = prefect_api(
        stack,
        "POST",
        "/artifacts/filter",
        {"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC"},
    )
    mine = [a for a in found if run_id in (a.get("description") or "")]
    assert mine, f"no artifact {key} for run {run_id}"
    data = mine[0]["data"]
    table = isinstance(data, str) and key.endswith("-qa")  # a table artifact's rows, as JSON
    return str(mine[0]["id"]), json.loads(data) if table else data


def runs(stack: LocalStack, prefix: str) -> list[str]:
    return sorted({k.split("/")[4] for k in objects(stack, f"{prefix}/sites/replica/runs/")})


@dataclass
class Measured:
    base_url: str
    home: Path
    run_id: str
    rows: list[dict[str, Any]]
    report: str
    pictures: str
    artifact_ids: tuple[str, str]  # the table's, the pictures'

    def scores(self, name: str) -> list[float]:
        return [float(r[name]) for r in self.rows if r[name] != "n/a"]


@pytest.fixture(scope="module")
def scheduled(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Measured]:
    """Day 0 archived with QA off, then the scheduled incremental run (conditional GETs
    answered 304) with QA on over 20 pages."""
    chromium_or_skip()
    home = tmp_path_factory.mktemp("qa")
    with ReplicaServer(articles=40, seed=1) as replica:
        for qa in (False, True):
            env = qa_env(stack, home, "qatest", qa=qa)
            args = ("run", "replica", "--base-url", replica.base_url)
            proc = newsvault(*args, env=env, timeout=1500)
            qa_lines = [line for line in proc.stderr.splitlines() if " - qa " in line]
            assert proc.returncode == 0, "\n".join(qa_lines) + proc.stderr[-3000:]
        run_id = runs(stack, "qatest")[-1]
        table_id, table = artifact(stack, "replica-replay-qa", run_id)
        pictures_id, pictures = artifact(stack, "replica-replay-qa-pictures", run_id)
        yield Measured(
            replica.base_url,
            home,
            run_id,
            table,
            run_report(stack, run_id),
            str(pictures),
            (table_id, pictures_id),
        )


def test_replay_right_after_a_scheduled_run_matches_live(scheduled: Measured) -> None:
    rows = scheduled.rows
    assert len(rows) == SAMPLE
    assert {r["kind"] for r in rows} == {"home", "listing", "article"}
    shots, texts = scheduled.scores("screenshot_match"), scheduled.scores("text_match")
    assert len(shots) == len(texts) == SAMPLE  # every page measured
    clean = sum(r["bad_in_scope_replay"] == 0 for r in rows) / len(rows)
    left = sum(int(r["left_replay_server"]) for r in rows)
    print(
        f"\nreplay QA of {scheduled.run_id}: median screenshot_match "
        f"{statistics.median(shots):.4f} (min {min(shots):.4f}), median text_match "
        f"{statistics.median(texts):.4f} (min {min(texts):.4f}), no bad in-scope resource on "
        f"{clean:.0%}, {left} requests left the replay server; good resources replayed "
        f"{sum(int(r['good_replay']) for r in rows)}, excluded "
        f"{sum(int(r['excluded_replay']) for r in rows)}"
    )
    assert statistics.median(shots) >= 0.95
    assert statistics.median(texts) >= 0.98
    assert clean >= 0.95
    assert left == 0
    assert all(int(r["excluded_replay"]) > 0 for r in rows)  # the ad scripts, blocked
    assert all(r["replay"].startswith("http://127.0.0.1:8080/replica/") for r in rows)
    line = re.search(r"^- Replay QA: (.*)$", scheduled.report, re.M)
    assert line and f"{SAMPLE} pages sampled, {SAMPLE} measured" in line.group(1)
    assert "0 requests left the replay server" in line.group(1)
    assert "- Health: ok" in scheduled.report


def test_the_worst_pages_pictures_are_in_the_artifacts(scheduled: Measured) -> None:
    images = re.findall(r"!\[live \| replay \| difference of ([^\]]+)\]\(data:image/jpeg;base64,"
                        r"([A-Za-z0-9+/=]+)\)", scheduled.pictures)  # fmt: skip
    assert len(images) == 3
    worst = sorted(scheduled.rows, key=lambda r: min(float(r["screenshot_match"]),
                                                     float(r["text_match"])))  # fmt: skip
    assert images[0][0] == worst[0]["page"]
    with Image.open(io.BytesIO(base64.b64decode(images[0][1]))) as picture:
        assert picture.format == "JPEG" and picture.width == 3 * THUMB_WIDTH + 16


class HideStylesheetFromCrawler(Behaviour):
    """The theme's stylesheet answers 404 to the crawler and the real file to browsers (as a
    CDN rule against bots might): the archive holds a 404 where the theme should be."""

    def respond(self, request: Request, response: Response) -> Response:
        agent = str(request.headers.get("User-Agent", ""))
        if "/style.css" in request.target and agent.startswith("newsvault/"):
            return Response(404, "text/html", b"<h1>Not Found</h1>")
        return response


def test_a_stylesheet_missing_from_the_archive_fails_the_run_naming_the_pages(
    stack: LocalStack, tmp_path: Path, scheduled: Measured
) -> None:
    env = qa_env(stack, tmp_path, "qabroken", qa=True, sample=6)
    with ReplicaServer(articles=12, seed=1, behaviour=HideStylesheetFromCrawler()) as replica:
        proc = newsvault("run", "replica", "--base-url", replica.base_url, env=env, timeout=1500)
    assert proc.returncode != 0, proc.stdout[-3000:]
    error = one_error_line(proc)
    assert "replay QA" in error and "under screenshot match 0.9" in error
    run_id = runs(stack, "qabroken")[-1]
    rows = artifact(stack, "replica-replay-qa", run_id)[1]
    broken = [r for r in rows if float(r["screenshot_match"]) < 0.9]
    assert broken and all(r["page"] in error for r in broken[:10])
    assert all(r["bad_in_scope_replay"] >= 1 and "/style.css" in r["note"] for r in broken)
    shots = [float(r["screenshot_match"]) for r in rows]
    assert statistics.median(shots) < statistics.median(scheduled.scores("screenshot_match"))
    print(f"\nstylesheet missing from the archive: screenshot_match {sorted(shots)}")
    report = run_report(stack, run_id)
    assert "- Health: **FAILED**" in report and "replay QA:" in report


def test_newsvault_qa_checks_a_run_and_names_a_missing_one(
    stack: LocalStack, scheduled: Measured, tmp_path: Path
) -> None:
    env = qa_env(stack, tmp_path, "qatest", qa=False)
    proc = newsvault("qa", "replica", "--run", scheduled.run_id, "--sample", "3", env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f"replay QA of run {scheduled.run_id} of replica: 3 pages sampled" in proc.stdout
    assert len(re.findall(r"^screenshot \d\.\d{3}  text \d\.\d{3}  0 bad ", proc.stdout, re.M)) == 3
    pictures = tmp_path / "qa" / "replica" / scheduled.run_id
    assert sorted(p.name for p in (pictures / "00").iterdir()) == [
        "diff.png",
        "live.png",
        "replay.png",
    ]
    missing = newsvault("qa", "replica", "--run", "20000101T000000Z-abcdef", env=env)
    assert missing.returncode != 0
    assert "run 20000101T000000Z-abcdef of replica is not in the archive" in one_error_line(missing)


def test_the_qa_artifacts_show_in_the_prefect_ui(
    stack: LocalStack, scheduled: Measured, tmp_path: Path
) -> None:
    """What a user sees: the table page lists the sampled pages; the pictures page shows the
    worst pages' live | replay | difference images (decoded by the browser)."""
    ui = stack.prefect_api_url.removesuffix("/api")
    table_id, pictures_id = scheduled.artifact_ids
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium_or_skip()), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{ui}/artifacts/artifact/{pictures_id}", wait_until="load")
            image = page.wait_for_selector('img[src^="data:image/jpeg"]', timeout=120_000)
            assert image is not None
            page.wait_for_function(
                """() => [...document.querySelectorAll('img[src^="data:image/jpeg"]')]
                      .every(i => i.complete && i.naturalWidth > 0)""",
                timeout=120_000,
            )
            shown = page.eval_on_selector_all('img[src^="data:image/jpeg"]', "e => e.length")
            assert shown == 3
            page.screenshot(path=str(tmp_path / "pictures.png"), full_page=True)
            page.goto(f"{ui}/artifacts/artifact/{table_id}", wait_until="load")
            worst = min(scheduled.rows, key=lambda r: float(r["screenshot_match"]))
            page.wait_for_selector(f"text={worst['page']}", timeout=120_000)
            page.screenshot(path=str(tmp_path / "table.png"), full_page=True)
            print(f"\nPrefect UI screenshots: {tmp_path}")
        finally:
            browser.close()


def test_qa_that_cannot_run_fails_the_run_after_archiving_it(
    stack: LocalStack, tmp_path: Path
) -> None:
    """Chromium gone: the run is archived and reported all the same, then fails saying how
    to install it."""
    env = qa_env(
        stack, tmp_path, "qanochromium", qa=True, sample=3, NEWSVAULT_CHROMIUM=str(tmp_path / "x")
    )
    with ReplicaServer(articles=6, seed=1) as replica:
        proc = newsvault("run", "replica", "--base-url", replica.base_url, env=env, timeout=1500)
    assert proc.returncode != 0
    assert "replay QA could not run" in one_error_line(proc)
    assert "make chromium" in one_error_line(proc)
    run_id = runs(stack, "qanochromium")[-1]  # archived: its objects are in S3
    report = run_report(stack, run_id)
    assert "- Replay QA: not run: replay QA needs Chromium" in report
    assert "- Health: **FAILED**" in report
