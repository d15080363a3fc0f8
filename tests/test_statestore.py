"""The saved state is a checkpoint plus the runs archived after it (real SeaweedFS)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.derive.articles import write_jsonl_gz
from flows.derive.process import process_warcs
from flows.derive.run import derive
from flows.state.checkpoint import (
    CAPTURES_NAME,
    STATE_NAME,
    CheckpointPolicy,
    LoadedState,
    advance_run,
    load_state,
    rebuild,
    save_state,
)
from flows.store.manifest import build_manifest, write_manifest
from flows.store.runs import Keys, RunPaths, new_run_id, state_key
from flows.store.s3 import Store
from flows.store.upload import upload_run
from flows.warc.captures import write_run_index
from flows.warc.cdxj import index_warcs
from infra.local.control import LocalStack
from tests.helpers import Crawled, get, s3, store_config

START = datetime(2026, 1, 1, tzinfo=UTC)


def archive_run(st: Store, crawled: Crawled, root: Path, loaded: LoadedState, n: int) -> RunPaths:
    """One run of the crawled WARCs through the flow's plain functions, then the state advanced."""
    site = loaded.state.site
    run = RunPaths.create(root, site, new_run_id(START + timedelta(hours=n)))
    for warc in crawled.result.warc_files:
        (run.warc_dir / warc.name).write_bytes(warc.read_bytes())
    keys = Keys(st.config.prefix, site, run.run_id)
    result = process_warcs(run.warc_files(), crawled.profile, run.run_id, keys.warc)
    derived = derive(result, loaded.state, run.run_id, keys, lambda _: None)
    write_jsonl_gz(run.articles, derived.records)
    write_jsonl_gz(run.events, derived.events)
    records = write_run_index(run.warc_files(), run.captures)
    index_warcs(run.warc_files(), run.cdxj)
    manifest = build_manifest(
        run,
        keys,
        base_url=crawled.profile.base_url,
        started_at=START,
        counts={**derived.summary(), "records": records, "cdxj_lines": 0},
        crawl={},
        cleaner_version="test",
    )
    write_manifest(run, manifest)
    upload_run(st, run)
    advance_run(loaded, run, keys.articles, derived.records, derived.events)
    return run


@pytest.fixture()
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEWSVAULT_HOME", str(tmp_path / "home"))  # download cache
    return tmp_path


@pytest.mark.e2e
def test_small_runs_keep_the_checkpoint_and_loading_folds_them(
    stack: LocalStack, crawled: Crawled, home: Path
) -> None:
    client, config = s3(stack), store_config(stack)
    st = Store(config, client)
    site = f"ckpt{uuid.uuid4().hex[:6]}"
    state_obj = state_key(config.prefix, site, STATE_NAME)
    loaded = load_state(st, site, home / "w0")
    assert loaded.source == "new"
    first = archive_run(st, crawled, home / "spool", loaded, 0)
    assert save_state(st, loaded)  # a new site always writes its first checkpoint
    checkpoint = get(stack, state_obj)

    # the same pages again: nothing new; the run's digest index is as big as the first's here
    # (copied WARCs, no revisits), so a looser share keeps the checkpoint, the default would not
    second = archive_run(st, crawled, home / "spool", loaded, 1)
    assert loaded.runs_since_checkpoint == 1 and 0 < loaded.log_bytes
    assert CheckpointPolicy().due(loaded)
    assert not save_state(st, loaded, CheckpointPolicy(max_share=100.0))
    assert get(stack, state_obj) == checkpoint

    # loading = the checkpoint + the run after it, equal to the in-memory state and a rebuild
    again = load_state(st, site, home / "w1")
    assert again.source == "saved" and again.state.runs == [first.run_id, second.run_id]
    assert again.runs_since_checkpoint == 1 and again.log_bytes == loaded.log_bytes
    assert again.state.to_bytes() == loaded.state.to_bytes()
    assert again.captures.read_bytes() == loaded.captures.read_bytes()
    rebuilt = rebuild(st, site, home / "w2")
    assert rebuilt.state.to_bytes() == again.state.to_bytes()

    # the log is bounded: at the policy's run count a new checkpoint is written
    third = archive_run(st, crawled, home / "spool", again, 2)
    assert save_state(st, again, CheckpointPolicy(max_runs=2))
    assert again.runs_since_checkpoint == 0 and again.log_bytes == 0
    latest = load_state(st, site, home / "w3")
    assert latest.runs_since_checkpoint == 0 and latest.state.runs[-1] == third.run_id
    assert latest.checkpoint_bytes == len(get(stack, state_obj)) + len(
        get(stack, state_key(config.prefix, site, CAPTURES_NAME))
    )


def test_log_grown_past_its_share_writes_a_checkpoint() -> None:
    loaded = LoadedState(state=None, captures=Path("x"), source="saved", checkpoint_bytes=1000)  # type: ignore[arg-type]
    policy = CheckpointPolicy(max_runs=24, max_share=0.1)
    loaded.runs_since_checkpoint, loaded.log_bytes = 1, 100
    assert not policy.due(loaded)
    loaded.log_bytes = 101
    assert policy.due(loaded)
    loaded.log_bytes, loaded.runs_since_checkpoint = 0, 24
    assert policy.due(loaded)
    for source in ("new", "rebuilt"):  # a state not read from a checkpoint is always written
        assert policy.due(LoadedState(None, Path("x"), source))  # type: ignore[arg-type]


@pytest.mark.e2e
def test_corrupt_run_after_the_checkpoint_rebuilds_the_state(
    stack: LocalStack, crawled: Crawled, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client, config = s3(stack), store_config(stack)
    st = Store(config, client)
    site = f"ckpt{uuid.uuid4().hex[:6]}"
    loaded = load_state(st, site, home / "w0")
    first = archive_run(st, crawled, home / "spool", loaded, 0)
    save_state(st, loaded)
    second = archive_run(st, crawled, home / "spool", loaded, 1)
    assert not save_state(st, loaded, CheckpointPolicy(max_share=100.0))
    key = Keys(config.prefix, site, second.run_id).captures
    client.put_object(Bucket=config.bucket, Key=key, Body=b"not the archived index")

    caplog.set_level("WARNING")
    again = load_state(st, site, home / "w1")
    assert again.source == "rebuilt" and again.problem is not None
    assert f"run {second.run_id} after it fails verification" in again.problem
    assert "rebuilding it from the archive" in caplog.text
    # the run with the bad object is named and skipped; the one before it is still known
    assert again.state.runs == [first.run_id]
    assert f"run {second.run_id} skipped" in caplog.text


@pytest.mark.e2e
def test_run_archived_late_behind_the_checkpoint_rebuilds(
    stack: LocalStack, crawled: Crawled, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A run uploaded after later runs saved their checkpoint (it sat in a spool while S3 was
    down) is older than the checkpoint's last run: the state can't fold it in order, so it is
    rebuilt from the archive, this run included."""
    client, config = s3(stack), store_config(stack)
    st = Store(config, client)
    site = f"ckpt{uuid.uuid4().hex[:6]}"
    loaded = load_state(st, site, home / "w0")
    first = archive_run(st, crawled, home / "spool", loaded, 0)
    second = archive_run(st, crawled, home / "spool", loaded, 2)
    assert save_state(st, loaded, force=True)
    behind = LoadedState(loaded.state, loaded.captures, "saved")  # only its run id matters
    late = archive_run(st, crawled, home / "spool", behind, 1)
    assert first.run_id < late.run_id < second.run_id

    caplog.set_level("WARNING")
    again = load_state(st, site, home / "w1")
    assert again.source == "rebuilt" and "misses runs older than its last run" in str(again.problem)
    assert again.state.runs == [first.run_id, late.run_id, second.run_id]
