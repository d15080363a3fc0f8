"""Monitoring without a stack: health checks, crawl progress and logs, map/reduce processing,
cron validation, deployment config."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

import flows.orchestrate.crawl
from flows.derive import DerivedCounts
from flows.derive.articles import write_jsonl_gz
from flows.derive.process import clean_warc, merge_results, process_warcs
from flows.errors import ConfigError
from flows.orchestrate.crawl import run_crawl
from flows.orchestrate.health import check_health, reached_nothing, unreachable_report
from flows.orchestrate.monitor import crawl_progress
from flows.orchestrate.report import RunReport
from flows.orchestrate.schedule import cron_schedule, site_deployment
from flows.sites import Health, load_profile
from flows.store.runs import Keys, RunPaths
from infra.replica.server import ReplicaServer
from tests.helpers import REPO, Crawled


def counts(**kw: Any) -> DerivedCounts:
    base: DerivedCounts = {
        "responses": 60,
        "articles": 40,
        "aliases": 0,
        "unchanged": 0,
        "near_duplicates": 0,
        "deletions": 0,
        "restored": 0,
        "article_pages": 40,
        "extraction_failures": 0,
        "responses_by_status": {"200": 60},
        "new_articles": 1,
        "new_versions": 0,
    }
    merged: dict[str, Any] = {**base, **kw}
    return cast("DerivedCounts", merged)


def test_health_thresholds() -> None:
    health = Health(stale_runs=3)
    assert check_health("s", health, counts()) == []
    [problem] = check_health("s", health, counts(extraction_failures=30))
    assert "coverage 25%" in problem and "content_selector" in problem and "profile" in problem
    assert check_health("s", health, counts(article_pages=2, extraction_failures=2)) == []
    [problem] = check_health("s", health, counts(responses_by_status={"200": 10, "429": 30}))
    assert "30 of 40 responses were 403/429" in problem and "download_delay" in problem
    nothing = counts(new_articles=0)
    assert check_health("s", health, nothing, [nothing]) == []  # only 2 runs so far
    [problem] = check_health("s", health, nothing, [counts(), nothing, nothing])
    assert "no new article or version in the last 3 runs" in problem
    assert check_health("s", Health(stale_runs=0), nothing, [nothing] * 5) == []


def test_failed_share_and_unreachable() -> None:
    """Failed fetches (a 304 is none) fail a run past max_failed_share; no response at all is an
    unreachable site, reported with the reasons."""
    stats = {"downloader/request_count": 100, "newsvault/fetch_failed": 30}
    [problem] = check_health("s", Health(), counts(), [], stats)
    assert "30 of 100 fetches failed (30% > 20%)" in problem
    assert check_health("s", Health(max_failed_share=0.5), counts(), [], stats) == []
    assert reached_nothing({"downloader/request_count": 9}) and not reached_nothing(
        {"downloader/response_count": 1}
    )
    failed = {"newsvault/fetch_failures": ["DNS lookup failed | http://x.invalid/robots.txt"]}
    text, problem = unreachable_report("s", "r", "http://x.invalid", failed)
    assert problem.startswith("site unreachable: no response from http://x.invalid (DNS lookup")
    assert "nothing archived" in problem and "| DNS lookup failed | http://x.invalid/" in text


def test_report_unchanged_counts_rechecked_and_skipped() -> None:
    stats = {
        "newsvault/articles_not_modified": 4,
        "newsvault/articles_unchanged_identical": 3,
        "newsvault/articles_unchanged_by_lastmod": 20,
    }
    report = RunReport("s", "r", "http://x", "s3://b", "k", stats, counts(unchanged=2), 0, 0, [], 1)
    assert report.unchanged() == 29 and report.summary()["unchanged"] == 29
    assert "| unchanged (no new version; re-checked or skipped) | 29 |" in report.markdown()
    assert "| · not modified (HTTP 304) | 4 |" in report.markdown()


def test_profiles_have_health_and_valid_crons() -> None:
    for site in ("replica", "fortruss"):
        profile = load_profile(site)
        assert 0 < profile.health.min_extraction_coverage <= 1
        cron_schedule(profile.schedule.cron, profile.schedule.timezone, site)


def test_bad_cron_is_one_line_config_error() -> None:
    with pytest.raises(ConfigError, match=r"cron '61 \* \* \* \*' .* is not valid") as info:
        cron_schedule("61 * * * *", "UTC", "--cron")
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="not valid"):
        site_deployment("replica", "every minute")


def test_deployment_has_cron_and_cancel_new_limit() -> None:
    deployment = site_deployment("replica", "*/5 * * * *", max_pages=3)
    assert deployment.name == "replica"
    assert deployment.parameters == {"site": "replica", "max_pages": 3}
    [schedule] = deployment.schedules or []
    assert getattr(schedule.schedule, "cron", None) == "*/5 * * * *"
    assert deployment.concurrency_limit == 1
    options = deployment.concurrency_options
    assert options is not None and options.collision_strategy.value == "CANCEL_NEW"


def test_served_deployment_runs_archive_site_from_its_own_entrypoint() -> None:
    """What `serve` deploys: the archive-site flow (its name and run names) whose entrypoint,
    loaded by the process Prefect runs each flow run in, is the CLI's served flow."""
    from flows.cli.served import served_archive_site

    deployment = site_deployment("replica", None, max_pages=3, served=served_archive_site)
    assert deployment.entrypoint == "flows/cli/served.py:served_archive_site"
    assert deployment.flow_name == "archive-site"
    assert served_archive_site.flow_run_name == "archive-{site}"
    assert deployment.parameters == {"site": "replica", "max_pages": 3}


def test_prefect_yaml_matches_profiles() -> None:
    config = yaml.safe_load((REPO / "infra" / "deploy" / "prefect.yaml").read_text())
    names = set()
    for deployment in config["deployments"]:
        if deployment["name"] == "reprocess":
            assert deployment["entrypoint"] == "flows/orchestrate/reprocess.py:reprocess"
            continue
        site = deployment["parameters"]["site"]
        profile = load_profile(site)
        assert deployment["entrypoint"] == "flows/orchestrate/archive.py:archive_site"
        assert (REPO / "flows" / "orchestrate" / "archive.py").is_file()
        [schedule] = deployment["schedules"]
        assert schedule["cron"] == profile.schedule.cron
        assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
        names.add(site)
    assert names == {"replica", "fortruss"}


def test_crawl_progress_text() -> None:
    percent, text = crawl_progress(
        {"scheduler/enqueued": 40, "downloader/response_count": 10, "newsvault/articles_fetched": 7}
    )
    assert percent == 25.0 and "10 responses of 40" in text and "7 articles" in text
    assert crawl_progress({})[0] == 0.0
    assert crawl_progress({"scheduler/enqueued": 1, "downloader/response_count": 5})[0] == 99.0


@pytest.mark.e2e
def test_map_reduce_equals_sequential(crawled: Crawled, tmp_path: Path) -> None:
    files = crawled.result.warc_files
    assert len(files) > 1  # rotated: the map has several parts
    key = Keys("", "replica", crawled.run.run_id).warc
    parts = [clean_warc(p, crawled.profile, crawled.run.run_id, key) for p in files]
    merged = merge_results(parts)
    sequential = process_warcs(files, crawled.profile, crawled.run.run_id, key)
    write_jsonl_gz(tmp_path / "a.gz", merged.records)
    write_jsonl_gz(tmp_path / "b.gz", sequential.records)
    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert merged.summary() == sequential.summary()
    assert merged.listing == sequential.listing and merged.gone == sequential.gone


@pytest.mark.e2e
def test_crawl_logs_are_forwarded_without_flooding(
    replica: ReplicaServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flows.orchestrate.crawl, "PROGRESS_INTERVAL", 0.2)
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("test.forward")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Collect())
    progress: list[dict[str, Any]] = []
    profile = load_profile("replica", replica.base_url)
    run = RunPaths.create(tmp_path, "replica")
    result = run_crawl(profile, run, logger, on_progress=progress.append)
    assert result.exit_code == 0
    info = [r.getMessage() for r in records if r.levelno >= logging.INFO]
    debug = [r for r in records if r.levelno == logging.DEBUG]
    # the engine's start/stop lines and one stats line at INFO, the stats dump at DEBUG
    assert any("Spider opened" in m for m in info) and any("Spider closed" in m for m in info)
    [stats_line] = [m for m in info if m.startswith("crawl stats:")]
    assert "downloader/response_count=" in stats_line and "finish_reason=finished" in stats_line
    assert len(info) < 40, info  # 40 articles, ~100 responses: no line per request
    assert debug and not any("Dumping Scrapy stats" in m for m in info)
    assert progress and all("downloader/request_count" in p or p for p in progress)


def test_report_lists_health_and_errors() -> None:
    report = RunReport(
        site="s",
        run_id="r",
        base_url="http://x",
        where="s3://b",
        manifest_key="k",
        crawl_stats={"newsvault/articles_scheduled": 5, "downloader/response_bytes": 2048},
        counts=counts(),
        objects=3,
        bytes_archived=10,
        failures=[("http://x/a/", "no article text")],
        duration_s=1.0,
        error_responses=[("http://x/b/", 429)],
        health=["too many 429"],
    )
    text = report.markdown()
    assert "Health: **FAILED**" in text and "- too many 429" in text
    assert "| 429 | http://x/b/ |" in text and "| articles discovered" in text
    assert "| bytes fetched | 2,048 |" in text and "http://x/a/: no article text" in text
    assert report.summary()["health"] == ["too many 429"]
