"""Shared fixtures: one replica site and one real crawl of it, reused across test modules."""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from flows.orchestrate.crawl import CrawlResult, run_crawl
from flows.sites import SiteProfile, load_profile
from flows.store.runs import RunPaths
from infra.local import control as local
from infra.local.control import LocalStack, Ports
from infra.replica.server import ReplicaServer

REPLICA_ARTICLES = 40


def shared_dir() -> Path:
    """The project's shared folder (seed article, extraction dev set): $NEWSVAULT_SHARED, else
    ``../shared`` beside the repository, else /work/shared (CI may clone elsewhere)."""
    candidates = [
        os.environ.get("NEWSVAULT_SHARED", ""),
        str(Path(__file__).resolve().parents[2] / "shared"),
        "/work/shared",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "seed").is_dir():
            return Path(candidate)
    pytest.fail("the shared folder (seed/, extraction-dev/) was not found: set NEWSVAULT_SHARED")


def shared_file(relative: str) -> Path:
    path = shared_dir() / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing from the shared folder; set NEWSVAULT_SHARED")
    return path


@pytest.fixture(scope="session")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles=REPLICA_ARTICLES, seed=1) as server:
        yield server


@dataclass(frozen=True)
class Crawled:
    profile: SiteProfile
    run: RunPaths
    result: CrawlResult


@pytest.fixture(scope="session")
def crawled(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """One real crawl (Scrapy subprocess, recorder on) of the replica, over HTTP."""
    profile = load_profile("replica", replica.base_url)
    run = RunPaths.create(tmp_path_factory.mktemp("spool"), "replica")
    result = run_crawl(profile, run, logging.getLogger("test.crawl"), warc_max_size=200_000)
    return Crawled(profile, run, result)


def pick_stack(home: Path) -> LocalStack:
    """A local stack on ports that are all free, so tests never meet a developer's stack."""
    rng = random.Random()
    for _ in range(200):
        s3_port = rng.randrange(20000, 30000)
        ports = Ports.for_s3_port(s3_port)
        if all(local.port_is_free(p) for p in ports.as_dict().values()):
            prefect_port = rng.randrange(40000, 45000)
            if local.port_is_free(prefect_port):
                return LocalStack(home=home, s3_port=s3_port, prefect_port=prefect_port)
    raise RuntimeError("no free port range found")


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """A real SeaweedFS and Prefect server, started the way `newsvault up` starts them."""
    home = Path(tempfile.mkdtemp(prefix="nv-", dir="/tmp"))
    chosen = pick_stack(home)
    try:
        local.up(chosen)
        yield chosen
    finally:
        local.down(chosen)
        shutil.rmtree(home, ignore_errors=True)


def seal_test_run(run: RunPaths, prefix: str) -> None:
    """Write the manifest of a hand-made spooled run, as processing would (for store tests)."""
    from datetime import UTC, datetime

    from flows.store.manifest import build_manifest, write_manifest
    from flows.store.runs import Keys

    keys = Keys(prefix, run.site, run.run_id)
    manifest = build_manifest(
        run,
        keys,
        base_url="http://x",
        started_at=datetime.now(UTC),
        counts={
            "responses": 0,
            "responses_by_status": {},
            "article_pages": 0,
            "articles": 0,
            "aliases": 0,
            "extraction_failures": 0,
            "new_articles": 0,
            "new_versions": 0,
            "unchanged": 0,
            "near_duplicates": 0,
            "deletions": 0,
            "restored": 0,
            "records": {"response": 0, "revisit": 0},
            "cdxj_lines": 0,
        },
        crawl={},
        cleaner_version="test",
    )
    write_manifest(run, manifest)
