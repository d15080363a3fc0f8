"""The spider and recorder against the replica over real HTTP, in a real Scrapy subprocess."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.errors import CrawlError
from flows.orchestrate.crawl import CRAWL_QUEUE_DIR, crawl_env, forward_line, run_crawl
from flows.sites import load_profile
from flows.store.runs import RunPaths
from infra.replica.server import ReplicaServer
from spiders.robots import RobotsRules
from tests.helpers import Crawled, warcio_check


def records(paths: list[Path]) -> list[tuple[str, str, dict[str, str], bytes]]:
    out = []
    for path in paths:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                http = dict(rec.http_headers.headers) if rec.http_headers else {}
                first = (
                    rec.http_headers.protocol + " " + rec.http_headers.statusline
                    if rec.http_headers
                    else ""
                )
                out.append(
                    (
                        rec.rec_type,
                        rec.rec_headers["WARC-Target-URI"] or "",
                        {"_line": first, **http},
                        rec.raw_stream.read(),
                    )
                )
    return out


@pytest.mark.e2e
def test_every_article_has_request_and_response(crawled: Crawled, replica: ReplicaServer) -> None:
    assert crawled.result.exit_code == 0
    assert crawled.result.finish_reason == "finished"
    recs = records(crawled.result.warc_files)
    responses = Counter(url for kind, url, _, _ in recs if kind == "response")
    requests = Counter(url for kind, url, _, _ in recs if kind == "request")
    expected = {replica.base_url + a.path for a in replica.site.iter_articles()}
    assert len(expected) == 40
    assert expected <= set(responses) and expected <= set(requests)
    # never fetched twice in a run
    assert max(requests.values()) == 1 and max(responses.values()) == 1
    # discovery exchanges are recorded too
    base = replica.base_url
    for url in (f"{base}/robots.txt", f"{base}/sitemap_index.xml", f"{base}/feed/", f"{base}/"):
        assert url in responses, url


@pytest.mark.e2e
def test_pending_requests_wait_on_disk(crawled: Crawled) -> None:
    """Every request went through Scrapy's disk queue (none fell back to memory for being
    unpicklable), so the crawl's memory does not grow with the number of URLs discovered."""
    stats = crawled.result.stats
    assert stats["scheduler/enqueued/disk"] == stats["scheduler/enqueued"] > 40
    assert "scheduler/enqueued/memory" not in stats and "scheduler/unserializable" not in stats
    assert (crawled.run.dir / CRAWL_QUEUE_DIR / "requests.queue").is_dir()


@pytest.mark.e2e
def test_rotation_warcinfo_first_and_warcio_check(crawled: Crawled) -> None:
    files = crawled.result.warc_files
    assert len(files) >= 2  # rotated at 200 kB
    assert not list(crawled.run.warc_dir.glob("*.open"))
    for path in files:
        with open(path, "rb") as fh:
            first = next(iter(ArchiveIterator(fh)))
        assert first.rec_type == "warcinfo"
        check = warcio_check(path)
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.e2e
def test_bodies_recorded_as_received(crawled: Crawled) -> None:
    recs = records(crawled.result.warc_files)
    article = next(r for r in recs if r[0] == "response" and "iraq-to-join" in r[1])
    _, _, headers, block = article
    assert headers["_line"] == "HTTP/1.1 200 OK"
    assert headers.get("Content-Encoding") == "gzip"
    body = block  # raw_stream: the payload after the HTTP headers
    assert body[:2] == b"\x1f\x8b"  # still gzip, exactly as the server sent it
    request = next(r for r in recs if r[0] == "request" and "iraq-to-join" in r[1])
    assert request[2]["_line"].startswith("GET /2017/07/iraq-to-join-forces-with-iran-in/ HTTP/1.1")
    assert request[2]["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.e2e
def test_max_pages_limits_articles(replica: ReplicaServer, tmp_path: Path) -> None:
    profile = load_profile("replica", replica.base_url)
    run = RunPaths.create(tmp_path, "replica")
    result = run_crawl(profile, run, logging.getLogger("t"), max_pages=5)
    assert result.stats["newsvault/articles_fetched"] == 5
    assert result.stats["newsvault/articles_over_limit"] > 0


def test_unreachable_site_is_recorded_as_failed_not_crashing(tmp_path: Path) -> None:
    profile = load_profile("replica", "http://127.0.0.1:9")  # discard port: nothing listens
    run = RunPaths.create(tmp_path, "replica")
    result = run_crawl(profile, run, logging.getLogger("t"))
    assert result.exit_code == 0
    assert result.stats.get("newsvault/articles_fetched", 0) == 0
    assert result.stats["downloader/exception_count"] > 0


@pytest.mark.e2e
def test_crawl_subprocess_failure_raises_and_keeps_spool(
    replica: ReplicaServer, tmp_path: Path
) -> None:
    profile = load_profile("replica", replica.base_url)
    run = RunPaths.create(tmp_path, "replica")
    (run.dir / "keep.txt").write_text("earlier capture")
    with pytest.raises(CrawlError, match="exited with code"):
        run_crawl(profile, run, logging.getLogger("t"), warc_max_size=-1)
    assert (run.dir / "keep.txt").exists() and run.crawl_log.exists()


def test_crawl_env_drops_store_credentials() -> None:
    env = crawl_env({"AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_ACCESS_KEY_ID": "id", "PATH": "/bin"})
    assert "AWS_SECRET_ACCESS_KEY" not in env and "AWS_ACCESS_KEY_ID" not in env
    assert env["SCRAPY_SETTINGS_MODULE"] == "spiders.settings" and env["PATH"] == "/bin"


def test_forward_line_levels(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("t.forward")
    with caplog.at_level(logging.DEBUG, logger="t.forward"):
        level = forward_line(
            "2026-01-01 00:00:00 [scrapy.core.engine] INFO: Spider opened\n", logger, 20
        )
        assert level == logging.INFO
        level = forward_line(
            "2026-01-01 00:00:00 [scrapy.middleware] INFO: Enabled x\n", logger, 20
        )
        assert level == logging.DEBUG
        level = forward_line("2026-01-01 00:00:00 [scrapy.core.scraper] ERROR: boom\n", logger, 20)
        assert level == logging.ERROR
        assert forward_line("Traceback (most recent call last):\n", logger, level) == logging.ERROR
    assert [r.levelno for r in caplog.records] == [20, 10, 40, 40]


def test_robots_rules() -> None:
    rules = RobotsRules("newsvault")
    assert rules.allows("http://a.example/x")  # nothing known yet
    rules.set("a.example", "User-agent: *\nDisallow: /wp-admin/\n")
    assert rules.allows("http://a.example/2017/07/x/")
    assert not rules.allows("http://a.example/wp-admin/edit.php")
    rules.set("b.example", None)  # robots.txt answered 5xx: everything disallowed
    assert not rules.allows("http://b.example/")
