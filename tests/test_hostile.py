"""Hostile sites: a poison document is that document's failure, every run is bounded.

A replica behaviour (the hostile server) breaks chosen documents on their way out: a broken
URL (``http://[::1/oops/``) in a sitemap ``<loc>``, a feed ``<link>`` and a listing, empty,
truncated, binary and corrupt-gzip sitemaps, a sitemap-index chain, a listing trap. The crawls
are real Scrapy subprocesses against it over HTTP.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.derive.process import process_warcs
from flows.errors import ConfigError
from flows.orchestrate.crawl import CrawlResult, run_crawl
from flows.orchestrate.health import crawl_problems
from flows.sites import load_profile
from flows.state.lock import Owner, process_identity
from flows.store.runs import RunPaths
from flows.store.s3 import StoreConfig
from flows.warc import write_run_index
from infra.local import processes
from infra.local.control import LocalStack
from infra.replica import Behaviour, Request
from infra.replica.content import Site
from infra.replica.response import Response
from infra.replica.server import ReplicaServer
from tests.helpers import cli_env, newsvault, objects, run_report

BROKEN = "http://[::1/oops/"
BAD_SITEMAPS = ("/bad-empty.xml", "/bad-truncated.xml", "/bad-binary.xml", "/bad-corrupt.xml.gz")
SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
Rewrite = Callable[[str, Response], Response | None]


def _xml(body: bytes | str) -> Response:
    data = body.encode() if isinstance(body, str) else body
    return Response(200, "application/xml; charset=UTF-8", data)


def _insert(response: Response, before: bytes, extra: str) -> Response:
    at = response.body.find(before)
    assert at >= 0, before
    body = response.body[:at] + extra.encode() + response.body[at:]
    return Response(response.status, response.content_type, body, response.last_modified)


def poison(target: str, response: Response) -> Response | None:
    """The probe's poison documents, each in a document that also names good ones."""
    if target == "/sitemap_index.xml":
        named = "".join(f"<sitemap><loc>{{base}}{p}</loc></sitemap>" for p in BAD_SITEMAPS)
        extra = f"<sitemap><loc>{BROKEN}</loc></sitemap>" + named
        return _insert(response, b"</sitemapindex>", extra)
    if re.match(r"^/post-sitemap\d*\.xml$", target):
        return _insert(response, b"<url>", f"<url><loc>{BROKEN}</loc></url>")
    if target == "/feed/":
        return _insert(response, b"<item>", f"<item><link>{BROKEN}</link></item>")
    if target == "/":
        return _insert(response, b"<a ", f'<a href="{BROKEN}">broken</a>')
    if target == "/bad-empty.xml":
        return _xml(b"")
    if target == "/bad-truncated.xml":
        return _xml(f"<?xml version='1.0'?><urlset {SM}><url><loc>http://h/2017/0")
    if target == "/bad-binary.xml":
        return _xml(bytes(range(256)) * 8)
    if target == "/bad-corrupt.xml.gz":
        whole = gzip.compress(f"<urlset {SM}><url><loc>/x/</loc></url></urlset>".encode())
        return Response(200, "application/x-gzip", whole[:10] + b"\x00garbage" + whole[18:])
    return None


class Hostile(Behaviour):
    """Serves what ``rewrite(target, response)`` returns instead of the replica's response,
    ``{base}`` in it replaced by the server's base URL."""

    def __init__(self, rewrite: Rewrite) -> None:
        self.rewrite = rewrite

    def respond(self, request: Request, response: Response) -> Response:
        got = self.rewrite(request.target, response)
        if got is None:
            return response
        body = got.body.replace(b"{base}", request.base.encode())
        return Response(got.status, got.content_type, body, got.last_modified, got.headers)


def write_profile(directory: Path, name: str, **sections: dict[str, Any]) -> None:
    """A copy of the replica profile under another name, with some tables replaced."""
    text = Path("spiders/profiles/replica.toml").read_text()
    text = text.replace('name = "replica"', f'name = "{name}"')
    for table, values in sections.items():
        body = "\n".join(f"{k} = {_toml(v)}" for k, v in values.items())
        text = re.sub(rf"(?ms)^\[{table}\].*?(?=^\[|\Z)", "", text) + f"\n[{table}]\n{body}\n"
    (directory / f"{name}.toml").write_text(text)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def crawl(server: ReplicaServer, site: str, tmp_path: Path, **kwargs: Any) -> CrawlResult:
    profile = load_profile(site, server.base_url)
    run = RunPaths.create(tmp_path / "spool", site)
    return run_crawl(profile, run, logging.getLogger("t"), **kwargs)


def failed_urls(result: CrawlResult) -> list[str]:
    return [str(item) for item in result.stats.get("newsvault/fetch_failures", [])]


@pytest.mark.e2e
def test_poison_documents_fail_alone_and_the_rest_is_crawled(tmp_path: Path) -> None:
    with ReplicaServer(articles=12, seed=5, behaviour=Hostile(poison)) as server:
        result = crawl(server, "replica", tmp_path)
    stats = result.stats
    assert result.exit_code == 0 and stats["finish_reason"] == "finished"
    # a truncated sitemap is read as far as it goes; the others are each one failure
    assert stats["newsvault/sitemaps_invalid"] == len(BAD_SITEMAPS) - 1
    # the broken URL in the index, each post sitemap, the feed and the listing: each alone
    assert stats["newsvault/urls_invalid"] >= 4
    assert stats["newsvault/articles_fetched"] == 12  # every article after the broken URLs too
    failures = failed_urls(result)
    for path in set(BAD_SITEMAPS) - {"/bad-truncated.xml"}:
        assert any("unreadable sitemap" in f and f.endswith(path) for f in failures), path
    for source in ("/sitemap_index.xml", "/post-sitemap.xml", "/feed/", r"\d/"):  # "/": listing
        named = re.compile(
            rf"unusable URL.* \| {re.escape(BROKEN)} \(named by http://.*{source}\)$"
        )
        assert any(named.match(f) for f in failures), (source, failures)
    assert "log_count/ERROR" not in stats  # no traceback: warnings naming the document
    assert crawl_problems("replica", stats) == []  # reported, never a failed run
    # processing reads the same WARCs without an error; the unread sitemaps keep the listing
    # incomplete, so nothing is judged deleted by its absence
    run = RunPaths(tmp_path / "spool", "replica", next((tmp_path / "spool/replica").iterdir()).name)
    processed = process_warcs(run.warc_files(), load_profile("replica"), run.run_id, str)
    assert len(processed.records) == 12 and not processed.listing.complete


# ----- bounded runs ------------------------------------------------------------------------------

QUIET = {"robots_txt": False, "sitemaps": [], "feeds": [], "listings": []}


def _html(body: str) -> Response:
    return Response(200, "text/html; charset=utf-8", f"<html><body>{body}</body></html>".encode())


def chain(target: str, response: Response) -> Response | None:
    """A sitemap index that names the next index, forever."""
    found = re.match(r"^/chain/(\d+)\.xml$", target)
    if not found:
        return None
    following = f"{{base}}/chain/{int(found.group(1)) + 1}.xml"
    return _xml(f"<sitemapindex {SM}><sitemap><loc>{following}</loc></sitemap></sitemapindex>")


def trap(target: str, response: Response) -> Response | None:
    """A listing whose every page links two new, deeper pages."""
    if not target.startswith("/trap/"):
        return None
    return _html(f'<a href="{target}x/page/2/">2</a> <a href="{target}y/page/3/">3</a>')


@pytest.mark.e2e
def test_a_sitemap_index_chain_ends_at_its_depth(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(tmp_path, "chain", discovery={**QUIET, "sitemaps": ["/chain/0.xml"]})
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))
    with ReplicaServer(articles=3, behaviour=Hostile(chain)) as server:
        result = crawl(server, "chain", tmp_path)
    stats = result.stats
    assert stats["newsvault/sitemaps"] == 4  # depth 0 to 3 ([budget] sitemap_depth = 3)
    assert stats["newsvault/sitemaps_over_budget"] == 1
    assert any("/chain/4.xml" in f and "sitemap_depth" in f for f in failed_urls(result))
    assert any("beyond the run budget" in p for p in crawl_problems("chain", stats))


@pytest.mark.e2e
def test_sitemaps_followed_are_budgeted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile(
        tmp_path,
        "chain",
        discovery={**QUIET, "sitemaps": ["/chain/0.xml"]},
        budget={"sitemaps": 5, "sitemap_depth": 0},
    )
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))
    with ReplicaServer(articles=3, behaviour=Hostile(chain)) as server:
        result = crawl(server, "chain", tmp_path)
    assert result.stats["newsvault/budget_reached"] == "sitemaps: 5 followed"
    assert result.finish_reason == "budget: sitemaps: 5 followed"
    assert any("sitemaps: 5 followed" in p for p in crawl_problems("chain", result.stats))


@pytest.mark.e2e
def test_a_listing_trap_ends_at_its_depth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile(tmp_path, "trap", discovery={**QUIET, "listings": ["/trap/"]})
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))
    with ReplicaServer(articles=3, behaviour=Hostile(trap)) as server:
        result = crawl(server, "trap", tmp_path)
    stats = result.stats
    assert result.finish_reason == "finished"
    assert stats["newsvault/listings"] == 63  # depth 0 to 5, two new pages each
    assert stats["newsvault/listings_over_budget"] == 64
    assert any("beyond the run budget" in p for p in crawl_problems("trap", stats))


@pytest.mark.e2e
def test_requests_are_budgeted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile(tmp_path, "small", budget={"requests": 10})
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))
    with ReplicaServer(articles=40) as server:
        result = crawl(server, "small", tmp_path)
    reached = str(result.stats["newsvault/budget_reached"])
    assert reached.startswith("requests: ") and reached.endswith(" of 10")
    assert result.finish_reason == f"budget: {reached}"
    assert result.stats.get("newsvault/articles_fetched", 0) < 40
    assert any("run budget was reached" in p for p in crawl_problems("small", result.stats))


@pytest.mark.e2e
def test_a_backtracking_pattern_runs_in_linear_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(tmp_path, "greedy", discovery={"article_pattern": r"^(/?[\w-]+)+/$"})
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))
    profile = load_profile("greedy")
    # 28 characters that make a backtracking engine try 2**27 ways: RE2 answers at once
    assert not profile.is_article_url("http://h/" + "a" * 27 + "!")
    with ReplicaServer(articles=5) as server:
        result = crawl(server, "greedy", tmp_path)
    assert result.finish_reason == "finished"


def test_patterns_re2_cannot_run_are_refused_when_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(tmp_path, "look", discovery={"article_pattern": r"^/(?!tag/)\w+/$"})
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))
    with pytest.raises(ConfigError, match=r"article_pattern is not a regex RE2 runs"):
        load_profile("look")


# ----- --max-pages counts pages fetched ----------------------------------------------------------


class Listed(Behaviour):
    """One sitemap: ``old`` articles (lastmod long ago) first, then ``new`` ones (today)."""

    def __init__(self, old: list[str], new: list[str]) -> None:
        self.old, self.new = old, new

    def respond(self, request: Request, response: Response) -> Response:
        if request.target != "/lm-sitemap.xml":
            return response
        entries = [(p, "2001-01-01T00:00:00+00:00") for p in self.old]
        entries += [(p, datetime.now(UTC).isoformat()) for p in self.new]
        urls = "".join(
            f"<url><loc>{request.base}{p}</loc><lastmod>{m}</lastmod></url>" for p, m in entries
        )
        return _xml(f"<urlset {SM}>{urls}</urlset>")


@pytest.mark.e2e
def test_max_pages_counts_pages_fetched_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_profile(tmp_path, "lastmod", discovery={**QUIET, "sitemaps": ["/lm-sitemap.xml"]})
    monkeypatch.setenv("NEWSVAULT_PROFILES", str(tmp_path))
    site = Site(articles=103, seed=9)
    paths = [a.path for a in site.iter_articles()]
    old, new = paths[:100], paths[100:]
    listed = Listed(old, [])
    with ReplicaServer(site=site, behaviour=listed) as server:
        first = crawl(server, "lastmod", tmp_path)
        assert first.stats["newsvault/articles_fetched"] == 100
        earlier = RunPaths(tmp_path / "spool", "lastmod", first.warc_files[0].parent.parent.name)
        profile = load_profile("lastmod", server.base_url)
        run = RunPaths.create(tmp_path / "spool", "lastmod")
        write_run_index(earlier.warc_files(), run.prior_captures)
        listed.new = new
        second = run_crawl(profile, run, logging.getLogger("t"), max_pages=5)
        base = server.base_url
    stats = second.stats
    assert stats["newsvault/articles_unchanged_by_lastmod"] == 100
    assert stats["newsvault/articles_fetched"] == 3
    fetched = {r[1] for r in _responses(run.warc_files())}
    assert {base + p for p in new} <= fetched


def _responses(warcs: list[Path]) -> list[tuple[str, str]]:
    found = []
    for path in warcs:
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh):
                if record.rec_type in ("response", "revisit"):
                    found.append((record.rec_type, record.rec_headers["WARC-Target-URI"] or ""))
    return found


# ----- secrets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://KEY:hunter2@127.0.0.1:8333",
        "http://hunter2@127.0.0.1:8333",
        "http://[::1:hunter2@x/",
    ],
)
def test_credentials_in_the_endpoint_are_refused_without_printing_them(endpoint: str) -> None:
    with pytest.raises(ConfigError) as refused:
        StoreConfig.from_env({"NEWSVAULT_S3_ENDPOINT": endpoint})
    assert "hunter2" not in str(refused.value) and "\n" not in str(refused.value)


def test_a_plain_endpoint_is_kept() -> None:
    config = StoreConfig.from_env({"NEWSVAULT_S3_ENDPOINT": "http://127.0.0.1:8333"})
    assert config.endpoint == "http://127.0.0.1:8333"


# ----- the real stack: a poisoned site is archived, listed, and never wedged ---------------------


def _orphan(spool: Path, run_id: str, attempts: int) -> RunPaths:
    """A spooled run its flow never processed, whose one WARC file is not a WARC: processing it
    fails every time (its digest index cannot be built)."""
    run = RunPaths.create(spool, "replica", run_id)
    (run.warc_dir / f"replica-{run_id}-00000.warc.gz").write_bytes(b"not a WARC file\n" * 64)
    if attempts:
        (run.dir / "recovery-attempts").write_text(f"{attempts}\n")
    return run


@pytest.mark.e2e
def test_a_poisoned_site_is_archived_and_the_next_run_is_not_blocked(
    stack: LocalStack, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    env = cli_env(stack, spool, NEWSVAULT_S3_PREFIX="hostile")
    once = _orphan(spool, "20260101T000000Z-aaaaaa", attempts=0)
    last = _orphan(spool, "20260101T000001Z-bbbbbb", attempts=2)
    runs: list[str] = []
    with ReplicaServer(articles=12, seed=5, behaviour=Hostile(poison)) as server:
        for attempt in range(2):
            proc = newsvault("run", "replica", "--base-url", server.base_url, env=env)
            # the run is archived and completes: the bad documents are in its report
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
            archived = {k.split("/")[4] for k in objects(stack, "hostile/sites/replica/runs/")}
            (new,) = archived - set(runs)
            runs.append(new)
            report = run_report(stack, new)
            if attempt == 0:  # every article, past the broken links
                assert "| articles written | 12 |" in report, report
            else:  # crawled again, conditionally: nothing wedged
                assert "304: 12" in report, report
            for path in ("/bad-empty.xml", "/bad-binary.xml", "/bad-corrupt.xml.gz"):
                assert f"{server.base_url}{path}" in report
            assert f"{BROKEN} (named by {server.base_url}/feed/)" in report
    # the orphan at its third failed attempt went to quarantine, kept with its reason
    kept = spool / "replica" / "quarantine" / last.run_id
    assert (kept / "QUARANTINED").read_text().startswith("3 failed attempts")
    assert not last.dir.exists()
    # the other one is retried a bounded number of times: twice by now, once more, then kept
    assert (once.dir / "recovery-attempts").read_text().strip() == "2"


# ----- locks: a live run's lease is never taken over ---------------------------------------------


def _owner(pid: int, process: str) -> Owner:
    now = datetime.now(UTC)
    expires = (now + timedelta(hours=1)).isoformat(timespec="seconds")
    return Owner(
        socket.gethostname(), pid, "t", now.isoformat(timespec="seconds"), expires, process
    )


def test_a_lock_is_only_taken_from_a_process_provably_gone() -> None:
    now = datetime.now(UTC)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=-1)
    identity = process_identity(child.pid)
    assert identity
    assert _owner(child.pid, identity).stale_because(now) is None  # alive: never taken
    child.communicate(b"")
    assert "is gone" in str(_owner(child.pid, identity).stale_because(now))
    # the same hostname and a free pid, but another pid namespace (a container) or another
    # boot, or a lock written before identities: only the expiry can tell
    boot, namespace, started = identity.split("/")
    for other in (f"{boot}/1/{started}", f"other-boot/{namespace}/{started}", ""):
        assert _owner(child.pid, other).stale_because(now) is None, other
    # a pid reused by another process is not the owner
    assert "is gone" in str(_owner(os.getpid(), f"{boot}/{namespace}/1").stale_because(now))


# ----- nothing dropped silently ------------------------------------------------------------------


def odd_charsets(target: str, response: Response) -> Response | None:
    """Article pages that declare ``rot13`` or ``base64``: codecs, but no text encodings."""
    if not re.match(r"^/\d{4}/", target):
        return None
    charset = "rot13" if len(target) % 2 else "base64"
    body, modified = response.body, response.last_modified
    return Response(200, f"text/html; charset={charset}", body, modified)


@pytest.mark.e2e
def test_pages_declaring_codecs_are_fetched_and_counted(tmp_path: Path) -> None:
    with ReplicaServer(articles=4, behaviour=Hostile(odd_charsets)) as server:
        result = crawl(server, "replica", tmp_path)
    stats = result.stats
    assert stats["newsvault/articles_fetched"] == 4 and "newsvault/fetch_failed" not in stats
    assert stats["newsvault/charsets_not_text"] == 4


@pytest.mark.e2e
def test_urls_over_2083_characters_are_named(tmp_path: Path) -> None:
    long = "/2017/07/" + "x" * 2100 + "/"

    def listed(target: str, response: Response) -> Response | None:
        return _insert(response, b"<a ", f'<a href="{long}">long</a>') if target == "/" else None

    with ReplicaServer(articles=3, behaviour=Hostile(listed)) as server:
        result = crawl(server, "replica", tmp_path)
    assert result.stats["newsvault/urls_too_long"] == 1
    assert any("characters (over 2083): not fetched" in f for f in failed_urls(result))


def test_pid_files_are_only_removed_in_the_pid_namespace_that_wrote_them(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a pid that is gone (here)
    pid_file = tmp_path / "weed.pid"
    pid_file.write_text(f"{child.pid}\nsome-boot/4026531999\n")  # another container's stack
    assert processes.our_pid(pid_file, lambda pid: True) is None
    assert pid_file.exists()  # not ours to judge: left for the stack that wrote it
    processes.write_pid(pid_file, child.pid)
    assert processes.read_pid(pid_file) == child.pid
    assert processes.our_pid(pid_file, lambda pid: True) is None
    assert not pid_file.exists()  # written here, its process gone: stale, removed
