"""Which pages of a run QA looks at: the home page, a listing and articles, drawn from the run's
replay index (then earlier runs' when it captured too few), the same for the same run id every
time (ranked by a hash of run id and URL, not by crawl order or chance)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flows.sites import SiteProfile

KINDS = ("home", "listing", "article")


@dataclass(frozen=True)
class Page:
    url: str
    kind: str  # one of KINDS
    timestamp: str  # the capture's 14-digit time in the run (a replay URL's timestamp)


def _rank(run_id: str, url: str) -> str:
    return hashlib.sha256(f"{run_id} {url}".encode()).hexdigest()


def _kind(profile: SiteProfile, url: str, html: bool) -> str | None:
    """home, article or listing; None for what is no page (requisites, feeds, sitemaps)."""
    parts = urlsplit(url)
    if not profile.allows(url) or not parts.path.endswith("/"):
        return None
    if parts.path == "/" and not parts.query:
        return "home"
    if profile.is_article_url(url):
        return "article"
    feeds = {urlsplit(profile.url(f)).path for f in profile.discovery.feeds}
    amp = parts.path.endswith("/amp/")  # an article's AMP variant: neither kind
    return "listing" if html and not amp and parts.path not in feeds else None


def pages_of(profile: SiteProfile, lines: Iterable[str]) -> dict[str, Page]:
    """The run's pages that replay (status 200: fetched, or a 304 re-check resolved to the capture
    it confirmed), by URL; the latest capture of each."""
    found: dict[str, Page] = {}
    for line in lines:
        try:
            _key, ts, rest = line.split(" ", 2)
            data = json.loads(rest)
        except ValueError:
            continue
        if not isinstance(data, dict) or str(data.get("status", "")) != "200":
            continue
        url, mime = str(data.get("url", "")), str(data.get("mime", ""))
        # an identical-payload revisit replays its payload (pywb resolves it): no mime of its own
        kind = _kind(profile, url, "html" in mime or mime == "warc/revisit")
        if kind and (url not in found or found[url].timestamp < ts):
            found[url] = Page(url, kind, ts)
    return found


def choose(pages: dict[str, Page], run_id: str, size: int) -> list[Page]:
    """The home page and one listing when captured, articles for the rest (more listings when
    articles run short), each kind ranked by ``_rank``."""
    by_kind = {
        kind: sorted(
            (p for p in pages.values() if p.kind == kind), key=lambda p: _rank(run_id, p.url)
        )
        for kind in KINDS
    }
    chosen = [*by_kind["home"][:1], *by_kind["listing"][:1]][:size]
    rest = [*by_kind["article"], *by_kind["listing"][1:]]
    return chosen + rest[: max(size - len(chosen), 0)]


def sample_run(profile: SiteProfile, index_dir: Path, run_id: str, size: int) -> list[Page]:
    """``size`` pages of the run whose replay index is ``index_dir/{run_id}.cdxj`` (the
    mirror's). An incremental run re-checks few pages: when it captured fewer than ``size``, the
    rest are pages of earlier runs at their latest capture (what a reader of the archive sees
    after this run)."""
    with open(index_dir / f"{run_id}.cdxj", encoding="utf-8") as fh:
        own = pages_of(profile, fh)
    chosen = choose(own, run_id, size)
    if len(chosen) < size:
        older: dict[str, Page] = {}
        for path in sorted(index_dir.glob("*.cdxj")):
            if path.stem < run_id:
                with open(path, encoding="utf-8") as fh:
                    older.update(pages_of(profile, fh))
        rest = {url: page for url, page in older.items() if url not in own}
        chosen += choose(rest, run_id, size - len(chosen))
    return chosen
