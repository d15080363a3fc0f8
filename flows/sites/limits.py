"""The sections of a profile that bound what a run fetches: its budget, and the page requisites
archived with each page (what is in scope, what is never fetched); and what its replay QA costs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flows.sites.keys import key

# Ad, tracker and analytics hosts never fetched as page requisites (``[requisites] exclude_extra``
# adds to them): host suffixes, or host/path prefixes.
AD_TRACKER_HOSTS = (
    "doubleclick.net", "googlesyndication.com", "googleadservices.com", "googletagmanager.com",
    "googletagservices.com", "google-analytics.com", "adservice.google.com", "amazon-adsystem.com",
    "adnxs.com", "criteo.com", "criteo.net", "taboola.com", "outbrain.com", "pubmine.com",
    "scorecardresearch.com", "quantserve.com", "facebook.net", "connect.facebook.net",
    "pixel.wp.com", "stats.wp.com", "s.pubmine.com", "moatads.com", "rubiconproject.com",
    "pubmatic.com", "casalemedia.com", "openx.net", "hotjar.com", "chartbeat.com",
)  # fmt: skip


@dataclass(frozen=True)
class Budget:
    """What one run may spend (a hostile or broken site cannot keep a run going forever): the
    crawl stops at the first limit reached and the report names it; 0 lifts a limit."""

    wall_time_s: float = key(6 * 3600.0, "seconds a run may crawl", low=0)
    requests: int = key(200_000, "requests a run may make", low=0)
    bytes: int = key(20 * 1024**3, "bytes a run may download", low=0)
    sitemaps: int = key(2_000, "sitemap documents a run may follow", low=0)
    sitemap_depth: int = key(3, "sitemap indexes nested in a chain (index -> index -> ...)", low=0)
    listing_depth: int = key(5, "listing pages followed from a listing, in a chain", low=0)


@dataclass(frozen=True)
class Requisites:
    """Page requisites (``spiders/requisites.py``): what a page loads, archived with it."""

    enabled: bool = key(True, "archive what each archived page loads")
    hosts: tuple[str, ...] = key(
        (), "hosts besides the site's own that serve its requisites (an image CDN: i0.wp.com)"
    )
    exclude: tuple[str, ...] = key(
        AD_TRACKER_HOSTS, "ad, tracker and analytics hosts (suffixes or host/path) never fetched"
    )
    exclude_extra: tuple[str, ...] = key((), "more hosts never fetched, added to `exclude`")
    max_size: int = key(16 * 1024 * 1024, "bytes; a larger requisite is refused", low=1)
    timeout: float = key(30.0, "seconds per requisite", low=0)
    refresh_hours: float = key(
        24.0, "an archived requisite is re-checked (conditional GET) at most this often", low=0
    )

    def excludes(self, url: str) -> bool:
        """An exclusion pattern (host suffix, or host/path prefix) matches ``url``: it is never
        fetched (the spider), and blocked when QA renders a page (``flows.qa``)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        where = host + parts.path
        for pattern in (*self.exclude, *self.exclude_extra):
            low = pattern.lower()
            if "/" in low and where.startswith(low):
                return True
            if "/" not in low and (host == low or host.endswith("." + low)):
                return True
        return False


@dataclass(frozen=True)
class QA:
    """Replay QA after each run (``flows.qa``): a sample of the run's pages rendered live and
    replayed in headless Chromium and scored as Browsertrix scores them; thresholds in
    ``[health]``."""

    enabled: bool = key(False, "check replay after each run (needs Chromium: `make chromium`)")
    sample: int = key(10, "pages checked per run: the home page, a listing, articles", low=1)
    replay_url: str = key(
        "http://127.0.0.1:8080",
        "where people open replay (`newsvault replay serve SITE --port 8080`): the QA table "
        "links each page there",
    )
