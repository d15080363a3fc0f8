"""Site profiles: one TOML file per site says where to look, how fast to go and how to clean.

Profiles are plain data so that a user adds a site by copying a file; this module only loads and
validates them. Search order: directories in ``NEWSVAULT_PROFILES`` (``os.pathsep``-separated),
then the profiles shipped in ``spiders/profiles/``.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flows.errors import ConfigError

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
    user_agent: str = "newsvault/0.1 (+https://github.com/newsvault/newsvault)"


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
    # share of responses that were 403 or 429 (the site blocks or rate-limits the crawler)
    max_blocked_share: float = 0.2
    # fail when this many runs in a row (this one included) archived no new article or version;
    # 0 turns the check off
    stale_runs: int = 24


@dataclass(frozen=True)
class Extract:
    theme: str | None = None
    content_selector: str | None = None


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
        return re.search(self.discovery.article_pattern, path_and_query) is not None

    def with_base_url(self, base_url: str | None) -> SiteProfile:
        """The same profile pointed at another address (a replica on another port, a mirror)."""
        if not base_url:
            return self
        return replace(self, base_url=_check_base_url(base_url, f"--base-url {base_url!r}"))


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
            source=where,
        )
    except TypeError as exc:
        raise ConfigError(f"{where}: {exc}; see flows/sites.py for the keys") from exc
    try:
        re.compile(profile.discovery.article_pattern)
    except re.error as exc:
        raise ConfigError(f"{where}: discovery.article_pattern is not a regex: {exc}") from exc
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
