"""An article's history over real replica days: edited on day 1 and day 2, deleted (404) on
day 3, archived by the default incremental runs (signed and timestamped by the stack's TSA).
`newsvault history` shows both paragraph diffs and the deletion with its evidence, text and
JSON; each replay link, served by `newsvault replay serve`, opens that version and no other;
`newsvault cite --at` a time between the two edits cites the middle version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import lxml.html
import pytest

from flows.evidence import Signer
from infra.local.control import LocalStack
from infra.replica import ReplicaServer
from tests.helpers import cli_env, newsvault, replay_serve, xpath_elements

pytestmark = pytest.mark.e2e
PREFIX = "history-e2e"
# The day model of this (size, seed) rewrites a paragraph of one article on day 1, appends an
# UPDATE paragraph to it on day 2 and deletes it (404) on day 3: found, not made, by days.py.
ARTICLES, SEED, DAYS = 8, 36, 3
EDITED_THEN_DELETED = ["edit_text", "edit_append", "delete_404"]


def _story(server: ReplicaServer) -> int:
    """The post id the days edit twice and then delete (the test's premise, checked)."""
    kinds: dict[int, list[str]] = {}
    for day in range(1, DAYS + 1):
        for event in server.site.events(day):
            kinds.setdefault(event.post_id, []).append(event.kind)
    (post_id,) = [p for p, k in kinds.items() if k == EDITED_THEN_DELETED]
    return post_id


@pytest.fixture(scope="module")
def archived(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    home = tmp_path_factory.mktemp("history")
    key = home / "archive-key.pem"
    key.write_bytes(Signer.generate().private_pem())
    env = cli_env(
        stack, home / "spool", NEWSVAULT_S3_PREFIX=PREFIX, NEWSVAULT_SIGNING_KEY_FILE=str(key)
    )
    with ReplicaServer(articles=ARTICLES, seed=SEED) as server:
        post_id = _story(server)
        paragraphs = [server.site.at_day(d).article(post_id).paragraphs for d in range(DAYS)]
        url = server.base_url + server.site.article(post_id).path
        for day in range(DAYS + 1):  # day 0, then each day: the default incremental run
            server.set_day(day)
            proc = newsvault("run", "replica", "--base-url", server.base_url, env=env)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    yield {"env": env, "url": url, "post_id": post_id, "paragraphs": paragraphs}


@pytest.fixture(scope="module")
def history(archived: Any) -> list[dict[str, Any]]:
    proc = newsvault("history", "replica", archived["url"], "--format", "json", env=archived["env"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    entries: list[dict[str, Any]] = json.loads(proc.stdout)
    return entries


def test_history_shows_both_diffs_and_the_deletion_with_its_evidence(
    archived: Any, history: list[dict[str, Any]]
) -> None:
    v1, v2, v3 = archived["paragraphs"]
    assert [e["kind"] for e in history] == ["version", "version", "version", "deleted"]
    assert [e["version"] for e in history[:3]] == [1, 2, 3]
    assert all(e["run_evidence"] == "signed and timestamped" for e in history)
    assert history[1]["changed_fields"] == history[2]["changed_fields"] == ["text"]
    (rewrite,) = history[1]["diff"]
    assert rewrite["old"] == [p for p in v1 if p not in v2]
    assert rewrite["new"] == [p for p in v2 if p not in v1]
    (update,) = history[2]["diff"]
    assert not update.get("old") and update["new"] == [p for p in v3 if p not in v2]
    assert update["new"][0].startswith("UPDATE: ")
    deleted = history[3]
    assert deleted["how"] == "http_404" and deleted["url"] == archived["url"]
    assert deleted["warc_record_id"] and deleted["warc_key"]
    assert deleted["warc_record_id"] == deleted["evidence"]["warc_record_id"]
    records = [e["warc_record_id"] for e in history]
    assert len(set(records)) == 4 and all(records)

    text = newsvault("history", "replica", str(archived["post_id"]), env=archived["env"])
    assert text.returncode == 0, text.stderr[-2000:]
    for line in (*rewrite["old"], *rewrite["new"], *update["new"]):
        assert line in text.stdout
    assert "deleted (http_404)" in text.stdout
    assert all(e["warc_record_id"] in text.stdout and e["replay"] in text.stdout for e in history)


@pytest.fixture(scope="module")
def replay(archived: Any) -> Iterator[str]:
    with replay_serve(archived["env"]) as (port, _proc):
        yield f"http://127.0.0.1:{port}/replica"


def _content(page: str) -> str:
    doc = lxml.html.fromstring(page)
    (body,) = xpath_elements(doc, '//div[contains(@class, "td-post-content")]')
    return "".join(t for t in body.itertext() if isinstance(t, str))


def test_each_replay_link_opens_its_version(archived: Any, replay: str) -> None:
    env = archived["env"]
    proc = newsvault("history", "replica", archived["url"], "--format", "json", "--replay-base",
                     replay, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    entries = json.loads(proc.stdout)
    versions = [e for e in entries if e["kind"] == "version"]
    every = {p for ps in archived["paragraphs"] for p in ps}
    for entry, paragraphs in zip(versions, archived["paragraphs"], strict=True):
        page = httpx.get(entry["replay"], timeout=60)
        assert page.status_code == 200, (entry["replay"], page.status_code)
        shown = _content(page.text)
        for p in paragraphs:
            assert p in shown, (entry["version"], p)
        for p in every - set(paragraphs):
            assert p not in shown, (entry["version"], p)
    (deleted,) = [e for e in entries if e["kind"] == "deleted"]
    gone = httpx.get(deleted["replay"], timeout=60)
    assert gone.status_code == 404, (deleted["replay"], gone.status_code)
    assert archived["paragraphs"][0][0] not in gone.text


def test_cite_between_the_edits_gives_the_middle_version(
    archived: Any, history: list[dict[str, Any]]
) -> None:
    second, third = (datetime.fromisoformat(e["time"]) for e in history[1:3])
    between = (second + (third - second) / 2).isoformat()
    assert second < datetime.fromisoformat(between) < third
    proc = newsvault("cite", "replica", archived["url"], "--at", between, "--format", "csl-json",
                     env=archived["env"])  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (item,) = json.loads(proc.stdout)
    assert history[1]["warc_record_id"] in item["note"]
    assert history[1]["replay"] == item["archive_location"]
    text = newsvault("cite", "replica", archived["url"], "--at", between, env=archived["env"])
    assert "(version 2)" in text.stdout and "Deleted" not in text.stdout
    latest = newsvault("cite", "replica", archived["url"], env=archived["env"])
    assert "(version 3)" in latest.stdout and "Deleted from the site by" in latest.stdout
    wrong = newsvault("cite", "replica", archived["url"], "--at", "last week", env=archived["env"])
    assert wrong.returncode == 2 and "is not an ISO 8601 date or time" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_history_of_a_path_never_archived_is_one_line(archived: Any) -> None:
    proc = newsvault("history", "replica", archived["url"] + "nope/", env=archived["env"])
    assert proc.returncode == 2 and "no archived article" in proc.stderr
    assert "Traceback" not in proc.stderr
