"""R page requisites: what archiving what pages load costs a first run (requisites on against
off, same replica) and an unchanged rerun (requisites re-checked at most once per
``[requisites] refresh_hours``, so about nothing)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowrun import warc_breakdown
from harness import ReplicaProcess, Row
from stages import Sizes, bench_profile

from flows.orchestrate.crawl import crawl_command, crawl_env
from flows.sites import SiteProfile
from flows.sites.profile import available_profiles
from flows.store.runs import RunPaths
from flows.warc.captures import write_run_index

PAGE_CATEGORIES = ("articles", "listings")  # the pages requisites are fetched for (home: listing)


@dataclass(frozen=True)
class Crawl:
    requests: int
    warc_bytes: int
    pages: int  # article and listing pages requested
    stats: dict[str, Any]

    def requisites(self, what: str) -> int:
        return int(self.stats.get(f"newsvault/requisites_{what}", 0))

    @property
    def requisite_requests(self) -> int:
        """Requests made for requisites: each ends archived, unchanged (304) or failed."""
        return sum(self.requisites(k) for k in ("archived", "unchanged", "failed"))


def profiles_without_requisites(name: str, directory: Path) -> Path:
    """A profile directory holding ``name``'s profile with ``[requisites] enabled = false``."""
    text = available_profiles()[name].read_text(encoding="utf-8")
    section = re.compile(r"^\[requisites\][^\n]*$", re.M)
    if section.search(text):
        text = section.sub(lambda m: m.group(0) + "\nenabled = false", text, count=1)
    else:
        text += "\n[requisites]\nenabled = false\n"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.toml").write_text(text, encoding="utf-8")
    return directory


def crawl_once(
    profile: SiteProfile, spool: Path, *, profiles: Path | None, prior: Path | None
) -> tuple[Crawl, RunPaths]:
    """One recorded ``scrapy crawl news`` (as the flow builds it); ``profiles`` overrides the
    profile directory, ``prior`` is the digest index of what is already archived."""
    run = RunPaths.create(spool, profile.name)
    if prior is not None:
        shutil.copyfile(prior, run.prior_captures)
    env = crawl_env()
    if profiles is not None:
        env["NEWSVAULT_PROFILES"] = str(profiles)
    with open(run.crawl_log, "wb") as log:
        cmd = crawl_command(profile, run)
        code = subprocess.call(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    if code != 0:
        raise RuntimeError(f"crawl exited with {code}; see {run.crawl_log}")
    stats = json.loads(run.stats.read_text(encoding="utf-8"))
    warcs = run.warc_files()
    breakdown = warc_breakdown(warcs, profile)
    crawl = Crawl(
        int(stats.get("downloader/request_count", 0)),
        sum(p.stat().st_size for p in warcs),
        sum(breakdown.get(c, (0, 0))[0] for c in PAGE_CATEGORIES),
        stats,
    )
    return crawl, run


def r_requisites(sizes: Sizes, spool: Path) -> list[Row]:
    with ReplicaProcess(sizes.r_articles) as replica:
        profile = bench_profile(replica.base_url)
        without = profiles_without_requisites(profile.name, spool / "profiles-no-requisites")
        off, run = crawl_once(profile, spool, profiles=without, prior=None)
        shutil.rmtree(run.dir)
        on, run = crawl_once(profile, spool, profiles=None, prior=None)
        captures = spool / "captures.jsonl.gz"
        write_run_index(run.warc_files(), captures)  # what the first run archived
        shutil.rmtree(run.dir)
        rerun, run = crawl_once(profile, spool, profiles=None, prior=captures)
        shutil.rmtree(run.dir)
        captures.unlink()
        shutil.rmtree(without)
    return r_rows(sizes.r_articles, off, on, rerun, profile.requisites.refresh_hours)


def r_rows(articles: int, off: Crawl, on: Crawl, rerun: Crawl, refresh_hours: float) -> list[Row]:
    pages = max(off.pages, 1)
    extra_requests = on.requests - off.requests
    extra_bytes = on.warc_bytes - off.warc_bytes
    first = Row(
        "R",
        f"page requisites, first run ({articles} articles): extra requests per page",
        measured=f"{extra_requests / pages:.2f} requests, {extra_bytes / pages / 1e3:.1f} kB",
        baseline=f"{off.requests} requests, {off.warc_bytes / 1e6:.0f} MB (requisites off)",
        ratio=on.requests / max(off.requests, 1),
    )
    first.notes.append(
        f"first run with requisites on vs off on the same replica (the profile's "
        f"[requisites] enabled = false in a copy): {on.requests} vs {off.requests} requests, "
        f"{on.warc_bytes / 1e6:.1f} vs {off.warc_bytes / 1e6:.1f} MB of WARC; per page = per "
        f"article or listing page requested ({off.pages}); requisites {on.requisites('archived')} "
        f"archived, {on.requisites('excluded')} excluded by policy, {on.requisites('failed')} "
        f"failed; ratio = all requests on / off"
    )
    second = Row(
        "R",
        f"page requisites, unchanged rerun ({articles} articles): requisite requests",
        measured=f"{rerun.requisite_requests} requests",
        baseline=f"{on.requests} (first run, all requests)",
        ratio=rerun.requisite_requests / max(on.requests, 1),
        target=0.02,
        higher_is_better=False,
    )
    second.notes.append(
        f"a rerun right after the first, with its digest index as the prior captures (as the "
        f"flow hands them on): {rerun.requests} requests in all, of them for requisites "
        f"{rerun.requisites('archived')} archived, {rerun.requisites('unchanged')} answered 304, "
        f"{rerun.requisites('failed')} failed; {rerun.requisites('rechecked')} re-checked, "
        f"{rerun.requisites('fresh')} not asked (captured within refresh_hours = "
        f"{refresh_hours:g}); target: B4's budget for the whole rerun"
    )
    return [first, second]
