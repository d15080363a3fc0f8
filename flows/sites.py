"""Site profiles: one TOML file per site says where to look, how fast to go and how to clean.

Profiles are plain data so that a user adds a site by copying a file; this module loads and
validates them. Search order: directories in ``NEWSVAULT_PROFILES`` (``os.pathsep``-separated),
then the profiles shipped in ``spiders/profiles/``.

It is also the one home of the rules the spider and processing must apply alike, so that what the
crawl fetched and what processing reads of it cannot drift apart: which URLs are articles
(``SiteProfile.is_article_url``), which hosts belong to the site (``SiteProfile.allows``,
``host_allowed``), and what a sitemap or feed names (``read_listing``).
"""

from __future__ import annotations

import functools
import os
import re
import struct
import tomllib
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import re2  # type: ignore[import-untyped]  # linear time: no catastrophic backtracking
from lxml import etree

from flows import __version__
from flows.errors import ConfigError, ExtractionError

BUILTIN_DIR = Path(__file__).resolve().parents[1] / "spiders" / "profiles"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Discovery:
    robots_txt: bool = True
    sitemaps: tuple[str, ...] = ("/sitemap_index.xml",)
    feeds: tuple[str, ...] = ("/feed/",)
    listings: tuple[str, ...] = ("/",)
    listing_max_pages: int = 3
    article_pattern: str = r"^/\d{4}/\d{2}/[^/?#]+/$"
    # Incremental runs: an article whose sitemap lastmod is older than its last capture is
    # skipped, unless the lastmod is within this many days (recent articles are re-checked
    # with a conditional GET every run).
    recheck_days: float = 2.0
    # Known articles no sitemap or feed names any more are re-fetched (up to this many per run)
    # so that a deletion is recorded with its evidence (404, 410, redirect).
    recheck_unlisted: int = 500


@dataclass(frozen=True)
class Politeness:
    obey_robots: bool = True
    download_delay: float = 1.0
    concurrent_requests: int = 2
    autothrottle: bool = True
    # ``{version}`` becomes the running release (pyproject.toml is its one source).
    user_agent: str = "newsvault/{version} (+https://github.com/newsvault/newsvault)"

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_agent", self.user_agent.replace("{version}", __version__))


@dataclass(frozen=True)
class Schedule:
    cron: str = "0 * * * *"
    timezone: str = "UTC"


@dataclass(frozen=True)
class Health:
    """Thresholds under which a run fails after publishing its report
    (``flows.orchestrate.health``)."""

    # cleaned articles / article pages fetched; judged only from min_article_pages pages on
    min_extraction_coverage: float = 0.8
    min_article_pages: int = 5
    # a cleaned page whose quality score (0..1, flows.clean.quality: share of the main text
    # kept, link texts, page furniture) is under this counts against the coverage above, as a
    # page that could not be cleaned does (its record is archived all the same); 0 turns it off
    min_quality: float = 0.5
    # share of responses that were 403 or 429 (the site blocks or rate-limits the crawler)
    max_blocked_share: float = 0.2
    # fail when this many runs in a row (this one included) archived no new article or version;
    # 0 turns the check off
    stale_runs: int = 24


@dataclass(frozen=True)
class Budget:
    """What one run may spend (a hostile or broken site cannot keep a run going forever):
    the crawl stops at the first limit reached and the report names it; 0 lifts a limit."""

    wall_time_s: float = 6 * 3600.0
    requests: int = 200_000
    bytes: int = 20 * 1024**3
    sitemaps: int = 2_000  # sitemap documents followed
    sitemap_depth: int = 3  # index -> index -> ... -> urlset
    listing_depth: int = 5  # listing pages followed from a listing, in a chain


@dataclass(frozen=True)
class Extract:
    theme: str | None = None
    content_selector: str | None = None
    # The names the site signs its pages with ("Fort Russ News", "Fort Russ"): stripped from
    # titles ("Title - Fort Russ") and recognised in byline blocks ("Translated by X for Fort
    # Russ"), so they are taken for neither a title word nor the original source.
    site_names: tuple[str, ...] = ()


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
class Requisites:
    """Page requisites (``spiders/requisites.py``): what a page loads, archived with it."""

    enabled: bool = True
    # hosts besides the site's own that serve its requisites (an image CDN such as i0.wp.com)
    hosts: tuple[str, ...] = ()
    exclude: tuple[str, ...] = AD_TRACKER_HOSTS
    exclude_extra: tuple[str, ...] = ()
    max_size: int = 16 * 1024 * 1024  # bytes; a larger requisite is refused
    timeout: float = 30.0  # seconds per requisite
    # an archived requisite is re-checked (conditional GET) at most once per this many hours
    refresh_hours: float = 24.0


@dataclass(frozen=True)
class SiteProfile:
    name: str
    base_url: str
    title: str = ""
    domains: tuple[str, ...] = ()
    discovery: Discovery = field(default_factory=Discovery)
    politeness: Politeness = field(default_factory=Politeness)
    schedule: Schedule = field(default_factory=Schedule)
    extract: Extract = field(default_factory=Extract)
    health: Health = field(default_factory=Health)
    budget: Budget = field(default_factory=Budget)
    requisites: Requisites = field(default_factory=Requisites)
    source: str = ""

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def allowed_domains(self) -> tuple[str, ...]:
        """The base URL's host plus the profile's domains, without duplicates."""
        hosts = [self.host, *self.domains]
        return tuple(dict.fromkeys(h for h in hosts if h))

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + "/" + path.lstrip("/")

    def is_article_path(self, path_and_query: str) -> bool:
        return _compiled(self.discovery.article_pattern).search(path_and_query) is not None

    def is_article_url(self, url: str) -> bool:
        """The article rule: the URL's path (with its query) matches ``article_pattern``.

        The host is not judged here: the spider asks ``allows`` as well, processing reads
        captures the spider already kept on the site (and may read them under another base URL).
        """
        parts = urlsplit(url)
        return self.is_article_path(parts.path + ("?" + parts.query if parts.query else ""))

    def allows(self, url: str) -> bool:
        """The domain rule: the URL's host is one of ``allowed_domains`` or a subdomain of one."""
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:  # a malformed URL (an unclosed IPv6 bracket) is nobody's host
            return False
        return host_allowed(host, self.allowed_domains)

    def with_base_url(self, base_url: str | None) -> SiteProfile:
        """The same profile pointed at another address (a replica on another port, a mirror)."""
        if not base_url:
            return self
        return replace(self, base_url=_check_base_url(base_url, f"--base-url {base_url!r}"))


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> Any:
    """Profile patterns run on RE2 (linear time): ``^(/?[\\w-]+)+/$`` cannot stall a crawl."""
    options = re2.Options()
    options.log_errors = False  # a bad pattern is one ConfigError line, not C++ logging
    return re2.compile(pattern, options=options)


def host_allowed(host: str, domains: Iterable[str]) -> bool:
    """True when ``host`` is one of ``domains`` or a subdomain of one (case-insensitive)."""
    host = host.lower()
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains))


def available_profiles() -> dict[str, Path]:
    found: dict[str, Path] = {}
    dirs = [Path(p) for p in os.environ.get("NEWSVAULT_PROFILES", "").split(os.pathsep) if p]
    for directory in [*dirs, BUILTIN_DIR]:
        if directory.is_dir():
            for path in sorted(directory.glob("*.toml")):
                found.setdefault(path.stem, path)
    return found


def load_profile(name: str, base_url: str | None = None) -> SiteProfile:
    profiles = available_profiles()
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(
            f"unknown site {name!r}: no profile {name}.toml (known sites: {known}); "
            "copy spiders/profiles/replica.toml to add one, or set NEWSVAULT_PROFILES"
        )
    return load_profile_file(profiles[name]).with_base_url(base_url)


def load_profile_file(path: Path) -> SiteProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read site profile {path}: {exc}; fix the file") from exc
    return _profile_from_dict(data, path)


def _profile_from_dict(data: dict[str, Any], path: Path) -> SiteProfile:
    where = str(path)
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigError(f"{where}: name {name!r} must be lowercase letters, digits, '-' or '_'")
    try:
        profile = SiteProfile(
            name=name,
            title=str(data.get("title", name)),
            base_url=_check_base_url(str(data.get("base_url", "")), f"{where}: base_url"),
            domains=tuple(data.get("domains", ())),
            discovery=_section(Discovery, data, "discovery", where),
            politeness=_section(Politeness, data, "politeness", where),
            schedule=_section(Schedule, data, "schedule", where),
            extract=_section(Extract, data, "extract", where),
            health=_section(Health, data, "health", where),
            budget=_section(Budget, data, "budget", where),
            requisites=_section(Requisites, data, "requisites", where),
            source=where,
        )
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}; see flows/sites.py for the keys") from exc
    try:
        _compiled(profile.discovery.article_pattern)
    except (re2.error, TypeError) as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ConfigError(
            f"{where}: discovery.article_pattern is not a regex RE2 runs (linear time: no "
            f"backreferences or lookaround): {detail}"
        ) from exc
    for key in ("min_extraction_coverage", "min_quality", "max_blocked_share"):
        value = getattr(profile.health, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ConfigError(f"{where}: health.{key} must be a number from 0 to 1, not {value!r}")
    names = profile.extract.site_names
    if not isinstance(names, tuple) or not all(isinstance(n, str) and n.strip() for n in names):
        raise ConfigError(f"{where}: extract.site_names must be a list of non-empty strings")
    return profile


def _section(cls: type[Any], data: dict[str, Any], key: str, where: str) -> Any:
    raw = data.get(key, {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [{key}] must be a table")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"{where}: unknown key in [{key}]: {exc}") from exc


def _check_base_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be an absolute http(s) URL such as http://127.0.0.1:8765")
    return url.rstrip("/")


# -- sitemaps and feeds --------------------------------------------------------------------------
# The spider follows what they name and processing reads them back from the archive to judge
# deletions by disappearance: both through ``read_listing``, so both see the same URLs.

SITEMAP_MAX_SIZE = 64 * 1024 * 1024  # bytes a gzipped sitemap or feed may unzip to (bombs stop)
SITEMAP_KINDS = frozenset({"sitemapindex", "urlset"})
FEED_KINDS = frozenset({"rss", "feed"})  # RSS 2.0, Atom
_GZIP_MAGIC = b"\x1f\x8b\x08"
_FEED_LINKS = "//item/link/text() | //*[local-name()='entry']/*[local-name()='link']/@href"


class UnreadableListing(ExtractionError):
    """A sitemap or feed that is not XML, or a gzip stream that does not unzip."""


class ListingTooLarge(UnreadableListing):
    """A gzipped sitemap or feed that unzips to more than its size limit (a gzip bomb?)."""


@dataclass(frozen=True)
class ListedUrl:
    url: str  # absolute
    lastmod: str | None = None  # a sitemap's <lastmod>, as written


@dataclass(frozen=True)
class ListingDocument:
    """What one sitemap or feed names, in document order."""

    kind: str  # the root element's local name: sitemapindex, urlset, rss, feed (Atom) or other
    urls: tuple[ListedUrl, ...] = ()
    unusable: tuple[str, ...] = ()  # links that name no URL (an unclosed IPv6 bracket): reported


def is_gzipped(body: bytes) -> bool:
    return body[:3] == _GZIP_MAGIC


def read_listing(
    body: bytes, base_url: str, *, max_size: int = SITEMAP_MAX_SIZE
) -> ListingDocument:
    """Read a sitemap (an index or a urlset, gzipped or not) or an RSS/Atom feed fetched from
    ``base_url``; another XML document gives its kind and no URLs.

    Scrapy's own readers do the work (the same as its SitemapSpider): ``gunzip`` stops at
    ``max_size``; the parser resolves no entities (no XXE, no billion laughs), fetches nothing
    and streams. Raises ``ListingTooLarge`` or ``UnreadableListing``.
    """
    # Scrapy costs 0.3 s to import: only the readers of sitemaps and feeds pay it.
    from scrapy.utils.gz import gunzip
    from scrapy.utils.sitemap import Sitemap

    if is_gzipped(body):
        try:
            body = gunzip(body, max_size=max_size)
        except ValueError as exc:  # the size limit
            raise ListingTooLarge(f"{base_url} unzips to more than {max_size} bytes") from exc
        except (OSError, EOFError, struct.error, zlib.error) as exc:  # a broken stream
            raise UnreadableListing(f"{base_url} is not a readable gzip stream: {exc}") from exc
    try:
        sitemap = Sitemap(body)
        if sitemap.type in SITEMAP_KINDS:
            found = [(entry.get("loc"), entry.get("lastmod")) for entry in sitemap]
        elif sitemap.type in FEED_KINDS:
            found = [(link, None) for link in _feed_links(body)]
        else:
            found = []
    except (etree.XMLSyntaxError, StopIteration, ValueError) as exc:
        raise UnreadableListing(f"{base_url} is not XML: {exc}") from exc
    urls: list[ListedUrl] = []
    unusable: list[str] = []
    for link, lastmod in found:
        if link:
            url = _absolute(base_url, link)
            if url is None:
                unusable.append(link)
            else:
                urls.append(ListedUrl(url, lastmod))
    return ListingDocument(sitemap.type, tuple(urls), tuple(unusable))


def _absolute(base_url: str, link: str) -> str | None:
    try:
        return urljoin(base_url, link)
    except ValueError:  # a malformed URL (an unclosed IPv6 bracket) names nothing
        return None


def _feed_links(body: bytes) -> list[str]:
    """The items' links of an RSS feed, the entries' links of an Atom feed."""
    parser = etree.XMLParser(  # one per call: lxml parsers must not be shared between threads
        recover=True, resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
    )
    root = etree.fromstring(body, parser=parser)
    if root is None:
        raise ValueError("no root element")
    links = root.xpath(_FEED_LINKS)
    return (
        [link.strip() for link in links if isinstance(link, str)] if isinstance(links, list) else []
    )
