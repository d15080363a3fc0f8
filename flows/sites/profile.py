"""Site profiles: one TOML file per site says where to look, how fast to go and how to clean.

Profiles are plain data so that a user adds a site by copying a file (``docs/site-template.toml``);
this module is their one schema: every key's type, default and meaning is a field below, loading
checks a file against it before anything runs, and ``docs/PROFILES.md`` is rendered from it
(``newsvault site reference``). Search order: directories in ``NEWSVAULT_PROFILES``
(``os.pathsep``-separated), then the profiles shipped in ``spiders/profiles/``.

It is also the home of the rules the spider and processing must apply alike: which URLs are
articles (``SiteProfile.is_article_url``), which hosts belong to the site (``SiteProfile.allows``,
``host_allowed``).
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import tomllib
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import re2  # type: ignore[import-untyped]  # linear time: no catastrophic backtracking

from flows import __version__
from flows.errors import ConfigError
from flows.sites.keys import key
from flows.sites.limits import QA, Budget, Requisites

BUILTIN_DIR = Path(__file__).resolve().parents[2] / "spiders" / "profiles"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True)
class Discovery:
    """Where the spider finds the site's articles."""

    robots_txt: bool = key(True, "read the `Sitemap:` lines of robots.txt")
    sitemaps: tuple[str, ...] = key(
        ("/sitemap_index.xml",),
        "sitemaps (paths or URLs, `.xml.gz` too) read when robots.txt names none",
    )
    feeds: tuple[str, ...] = key(("/feed/",), "RSS or Atom feeds (paths or URLs)")
    listings: tuple[str, ...] = key(
        ("/",), "listing pages whose article links and `/page/N/` pagination are followed"
    )
    listing_max_pages: int = key(3, "pages of each listing's pagination to follow", low=0)
    article_pattern: str = key(
        r"^/\d{4}/\d{2}/[^/?#]+/$",
        "a path (with its query) is an article page when it matches this regular expression",
    )
    recheck_days: float = key(
        2.0,
        "incremental runs skip an article whose sitemap lastmod is older than its last "
        "capture, unless the lastmod is this many days old or less (re-checked with a "
        "conditional GET)",
        low=0,
    )
    recheck_unlisted: int = key(
        500,
        "known articles no sitemap or feed names any more, re-fetched per run so that a "
        "deletion is recorded with its evidence (404, 410, redirect)",
        low=0,
    )


@dataclass(frozen=True)
class Politeness:
    """How hard the crawler may press on the site."""

    obey_robots: bool = key(True, "obey robots.txt `Disallow:` rules")
    download_delay: float = key(2.0, "seconds between two requests to the site", low=0)
    concurrent_requests: int = key(1, "requests in flight at once", low=1)
    autothrottle: bool = key(True, "slow down when the site answers slowly (Scrapy AutoThrottle)")
    user_agent: str = key(
        "newsvault/{version} (+https://github.com/newsvault/newsvault)",
        "the User-Agent header (`{version}`: the running release); name a page that says who "
        "crawls and how to reach you",
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_agent", self.user_agent.replace("{version}", __version__))


@dataclass(frozen=True)
class Schedule:
    """When `newsvault serve` runs the site."""

    cron: str = key("0 * * * *", "cron expression of the scheduled runs")
    timezone: str = key("UTC", "time zone the cron expression is read in")


@dataclass(frozen=True)
class Health:
    """Thresholds under which a run fails after publishing its report
    (``flows.orchestrate.health``)."""

    min_extraction_coverage: float = key(
        0.8,
        "cleaned articles / article pages fetched must reach this share (1 minus the share "
        "of pages the cleaner could not handle)",
        low=0,
        high=1,
    )
    min_article_pages: int = key(
        5, "with fewer article pages than this, coverage and shares are not judged", low=0
    )
    min_quality: float = key(
        0.5,
        "a cleaned page whose quality score (0..1: share of the main text kept, link texts, "
        "page furniture) is under this counts against the coverage above, as a page that could "
        "not be cleaned does (its record is archived all the same); 0 turns it off",
        low=0,
        high=1,
    )
    max_blocked_share: float = key(
        0.2, "share of responses that may be 403 or 429 (blocked, rate-limited)", low=0, high=1
    )
    max_failed_share: float = key(
        0.2,
        "share of fetches that may fail (no response, 5xx, timeout; a 304 is no failure)",
        low=0,
        high=1,
    )
    stale_runs: int = key(
        24, "fail when this many runs in a row archived no new article or version (0: off)", low=0
    )
    min_screenshot_match: float = key(
        0.9, "replay QA ([qa]): a sampled page's screenshot match must reach this", low=0, high=1
    )
    min_text_match: float = key(
        0.9, "replay QA ([qa]): a sampled page's text match must reach this", low=0, high=1
    )
    max_bad_resources: int = key(
        0, "replay QA ([qa]): in-scope resources a sampled page may fail to replay", low=0
    )


@dataclass(frozen=True)
class Extract:
    """How pages are cleaned into articles."""

    theme: str | None = key(
        None, 'the page layout the cleaner knows: "tagdiv-newspaper", or "" for none (generic)'
    )
    content_selector: str | None = key(
        None, 'CSS selector of the article body (overrides the theme\'s); "" for none'
    )
    site_names: tuple[str, ...] = key(
        (), "names the site signs with: stripped from titles, recognised in bylines"
    )


SECTIONS: dict[str, type[Any]] = {
    "discovery": Discovery,
    "politeness": Politeness,
    "schedule": Schedule,
    "extract": Extract,
    "health": Health,
    "budget": Budget,
    "requisites": Requisites,
    "qa": QA,
}


@dataclass(frozen=True)
class SiteProfile:
    """A site (the top-level keys of its file) and its sections."""

    base_url: str = key("", "the site's address, such as https://news.example (required)")
    name: str = key("", "the site's name: the file's name without `.toml` (may be omitted)")
    title: str = key("", "a human-readable title (default: the name)")
    domains: tuple[str, ...] = key(
        (), "other hosts the spider may fetch from; the base URL's host is always allowed"
    )
    discovery: Discovery = field(default_factory=Discovery)
    politeness: Politeness = field(default_factory=Politeness)
    schedule: Schedule = field(default_factory=Schedule)
    extract: Extract = field(default_factory=Extract)
    health: Health = field(default_factory=Health)
    budget: Budget = field(default_factory=Budget)
    requisites: Requisites = field(default_factory=Requisites)
    qa: QA = field(default_factory=QA)
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
    """Profile files by site name. A directory of ``NEWSVAULT_PROFILES`` may override a shipped
    profile; two of its directories naming one site would archive two sites into one prefix."""
    found: dict[str, Path] = {}
    dirs = [Path(p) for p in os.environ.get("NEWSVAULT_PROFILES", "").split(os.pathsep) if p]
    for directory in dict.fromkeys(d.resolve() for d in dirs):
        for path in sorted(directory.glob("*.toml")) if directory.is_dir() else ():
            if path.stem in found:
                raise ConfigError(
                    f"{path}: site {path.stem!r} has two profiles ({found[path.stem]} and "
                    f"{path}); rename or remove one of them"
                )
            found[path.stem] = path
    for path in sorted(BUILTIN_DIR.glob("*.toml")):
        found.setdefault(path.stem, path)
    return found


def load_profile(name: str, base_url: str | None = None) -> SiteProfile:
    profiles = available_profiles()
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(
            f"unknown site {name!r}: no profile {name}.toml (known sites: {known}); "
            "`newsvault site add URL` writes one (or copy docs/site-template.toml), "
            "or set NEWSVAULT_PROFILES"
        )
    return load_profile_file(profiles[name]).with_base_url(base_url)


def load_profile_file(path: Path) -> SiteProfile:
    """Read and check a profile; every mistake is one ``ConfigError`` line naming the file, the
    key and the fix."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read site profile {path}: {exc}; fix the file") from exc
    return _profile_from_dict(data, path)


def _profile_from_dict(data: dict[str, Any], path: Path) -> SiteProfile:
    where = str(path)
    if not _NAME_RE.match(path.stem):
        raise ConfigError(
            f"{where}: the file name {path.stem!r} is the site's name and must be lowercase "
            "letters, digits, '-' or '_'; rename the file"
        )
    sections = {k: data.pop(k) for k in list(data) if k in SECTIONS}
    top = _values(SiteProfile, data, "", where)
    if top.setdefault("name", path.stem) != path.stem:
        raise ConfigError(
            f"{where}: name = {top['name']!r} is not the file's name {path.stem!r}: a site's "
            f"name is its file's name (it picks the site's archive prefix and state); set "
            f'name = "{path.stem}" or remove the key'
        )
    if "base_url" not in top:
        raise ConfigError(f'{where}: base_url is missing; add base_url = "https://news.example"')
    top["base_url"] = _check_base_url(top["base_url"], f"{where}: base_url")
    top.setdefault("title", path.stem)
    for section, raw in sections.items():
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: {section} must be a [{section}] table; make it one")
        top[section] = SECTIONS[section](**_values(SECTIONS[section], raw, section, where))
    profile = SiteProfile(**top, source=where)
    try:
        _compiled(profile.discovery.article_pattern)
    except (re2.error, TypeError) as exc:
        detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ConfigError(
            f"{where}: discovery.article_pattern is not a regex RE2 runs (linear "
            f"time: no backreferences or lookaround): {detail}; fix it"
        ) from exc
    return profile


def _values(cls: type[Any], raw: dict[str, Any], section: str, where: str) -> dict[str, Any]:
    """The keys of one table, checked against ``cls``'s fields and converted to their types."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls) if "doc" in f.metadata}
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(_unknown(name, value, section, list(known), where))
        values[name] = _typed(value, hints[name], known[name].metadata, section, name, where)
    return values


def _unknown(name: str, value: Any, section: str, known: list[str], where: str) -> str:
    if not section and isinstance(value, dict):
        close = difflib.get_close_matches(name, list(SECTIONS), n=1)
        fix = f"did you mean [{close[0]}]?" if close else f"sections: {', '.join(SECTIONS)}"
        return f"{where}: unknown section [{name}]: {fix} Rename or remove it"
    close = difflib.get_close_matches(name, known, n=1)
    table = f"[{section}]" if section else "the top level"
    hint = f"did you mean {close[0]}?" if close else f"keys: {', '.join(known)}"
    return f"{where}: unknown key {name!r} in {table}: {hint} Rename or remove it"


def _typed(value: Any, hint: Any, meta: Any, section: str, name: str, where: str) -> Any:
    full = f"{section}.{name}" if section else name
    optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
    base = str if optional else hint
    ok: Any = None
    if base is bool:
        ok, want = (value if isinstance(value, bool) else None), "true or false"
    elif base is int:
        ok = value if isinstance(value, int) and not isinstance(value, bool) else None
        want = "a whole number"
    elif base is float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        ok, want = (float(value) if number else None), "a number"
    elif base is str:
        ok, want = (value if isinstance(value, str) else None), 'a string in quotes ("...")'
    else:  # tuple[str, ...]
        strings = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        ok, want = (tuple(value) if strings else None), 'a list of non-empty strings (["..."])'
    if ok is None:
        raise ConfigError(f"{where}: {full} must be {want}, not {value!r}; fix the value")
    low, high = meta["low"], meta["high"]
    if (low is not None and ok < low) or (high is not None and ok > high):
        span = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ConfigError(f"{where}: {full} = {value!r} must be {span}; fix the value")
    return (ok or None) if optional else ok


def _check_base_url(url: str, what: str) -> str:
    parts = urlsplit(url) if isinstance(url, str) else urlsplit("")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be an absolute http(s) URL such as http://127.0.0.1:8765")
    return url.rstrip("/")
