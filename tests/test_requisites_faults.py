"""Bad requisites never fail a crawl: one that errors, times out, is oversized or redirects in a
loop is recorded (or refused), counted and listed with its reason; the pages are archived.

A real crawl (Scrapy subprocess, recorder on) of a replica whose faults hit its theme's assets.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.orchestrate.crawl import run_crawl
from flows.sites import BUILTIN_DIR, load_profile
from flows.store.runs import RunPaths
from infra.replica import ReplicaServer
from infra.replica.faults import FaultBehaviour

pytestmark = pytest.mark.e2e

FAULTS = ",".join(
    [
        "500@/fonts\\.css",  # the @import of style.css: an error status, retried, given up
        "timeout:6@tagdiv_theme",  # longer than the profile's requisite timeout
        "redirect-loop@lazyload",
        "oversized:3000000@jquery\\.js",  # over the profile's requisite size limit
    ]
)


def test_bad_requisites_are_recorded_counted_and_never_fail_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the crawl subprocess loads the profile by name: a copy of the replica's with lower limits
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    text = (BUILTIN_DIR / "replica.toml").read_text().replace('name = "replica"', 'name = "rq"')
    text = text.replace("[requisites]", "[requisites]\nmax_size = 1000000\ntimeout = 2.0")
    (profiles / "rq.toml").write_text(text)
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(profiles))
    with ReplicaServer(articles=6, seed=3, behaviour=FaultBehaviour.parse(FAULTS)) as server:
        profile = load_profile("rq", server.base_url)
        assert profile.requisites.max_size == 1_000_000
        run = RunPaths.create(tmp_path / "spool", "rq")
        result = run_crawl(profile, run, logging.getLogger("test.requisites"), warc_max_size=0)
    stats = result.stats
    assert stats["newsvault/articles_fetched"] >= 6
    assert stats["newsvault/requisites_archived"] > 10
    assert stats["newsvault/requisites_failed"] == 4
    assert stats["newsvault/requisites_excluded"] >= 1  # the ad and stats scripts
    failures = "\n".join(stats.get("newsvault/fetch_failures", []))
    for name in ("fonts.css", "tagdiv_theme", "lazyload", "jquery.js"):
        assert name in failures
    statuses: dict[str, set[str]] = {}
    for warc in run.warc_files():
        with open(warc, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    uri = record.rec_headers["WARC-Target-URI"]
                    statuses.setdefault(uri, set()).add(record.http_headers.get_statuscode())
    assert any("fonts.css" in u and "500" in s for u, s in statuses.items())
    assert any("lazyload" in u and "302" in s for u, s in statuses.items())
    assert not any("pubmine" in u or "stats.wp.com" in u for u in statuses)
