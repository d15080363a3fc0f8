"""Which manifests ``site_runs`` reads: an hourly archive holds thousands of runs, and each run
must not read them all (pure logic, over a fake S3 client that counts reads)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from flows.errors import ConfigError
from flows.orchestrate.monitor import earlier_counts
from flows.store.remote import site_runs
from flows.store.s3 import Store, StoreConfig

IDS = [f"2026010{d}T{h:02d}0000Z-0000aa" for d in range(1, 4) for h in range(24)]


class FakeS3:
    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.reads: list[str] = []

    def get_paginator(self, _name: str) -> FakeS3:
        return self

    def paginate(self, **kw: Any) -> list[dict[str, Any]]:
        prefix = kw["Prefix"]
        return [{"CommonPrefixes": [{"Prefix": f"{prefix}{i}/"} for i in self.ids]}]

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        self.reads.append(Key)
        run_id = Key.split("/")[-2]
        body = json.dumps({"run_id": run_id, "counts": {"new_articles": len(self.reads)}})
        return {"Body": io.BytesIO(body.encode())}


def test_after_and_last_limit_the_manifests_read() -> None:
    fake = FakeS3(IDS)
    store = Store(StoreConfig(), fake)  # type: ignore[arg-type]
    runs = site_runs(store, "s", after=IDS[-5])
    assert [r.run_id for r in runs.runs] == IDS[-4:] and len(fake.reads) == 4
    assert runs.ids == IDS  # the listing still names every run
    fake.reads.clear()
    assert [r.run_id for r in site_runs(store, "s", last=3).runs] == IDS[-3:]
    assert len(fake.reads) == 3
    fake.reads.clear()
    assert site_runs(store, "s", last=0).runs == [] and fake.reads == []
    with pytest.raises(ConfigError, match="no archived runs"):
        site_runs(Store(StoreConfig(), FakeS3([])), "s")  # type: ignore[arg-type]


def test_health_history_reads_only_the_runs_it_judges() -> None:
    fake = FakeS3(IDS)
    store = Store(StoreConfig(), fake)  # type: ignore[arg-type]
    counts = earlier_counts(store, "s", exclude=IDS[-1], last=4)
    assert len(counts) == 4 and len(fake.reads) == 5
