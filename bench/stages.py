"""What the benchmark rows share: their sizes, the unthrottled replica profile, a work dir.

The rows, each measuring one stage against a baseline measured in the same run, live in one
module per stage: ``stage_crawl`` (B1 recording overhead, H server headroom), ``stage_clean``
(B2 processing), ``stage_flow`` (B3 end to end in a fresh worker process per size, so each size's
memory is its own, the flow without Prefect being ``flowrun.archive_once``; B4 incremental rerun
and B6 replay from S3, both in the smaller size's worker after its first run), ``stage_upload``
(B5 upload), ``stage_requisites`` (R page requisites).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from flows.sites import SiteProfile, load_profile

BENCH_CONCURRENCY = 64  # "unthrottled": no delay, no autothrottle, many requests in flight
CRAWL_LOG = logging.getLogger("bench.crawl")
CRAWL_LOG.setLevel(logging.WARNING)


@dataclass(frozen=True)
class Sizes:
    """Site sizes and repetitions; ``quick`` is a smoke run of about two minutes."""

    b1_articles: int = 5000
    b1_rounds: int = 5  # the machine's speed drifts by 10-30 % between crawls: more rounds
    b2_pages: int = 300
    b3_articles: tuple[int, int] = (5000, 20000)
    b5_bytes: int = 220 * 1024 * 1024
    b5_rounds: int = 3
    headroom_seconds: int = 10
    b6_rounds: int = 1
    r_articles: int = 2000  # R: per-page costs, so a smaller site than B1/B4's

    @classmethod
    def quick(cls) -> Sizes:
        return cls(
            b1_articles=600,
            b1_rounds=1,
            b2_pages=60,
            b3_articles=(300, 1200),
            b5_bytes=24 * 1024 * 1024,
            b5_rounds=1,
            headroom_seconds=3,
            r_articles=300,
        )

    def with_articles(self, articles: int) -> Sizes:
        """``run.py --articles N``: one site size for B1, R and B3's smaller size (B4, B6)."""
        return replace(
            self,
            b1_articles=articles,
            r_articles=articles,
            b3_articles=(articles, self.b3_articles[1]),
        )


def bench_profile(base_url: str) -> SiteProfile:
    """The ``replica`` profile pointed at the bench replica, unthrottled."""
    profile = load_profile("replica", base_url)
    politeness = replace(
        profile.politeness,
        download_delay=0.0,
        autothrottle=False,
        concurrent_requests=BENCH_CONCURRENCY,
    )
    return replace(profile, politeness=politeness)


def new_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="nv-bench-work-", dir="/tmp"))
