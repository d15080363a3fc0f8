"""Reliability: S3 stopped in the middle of an upload (then restarted, or left down). Uses its own
SeaweedFS (never the session's), started and stopped the way `newsvault up`/`down` do."""

from __future__ import annotations

import io
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.errors import StoreUnreachableError
from flows.store.s3 import Store, StoreConfig, make_client
from flows.store.upload import upload_run
from infra.local import control as local
from infra.local.control import LocalStack
from tests.helpers import Crawled, pick_stack, spooled_run

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_s3() -> Iterator[LocalStack]:
    home = Path(tempfile.mkdtemp(prefix="nv-rel-", dir="/tmp"))
    mine = pick_stack(home)
    try:
        local.up(mine, prefect=False)
        yield mine
    finally:
        local.down(mine)
        shutil.rmtree(home, ignore_errors=True)


def _config(stack: LocalStack, monkeypatch: pytest.MonkeyPatch, **kw: Any) -> StoreConfig:
    key, secret = local.credentials(stack)
    # boto3's default session caches the first credentials it resolved (the session stack's)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    base = StoreConfig(bucket=stack.bucket, endpoint=stack.s3_endpoint, max_attempts=2)
    return replace(base, **kw)


def _wait_authorised(config: StoreConfig, timeout: float = 30.0) -> None:
    """A restarted SeaweedFS answers 403 for a moment, until it has loaded its identities."""
    client = make_client(config, max_attempts=1)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.head_bucket(Bucket=config.bucket)
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _records(data: bytes) -> int:
    return sum(1 for r in ArchiveIterator(io.BytesIO(data)) if r.rec_type != "warcinfo")


def _archived(stack: LocalStack, config: StoreConfig, run_id: str) -> dict[str, bytes]:
    client = make_client(config)
    prefix = f"sites/replica/runs/{run_id}/"
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=config.bucket, Prefix=prefix)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert len(keys) == len(set(keys))
    return {k: client.get_object(Bucket=config.bucket, Key=k)["Body"].read() for k in keys}


def _local_records(crawled: Crawled) -> int:
    return sum(_records(p.read_bytes()) for p in crawled.result.warc_files)


def test_s3_restarted_mid_upload_upload_retries_and_completes(
    own_s3: LocalStack, crawled: Crawled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(crawled.result.warc_files) >= 3
    config = _config(own_s3, monkeypatch, retry_backoff=(1.0, 2.0, 4.0, 8.0, 8.0))
    run = spooled_run(crawled, tmp_path, "20200202T000000Z-00000a", config.prefix)
    watcher = make_client(config, max_attempts=1)
    outage: list[str] = []

    def stop_then_restart() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                listed = watcher.list_objects_v2(Bucket=config.bucket, Prefix="sites/replica/")
                if listed.get("KeyCount", 0) >= 1:
                    break
            except Exception:
                pass  # asked again below
            time.sleep(0.005)
        local.down(own_s3)
        outage.append("down")
        time.sleep(2.0)  # the outage's length (the upload's backoff spans it), not a measurement
        local.up(own_s3, prefect=False)
        outage.append("up")

    thread = threading.Thread(target=stop_then_restart)
    thread.start()
    result = upload_run(Store(config), run)
    thread.join()
    assert outage == ["down", "up"]  # S3 went down and came back
    stored = _archived(own_s3, config, run.run_id)
    assert set(stored) == set(result.uploaded) | set(result.already_present)
    warcs = {k: v for k, v in stored.items() if k.endswith(".warc.gz")}
    assert len(warcs) == len(crawled.result.warc_files)
    assert sum(_records(v) for v in warcs.values()) == _local_records(crawled)


def test_s3_stays_down_spool_kept_then_next_attempt_archives_all(
    own_s3: LocalStack, crawled: Crawled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(own_s3, monkeypatch, retry_backoff=(0.2, 0.4))
    run = spooled_run(crawled, tmp_path, "20200202T000000Z-00000b", config.prefix)
    before = sorted((p.name, p.stat().st_size) for p in run.dir.rglob("*") if p.is_file())
    local.down(own_s3)
    try:
        with pytest.raises(StoreUnreachableError) as info:  # after its two attempts, no hang
            upload_run(Store(config), run)
        message = str(info.value)
        assert "\n" not in message and "cannot reach S3" in message and "spool is kept" in message
        assert sorted((p.name, p.stat().st_size) for p in run.dir.rglob("*") if p.is_file()) == (
            before
        )
    finally:
        local.up(own_s3, prefect=False)
        _wait_authorised(config)
    upload_run(Store(config), run)  # what the next run does with pending_runs
    again = upload_run(Store(config), run)  # and a retry never duplicates
    assert again.uploaded == []
    stored = _archived(own_s3, config, run.run_id)
    assert len(stored) == len(again.already_present)
    warcs = [v for k, v in stored.items() if k.endswith(".warc.gz")]
    assert sum(_records(v) for v in warcs) == _local_records(crawled)


def test_parallel_upload_one_bad_object_the_rest_archived(
    own_s3: LocalStack, crawled: Crawled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Objects go up several at a time; one refused object (a different object already under its
    key) fails the upload after the others are archived and verified, and the manifest, which
    marks a run complete, is not written. Removing the conflict, a retry archives the rest."""
    from flows.errors import StoreVerifyError
    from flows.store.manifest import read_manifest

    config = _config(own_s3, monkeypatch, upload_workers=3)
    run = spooled_run(crawled, tmp_path / "spool", "20260102T000000Z-0000cc", config.prefix)
    entries = read_manifest(run)["objects"]
    assert len(entries) >= 4  # several WARC files plus the JSONL: more than one worker's worth
    client = make_client(config)
    bad = entries[1]["key"]
    client.put_object(Bucket=config.bucket, Key=bad, Body=b"someone else's object")

    with pytest.raises(StoreVerifyError, match="already exists with different content"):
        upload_run(Store(config, client), run)
    held = _archived(own_s3, config, run.run_id)
    manifest_key = f"sites/replica/runs/{run.run_id}/manifest.json"
    assert manifest_key not in held and held[bad] == b"someone else's object"
    for entry in entries:
        if entry["key"] != bad:
            assert held[entry["key"]] == (run.dir / entry["local_name"]).read_bytes()

    client.delete_object(Bucket=config.bucket, Key=bad)
    result = upload_run(Store(config, client), run)
    assert result.uploaded == [bad, manifest_key]
    assert sorted(result.already_present) == sorted(e["key"] for e in entries if e["key"] != bad)
    assert (
        _archived(own_s3, config, run.run_id)[bad]
        == (run.dir / entries[1]["local_name"]).read_bytes()
    )
