"""Browsertrix's replay-QA measures of one page, live against replayed (its
``src/replaycrawler.ts``), plus the one it has no name for: requests that left the replay server.

- ``text_match``: ``1 - Levenshtein distance / max length`` over the visible text;
- ``screenshot_match``: ``1 - differing pixels / pixels`` over the first viewport
  (``flows.qa.pixels``);
- resource counts: good (2xx/3xx) and bad (4xx/5xx or no response), split into in scope (what
  the crawl archives: the site's hosts and its ``[requisites] hosts``) and excluded by policy
  (ad/tracker hosts and any other host the crawl never fetches: blocked in both renderings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from rapidfuzz.distance import Levenshtein

from flows.sites import SiteProfile, host_allowed

SEVERE = 0.5  # Browsertrix's UI: a page under this is severe, under MODERATE moderate
MODERATE = 0.9


def text_match(live: str, replay: str) -> float:
    """``1 - Levenshtein(live, replay) / max(len)``, on whitespace-normalised text (a reflow
    that only moves line breaks is no difference a reader sees). Two empty texts match."""
    a, b = " ".join(live.split()), " ".join(replay.split())
    longest = max(len(a), len(b))
    return 1.0 - Levenshtein.distance(a, b) / longest if longest else 1.0


def grade(score: float) -> str:
    return "severe" if score < SEVERE else "moderate" if score < MODERATE else "good"


def in_scope(profile: SiteProfile, url: str) -> bool:
    """What a crawl of ``profile`` archives as a page requisite: the site's hosts and its
    requisite hosts, less the excluded ones (the spider's rule, ``spiders/requisites.py``)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:  # a malformed URL (an unclosed IPv6 bracket) is nobody's
        return False
    if parts.scheme not in ("http", "https") or profile.requisites.excludes(url):
        return False
    return profile.allows(url) or host_allowed(host, profile.requisites.hosts)


@dataclass(frozen=True)
class Fetch:
    """One request of a rendering: the URL as the site names it (a replayed one unwrapped from
    the replay server's), its status (0: no response: failed or blocked) and whether it is in
    scope."""

    url: str
    status: int
    scope: bool

    @property
    def good(self) -> bool:
        return 200 <= self.status < 400


@dataclass(frozen=True)
class Resources:
    good: int = 0
    bad: int = 0
    excluded_good: int = 0
    excluded_bad: int = 0  # blocked by policy: expected, not a fault
    bad_urls: tuple[str, ...] = ()

    @classmethod
    def of(cls, fetches: Iterable[Fetch]) -> Resources:
        seen = list(fetches)
        scoped = [f for f in seen if f.scope]
        other = [f for f in seen if not f.scope]
        return cls(
            good=sum(f.good for f in scoped),
            bad=sum(not f.good for f in scoped),
            excluded_good=sum(f.good for f in other),
            excluded_bad=sum(not f.good for f in other),
            bad_urls=tuple(sorted({f.url for f in scoped if not f.good})),
        )

    def describe(self) -> str:
        return (
            f"{self.good} good / {self.bad} bad in scope, "
            f"{self.excluded_good + self.excluded_bad} excluded"
        )
