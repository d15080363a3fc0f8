"""Site profiles and the site rules the spider and processing share.

``profile``: one TOML file per site, checked against one schema (every key typed, defaulted and
documented there; ``docs/PROFILES.md`` is rendered from it), and the article and domain rules.
``probe``: a new site looked at politely, and the profile written for it (``site add``).
``listing``: what a sitemap or feed names (``read_listing``), read alike by the spider and by
processing, so that what the crawl followed and what processing judges cannot drift apart.
"""

from flows.sites.limits import AD_TRACKER_HOSTS, QA, Budget, Requisites
from flows.sites.listing import (
    FEED_KINDS,
    SITEMAP_KINDS,
    SITEMAP_MAX_SIZE,
    ListedUrl,
    ListingDocument,
    ListingTooLarge,
    UnreadableListing,
    is_gzipped,
    read_listing,
)
from flows.sites.probe import Probe, fetcher, probe_site, profile_text
from flows.sites.profile import (
    BUILTIN_DIR,
    SECTIONS,
    Discovery,
    Extract,
    Health,
    Politeness,
    Schedule,
    SiteProfile,
    available_profiles,
    host_allowed,
    load_profile,
    load_profile_file,
)
from flows.sites.reference import reference

__all__ = [
    "AD_TRACKER_HOSTS",
    "BUILTIN_DIR",
    "FEED_KINDS",
    "QA",
    "SECTIONS",
    "SITEMAP_KINDS",
    "SITEMAP_MAX_SIZE",
    "Budget",
    "Discovery",
    "Extract",
    "Health",
    "ListedUrl",
    "ListingDocument",
    "ListingTooLarge",
    "Politeness",
    "Probe",
    "Requisites",
    "Schedule",
    "SiteProfile",
    "UnreadableListing",
    "available_profiles",
    "fetcher",
    "host_allowed",
    "is_gzipped",
    "load_profile",
    "load_profile_file",
    "probe_site",
    "profile_text",
    "read_listing",
    "reference",
]
