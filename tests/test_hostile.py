"""Hostile sites: a poison document is that document's failure, every run is bounded.

A replica behaviour (the hostile server) breaks chosen documents on their way out: a broken
URL (``http://[::1/oops/``) in a sitemap ``<loc>``, a feed ``<link>`` and a listing, empty,
truncated, binary and corrupt-gzip sitemaps, a sitemap-index chain, a listing trap. The crawls
are real Scrapy subprocesses against it over HTTP.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flows.derive.process import process_warcs
from flows.orchestrate.crawl import CrawlResult, run_crawl
from flows.orchestrate.health import crawl_problems
from flows.sites import load_profile
from flows.store.runs import RunPaths
from infra.replica import Behaviour, Request
from infra.replica.routes import Response
from infra.replica.server import ReplicaServer

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
    problems = crawl_problems("replica", stats)
    assert any("3 sitemaps" in p for p in problems), problems
    # processing reads the same WARCs without an error; the unread sitemaps keep the listing
    # incomplete, so nothing is judged deleted by its absence
    run = RunPaths(tmp_path / "spool", "replica", next((tmp_path / "spool/replica").iterdir()).name)
    processed = process_warcs(run.warc_files(), load_profile("replica"), run.run_id, str)
    assert len(processed.records) == 12 and not processed.listing.complete
