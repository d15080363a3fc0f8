"""M and MR: peak memory of a run with a 30 MB page, or an 8.6 MB robots.txt, against the same
run without it.

Each variant runs in a fresh worker process (``python bench/stage_memory.py --worker ...``): the
crawl (its Scrapy subprocess) and then the processing of its WARC files in-process
(``process_warcs``, as the archive flow does), against a replica served by this process whose
article pages are the replica's own, one of them padded to ``PAGE_BYTES`` inside its post body
in the variant with the big page (MR: the replica's robots.txt with ``ROBOTS_BYTES`` of
``Disallow:`` lines before its ``Sitemap:`` lines). The peak resident sizes come from
``getrusage`` (the worker's own and its largest child's, the crawl). The target: peak with the
big document <= 1.5x the peak without it plus the document's size, for the crawl and for the
processing (issue 14).

Usage: ``.venv/bin/python bench/stage_memory.py [M|MR]`` prints the row; ``bench/run.py --only
M,MR`` too.
"""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from harness import Row

from flows.derive import process_warcs
from flows.orchestrate.crawl import run_crawl
from flows.sites import SiteProfile, load_profile
from flows.store import RunPaths
from infra.replica import Behaviour, Request
from infra.replica.response import Response
from infra.replica.server import ReplicaServer

PAGE_BYTES = 30 * 1024 * 1024
ROBOTS_BYTES = 8_600_000
ARTICLES = 40
REPO = Path(__file__).resolve().parents[1]


class BigPage(Behaviour):
    """The first article page served grows to ``PAGE_BYTES`` of paragraphs in its post body."""

    def __init__(self) -> None:
        self.target: str | None = None

    def respond(self, request: Request, response: Response) -> Response:
        if not request.target.startswith("/20") or response.status != 200:
            return response
        if self.target is None:
            self.target = request.target
        if request.target != self.target:
            return response
        marker = b'<div class="td-post-content'
        at = response.body.find(marker)
        at = response.body.find(b">", at) + 1 if at >= 0 else len(response.body) // 2
        paragraph = b"<p>The minister said the agreement covers training and exchanges.</p>\n"
        padding = paragraph * (PAGE_BYTES // len(paragraph))
        body = response.body[:at] + padding + response.body[at:]
        return Response(200, response.content_type, body, response.last_modified, response.headers)


class BigRobots(Behaviour):
    """robots.txt grows to ``ROBOTS_BYTES`` of rules, its Sitemap: lines last."""

    def respond(self, request: Request, response: Response) -> Response:
        if request.target != "/robots.txt" or response.status != 200:
            return response
        rules = b"".join(b"Disallow: /private/%07d/\n" % i for i in range(ROBOTS_BYTES // 27))
        body = b"User-agent: *\n" + rules + response.body
        return Response(200, response.content_type, body, response.last_modified, response.headers)


def worker(base_url: str, spool: Path) -> dict[str, int]:
    profile: SiteProfile = load_profile("replica", base_url)
    run = RunPaths.create(spool, "replica")
    run_crawl(profile, run, logging.getLogger("bench"))
    crawl_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = process_warcs(run.warc_files(), profile, run.run_id, str)
    process_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "crawl_peak": crawl_peak,
        "process_peak": process_peak,
        "before_processing": before,
        "articles": len(result.records),
        "warc_bytes": sum(p.stat().st_size for p in run.warc_files()),
    }


def measure(behaviour: Behaviour) -> dict[str, int]:
    with (
        tempfile.TemporaryDirectory(prefix="nv-bench-mem-") as spool,
        ReplicaServer(articles=ARTICLES, seed=4, behaviour=behaviour) as server,
    ):
        cmd = [sys.executable, __file__, "--worker", server.base_url, spool]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO).stdout
    data: dict[str, int] = json.loads(out.strip().splitlines()[-1])
    return data


def m_memory() -> Row:
    plain, big = measure(Behaviour()), measure(BigPage())
    mib = 1024 * 1024
    limit_crawl = 1.5 * plain["crawl_peak"] + PAGE_BYTES
    limit_process = 1.5 * plain["process_peak"] + PAGE_BYTES
    ratio = max(big["crawl_peak"] / limit_crawl, big["process_peak"] / limit_process)
    return Row(
        "M",
        f"peak memory with a {PAGE_BYTES // mib} MB page (crawl, processing)",
        measured=f"{big['crawl_peak'] / mib:.0f} / {big['process_peak'] / mib:.0f} MiB",
        baseline=f"{plain['crawl_peak'] / mib:.0f} / {plain['process_peak'] / mib:.0f} MiB",
        ratio=ratio,
        target=1.0,
        higher_is_better=False,
        notes=[
            f"M: ratio = peak with the page / (1.5 x peak without it + {PAGE_BYTES // mib} MiB), "
            f"the worse of crawl and processing; {ARTICLES} replica articles, "
            f"{big['articles']} / {plain['articles']} cleaned; WARC bytes "
            f"{big['warc_bytes']:,} / {plain['warc_bytes']:,}",
        ],
    )


def mr_memory() -> Row:
    plain, big = measure(Behaviour()), measure(BigRobots())
    mib = 1024 * 1024
    ratio = big["crawl_peak"] / (1.5 * plain["crawl_peak"] + ROBOTS_BYTES)
    return Row(
        "MR",
        f"peak memory of the crawl with a {ROBOTS_BYTES / 1e6:.1f} MB robots.txt",
        measured=f"{big['crawl_peak'] / mib:.0f} MiB",
        baseline=f"{plain['crawl_peak'] / mib:.0f} MiB",
        ratio=ratio,
        target=1.0,
        higher_is_better=False,
        notes=[
            f"MR: ratio = crawl peak with the robots.txt / (1.5 x peak without it + "
            f"{ROBOTS_BYTES:,} bytes); rules past 500 KiB ignored (RFC 9309 2.5), Sitemap: "
            f"lines all read: {big['articles']} / {plain['articles']} articles cleaned",
        ],
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], Path(sys.argv[3]))))
    else:
        row = mr_memory() if sys.argv[1:] == ["MR"] else m_memory()
        print(row.key, row.name, row.measured, row.baseline, f"{row.ratio:.2f}", row.notes)
