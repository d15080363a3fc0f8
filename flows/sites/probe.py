"""``newsvault site add``: look at a site politely (a dozen requests, one at a time) and write a
profile for it with polite defaults.

What is probed: robots.txt and the sitemaps it names, else the usual WordPress / Yoast /
Jetpack locations; the feed; whether ``/wp-json/`` answers; the article URL pattern, from a
sample of the sitemaps' URLs; the theme and content container of a sample article page; the
site's name (``og:site_name``). Everything is shown, so the user can judge before the first run.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from flows.errors import ConfigError
from flows.sites.listing import UnreadableListing, read_listing
from flows.sites.profile import Politeness

SITEMAP_GUESSES = ("/sitemap_index.xml", "/sitemap.xml", "/wp-sitemap.xml", "/sitemap.xml.gz")
FEED_GUESSES = ("/feed/", "/rss.xml", "/feed.xml", "/atom.xml")
# Article URL rules, most specific first: WordPress's dated and plain permalinks.
PATTERNS = (
    r"^/\d{4}/\d{2}/\d{2}/[^/?#]+/?$",
    r"^/\d{4}/\d{2}/[^/?#]+/?$",
    r"^/\d{4}/[^/?#]+/?$",
    r"^/[^/?#]+/[^/?#]+/?$",
    r"^/[^/?#]+/?$",
)
# Content containers, the theme's first (class names as themes write them).
CONTAINERS = (
    ("tagdiv-newspaper", "td-post-content", "div.td-post-content"),
    ("", "entry-content", "div.entry-content"),
    ("", "post-content", "div.post-content"),
    ("", "article-content", "div.article-content"),
)
_SITE_NAME = re.compile(
    rb"""<meta[^>]+property=["']og:site_name["'][^>]+content=["']([^"']+)""", re.IGNORECASE
)
DELAY = 1.0  # seconds between two probe requests
SAMPLE = 200  # sitemap URLs the pattern is judged on


@dataclass
class Probe:
    base_url: str
    robots: bool = False
    sitemaps: list[str] = field(default_factory=list)
    feeds: list[str] = field(default_factory=list)
    wp_json: bool = False
    sample: list[str] = field(default_factory=list)  # article URLs from the sitemaps
    article_pattern: str = PATTERNS[1]
    theme: str = ""
    content_selector: str = ""
    site_name: str = ""
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        found = [
            f"site: {self.base_url}",
            f"robots.txt: {'found' if self.robots else 'none'}",
            f"sitemaps: {', '.join(self.sitemaps) or 'none found'}",
            f"feeds: {', '.join(self.feeds) or 'none found'}",
            f"WordPress REST API (/wp-json/): {'answers' if self.wp_json else 'no'}",
            f"article URLs: {self.article_pattern} (from {len(self.sample)} sitemap URLs)",
            f"theme: {self.theme or 'none known (generic cleaner)'}",
            f"content container: {self.content_selector or self.theme or 'not found (generic)'}",
            f"site name: {self.site_name or 'not found'}",
        ]
        return found + [f"note: {note}" for note in self.notes]


Fetch = Callable[[str], tuple[int, bytes] | None]


def fetcher(user_agent: str, delay: float = DELAY) -> Fetch:
    """GET with the profile's user agent, one request at a time, ``delay`` apart; None when
    nothing answered."""
    last = [0.0]

    def fetch(url: str) -> tuple[int, bytes] | None:
        wait = last[0] + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        last[0] = time.monotonic()
        if urlsplit(url).scheme not in ("http", "https"):
            return None
        request = urllib.request.Request(url, headers={"User-Agent": user_agent})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (http(s))
                return int(response.status), bytes(response.read(8 * 1024 * 1024))
        except urllib.error.HTTPError as exc:
            return int(exc.code), b""
        except (urllib.error.URLError, OSError, ValueError):
            return None

    return fetch


def probe_site(base_url: str, fetch: Fetch) -> Probe:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{base_url!r} is not an http(s) URL such as https://news.example")
    base = base_url.rstrip("/")
    probe = Probe(base)
    home = fetch(base + "/")
    if home is None:
        raise ConfigError(f"site unreachable: no response from {base}/; check the URL")
    robots = fetch(base + "/robots.txt")
    named: list[str] = []
    if robots is not None and robots[0] == 200:
        probe.robots = True
        for line in robots[1].decode("utf-8", "replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                named.append(value.strip())
    for url in named or [base + path for path in SITEMAP_GUESSES]:
        if _read_sitemap(probe, url, fetch) and not named:
            break  # one guessed location that answers is enough
    for path in FEED_GUESSES:
        got = fetch(base + path)
        if got is not None and got[0] == 200 and _is_feed(got[1], base + path):
            probe.feeds.append(path)
            break
    wp = fetch(base + "/wp-json/")
    probe.wp_json = wp is not None and wp[0] == 200 and _is_json(wp[1])
    probe.article_pattern = infer_pattern(probe.sample)
    match = _SITE_NAME.search(home[1])
    probe.site_name = match.group(1).decode("utf-8", "replace").strip() if match else ""
    article = next((u for u in probe.sample if re.search(probe.article_pattern, _path(u))), None)
    page = fetch(article) if article else None
    if page is not None and page[0] == 200:
        probe.theme, probe.content_selector = detect_container(page[1])
    else:
        probe.notes.append("no article page could be fetched: the cleaner was not checked")
    if not probe.sitemaps and not probe.feeds:
        probe.notes.append("no sitemap and no feed: only listing pages will find articles")
    return probe


def _read_sitemap(probe: Probe, url: str, fetch: Fetch, depth: int = 0) -> bool:
    got = fetch(url)
    if got is None or got[0] != 200:
        return False
    try:
        document = read_listing(got[1], url)
    except UnreadableListing:
        return False
    if document.kind not in ("sitemapindex", "urlset"):
        return False
    if depth == 0:
        probe.sitemaps.append(_relative(probe.base_url, url))
    if document.kind == "urlset":
        host = urlsplit(probe.base_url).hostname
        urls = [e.url for e in document.urls if urlsplit(e.url).hostname == host]
        probe.sample += urls[: SAMPLE - len(probe.sample)]
        return True
    children = [e.url for e in document.urls]
    posts = [u for u in children if "post" in u.lower() and "page" not in u.lower()]
    for child in (posts or children)[:2]:
        if depth < 2 and len(probe.sample) < SAMPLE:
            _read_sitemap(probe, child, fetch, depth + 1)
    return True


def infer_pattern(urls: list[str]) -> str:
    """The most specific pattern most sampled URLs (80%) match; the dated one without a sample."""
    paths = [_path(u) for u in urls]
    for pattern in PATTERNS:
        if paths and sum(bool(re.search(pattern, p)) for p in paths) >= 0.8 * len(paths):
            return pattern
    return PATTERNS[1]


def detect_container(html: bytes) -> tuple[str, str]:
    """(theme, content selector) of an article page; ("", "") for the generic cleaner."""
    for theme, css_class, selector in CONTAINERS:
        if re.search(rb"class=[\"'][^\"']*\b" + css_class.encode() + rb"\b", html):
            return theme, "" if theme else selector
    return "", ""


def profile_text(name: str, probe: Probe) -> str:
    """The profile file: what was found, with polite defaults and a contact URL to fill in."""
    polite = Politeness()
    title = probe.site_name or name
    q = json.dumps  # a TOML basic string is a JSON string
    lines = [
        f"# Site profile written by `newsvault site add {probe.base_url}`; every key:",
        "# docs/PROFILES.md. Check the user agent's contact URL before the first run.",
        f"title = {q(title)}",
        f"base_url = {q(probe.base_url)}",
        "domains = []",
        "",
        "[discovery]",
        "robots_txt = true",
        f"sitemaps = [{', '.join(q(s) for s in probe.sitemaps)}]",
        f"feeds = [{', '.join(q(f) for f in probe.feeds)}]",
        'listings = ["/"]',
        "listing_max_pages = 2",
        f"article_pattern = '{probe.article_pattern}'",
        "",
        "[politeness]",
        "obey_robots = true",
        f"download_delay = {polite.download_delay}",
        f"concurrent_requests = {polite.concurrent_requests}",
        "autothrottle = true",
        'user_agent = "newsvault/0.1 (news archiving; +https://EDIT.example/contact)"',
        "",
        "[schedule]",
        'cron = "17 */6 * * *"',
        'timezone = "UTC"',
        "",
        "[extract]",
        f"theme = {q(probe.theme)}",
        f"content_selector = {q(probe.content_selector)}",
        f"site_names = [{q(probe.site_name)}]" if probe.site_name else "site_names = []",
        "",
        "[health]",
        "stale_runs = 12",
    ]
    return "\n".join(lines) + "\n"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _relative(base: str, url: str) -> str:
    return url[len(base) :] if url.startswith(base + "/") else urljoin(base, url)


def _is_feed(body: bytes, url: str) -> bool:
    try:
        return read_listing(body, url).kind in ("rss", "feed")
    except UnreadableListing:
        return False


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True
