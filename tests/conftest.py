"""Shared fixtures (one replica site, one real crawl of it, one local stack, reused across test
modules), the Hypothesis profiles, and the check that every test using a server is marked e2e.
Helpers live in tests/helpers.py."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from flows.orchestrate.crawl import run_crawl
from flows.sites import load_profile
from flows.store.runs import RunPaths
from infra.local import control as local
from infra.local.control import LocalStack
from infra.replica.server import ReplicaServer
from tests.helpers import Crawled, pick_stack

REPLICA_ARTICLES = 40

# Hypothesis is derandomized in every run, CI or not (`make test` is what CI runs): each test
# draws the same examples every time, so a run fails only where the code changed, never by
# luck. No per-example deadline and no too_slow health check: both measure wall time, which a
# loaded machine stretches (pytest-timeout still bounds a hang). Bugs it once found are kept as
# @example. To hunt for new ones, run with HYPOTHESIS_PROFILE=explore (random examples, a 2 s
# deadline, the example database) and add what it finds as @example.
settings.register_profile(
    "deterministic",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=timedelta(seconds=2))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

# Fixtures that start a server (or a crawl of one): every test using them must be marked e2e.
SERVER_FIXTURES = ("replica", "crawled", "stack")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test that uses a server fixture of this file without the e2e mark, so that
    `pytest -m "not e2e"` (make test-fast) never starts one."""
    for item in items:
        if item.get_closest_marker("e2e"):
            continue
        info = getattr(item, "_fixtureinfo", None)
        for name in getattr(item, "fixturenames", ()):
            defs = info.name2fixturedefs.get(name, ()) if info else ()
            if name in SERVER_FIXTURES and defs and defs[-1].func.__module__ == __name__:
                raise pytest.UsageError(
                    f"{item.nodeid} uses the fixture {name!r}, which starts a server: mark it "
                    "e2e (pytestmark = pytest.mark.e2e, or @pytest.mark.e2e)"
                )


@pytest.fixture(scope="session")
def replica() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles=REPLICA_ARTICLES, seed=1) as server:
        yield server


@pytest.fixture(scope="session")
def crawled(replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """One real crawl (Scrapy subprocess, recorder on) of the replica, over HTTP."""
    profile = load_profile("replica", replica.base_url)
    run = RunPaths.create(tmp_path_factory.mktemp("spool"), "replica")
    result = run_crawl(profile, run, logging.getLogger("test.crawl"), warc_max_size=200_000)
    return Crawled(profile, run, result)


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
