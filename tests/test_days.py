"""Scheduled runs across replica days: versions, aliases, near-duplicates, deletions, 304s.

Real components: `newsvault run` subprocesses against the session's SeaweedFS and Prefect server,
the replica over HTTP advancing its day between runs, ground truth from the replica's events.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from flows.warc.captures import CaptureEntry, read_entries
from infra.local.control import LocalStack
from infra.replica import ReplicaServer
from tests.helpers import cli_env, newsvault, s3, store_config

pytestmark = pytest.mark.e2e
PREFIX = "daystest"
ARTICLES = 30


class Archive:
    def __init__(self, stack: LocalStack, home: Path, base_url: str) -> None:
        self.stack, self.base_url = stack, base_url
        self.env = cli_env(
            stack, home / "spool", NEWSVAULT_S3_PREFIX=PREFIX, NEWSVAULT_HOME=str(home)
        )
        self.config = store_config(stack)
        self.client = s3(stack)
        self.runs: list[str] = []
        self.outputs: list[str] = []  # stdout and stderr of each run
        self.summaries: list[dict[str, Any]] = []  # what each run printed

    def run(self, *extra: str) -> str:
        proc = newsvault("run", "replica", "--base-url", self.base_url, *extra, env=self.env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        self.last_output = proc.stdout + proc.stderr
        self.outputs.append(self.last_output)
        lines = proc.stdout.splitlines()
        start = max(i for i, line in enumerate(lines) if line == "{")
        self.summaries.append(json.loads("\n".join(lines[start:])))
        runs = self.run_ids()
        assert len(runs) == len(self.runs) + 1
        self.runs = runs
        return runs[-1]

    def run_ids(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.config.bucket, Prefix=f"{PREFIX}/sites/replica/runs/", Delimiter="/"
        )
        return sorted(
            p["Prefix"].split("/")[-2] for page in pages for p in page.get("CommonPrefixes", [])
        )

    def get(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.config.bucket, Key=key)["Body"].read())

    def jsonl(self, run_id: str, name: str) -> list[dict[str, Any]]:
        raw = gzip.decompress(self.get(f"{PREFIX}/sites/replica/runs/{run_id}/{name}"))
        return [json.loads(line) for line in raw.splitlines() if line.strip()]

    def captures(self, run_id: str, tmp: Path) -> list[CaptureEntry]:
        path = tmp / f"{run_id}.captures.jsonl.gz"
        path.write_bytes(self.get(f"{PREFIX}/sites/replica/runs/{run_id}/captures.jsonl.gz"))
        return list(read_entries(path))


@pytest.fixture(scope="module")
def days(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with ReplicaServer(articles=ARTICLES, seed=5) as server:
        archive = Archive(stack, tmp_path_factory.mktemp("days"), server.base_url)
        archive.run()  # day 0: everything is new
        archive.run()  # day 0 again: unchanged replica
        outcomes = {}
        for day in (1, 2, 3):
            server.set_day(day)
            run_id = archive.run()
            outcomes[day] = (run_id, server.site.events(day))
        yield archive, server, outcomes


def article_id(post_id: int) -> str:
    return f"replica:wp:{post_id}"


def test_first_run_archives_every_article_once(days: Any) -> None:
    archive, _server, _ = days
    records = archive.jsonl(archive.runs[0], "articles.jsonl.gz")
    assert len(records) == ARTICLES and {r["version"] for r in records} == {1}
    assert len({r["id"] for r in records}) == ARTICLES


def test_unchanged_rerun_costs_at_most_two_percent(days: Any, tmp_path: Path) -> None:
    archive, server, _ = days
    first, second = archive.runs[0], archive.runs[1]
    assert archive.jsonl(second, "articles.jsonl.gz") == []
    assert archive.jsonl(second, "events.jsonl.gz") == []
    article_urls = {archive.base_url + a.path for a in server.site.at_day(0).iter_articles()}
    full = Counter(
        e.uri
        for e in archive.captures(second, tmp_path)
        if e.uri in article_urls and e.type == "response" and e.status == 200
    )
    assert len(full) <= 0.02 * ARTICLES
    stats = json.loads(archive.get(f"{PREFIX}/sites/replica/runs/{second}/crawl-stats.json"))
    assert stats.get("newsvault/articles_unchanged_by_lastmod", 0) > 0
    first_requests = json.loads(
        archive.get(f"{PREFIX}/sites/replica/runs/{first}/crawl-stats.json")
    )
    assert stats["downloader/response_bytes"] < first_requests["downloader/response_bytes"]
    # A 304 or a lastmod skip is an unchanged article, never a failed fetch.
    assert "fetch failed" not in archive.outputs[1]
    assert stats.get("newsvault/fetch_failed", 0) == 0
    assert archive.summaries[1]["unchanged"] == ARTICLES, archive.summaries[1]
    assert archive.summaries[1]["health"] == "ok"


def test_days_give_versions_aliases_near_duplicates_and_deletions(days: Any) -> None:
    archive, _server, outcomes = days
    seen_ids = {r["id"] for r in archive.jsonl(archive.runs[0], "articles.jsonl.gz")}
    kinds_seen: set[str] = set()
    for day, (run_id, events) in outcomes.items():
        records = {r["id"]: r for r in archive.jsonl(run_id, "articles.jsonl.gz")}
        run_events = archive.jsonl(run_id, "events.jsonl.gz")
        deleted = {e["article_id"]: e for e in run_events if e["kind"] == "deleted"}
        aliases = {e["alias_id"]: e for e in run_events if e["kind"] == "alias"}
        expected_ids: set[str] = set()
        for event in events:
            kinds_seen.add(event.kind)
            aid = article_id(event.post_id)
            where = f"day {day}: {event}"
            if event.kind == "new":
                assert records[aid]["version"] == 1, where
                expected_ids.add(aid)
            elif event.kind in ("edit_text", "edit_append", "edit_title"):
                rec = records[aid]
                assert rec["version"] == event.version, where
                assert rec["previous_version"].endswith(f"#{aid}@{event.version - 1}"), where
                field = "title" if event.kind == "edit_title" else "text"
                assert rec["changed_fields"] == [field], where
                if field == "text":
                    assert rec["diff"], where
                expected_ids.add(aid)
            elif event.kind == "boilerplate":
                assert aid not in records, where
            elif event.kind.startswith("delete_"):
                how = {
                    "delete_404": "http_404",
                    "delete_410": "http_410",
                    "delete_redirect": "redirect_home",
                }[event.kind]
                assert deleted[aid]["how"] == how, where
                assert deleted[aid]["evidence"]["warc_record_id"], where
            elif event.kind == "republish_copy":
                source = article_id(event.of_post_id)
                if aid in records:
                    assert records[aid]["near_duplicate_of"] == source, where
                    expected_ids.add(aid)
                else:
                    assert aliases[aid]["article_id"] == source, where
        # nothing else was written: no article twice, no version without an edit
        assert set(records) == expected_ids, f"day {day}"
        seen_ids |= set(records)
    assert {"new", "edit_text", "boilerplate", "republish_copy"} <= kinds_seen
    assert any(k.startswith("delete_") for k in kinds_seen)


def test_state_rebuild_equals_saved(days: Any) -> None:
    archive, _, _ = days
    proc = newsvault("state", "rebuild", "replica", env=archive.env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "equals the saved state" in proc.stdout


def test_corrupt_state_is_rebuilt_without_reachiving(days: Any) -> None:
    archive, _server, _ = days
    key = f"{PREFIX}/sites/replica/state/state.json.gz"
    archive.client.put_object(Bucket=archive.config.bucket, Key=key, Body=b"garbage")
    run_id = archive.run()
    assert "rebuilding it from the archive" in archive.last_output
    assert archive.jsonl(run_id, "articles.jsonl.gz") == []  # same day: nothing is new
    proc = newsvault("state", "rebuild", "replica", env=archive.env)
    assert proc.returncode == 0 and "equals the saved state" in proc.stdout
