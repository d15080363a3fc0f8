"""robots.txt policy fed by the spider's own, recorded fetch of robots.txt.

Scrapy's RobotsTxtMiddleware fetches robots.txt on its own and keeps the Sitemap: lines to
itself, so the spider would have to fetch it a second time to discover sitemaps. Here the spider
fetches it once (recorded in the WARC like every exchange), parses it with Protego and publishes
the parser on ``spider.robots``; this middleware only enforces it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from protego import Protego
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

ROBOTS_META = "newsvault_robots"
# RFC 9309 2.5: a parsing limit of at least 500 KiB; rules past it are ignored (as Google does).
# Protego keeps an object per rule: an 8.6 MB robots.txt cost the crawl ~1 GB without it.
MAX_RULES_BYTES = 500 * 1024
_SITEMAP_LINE = re.compile(r"^[ \t]*sitemap[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


def rules_part(body: str) -> tuple[str, bool]:
    """The part of a robots.txt whose rules are read (whole lines up to ``MAX_RULES_BYTES``),
    and whether anything was left out."""
    if len(body.encode("utf-8", "replace")) <= MAX_RULES_BYTES:
        return body, False
    head = body.encode("utf-8", "replace")[:MAX_RULES_BYTES].decode("utf-8", "ignore")
    return head[: head.rfind("\n") + 1] or head, True


def sitemap_lines(body: str) -> list[str]:
    """Every ``Sitemap:`` URL of a robots.txt, past the rules' limit too (no rule objects)."""
    return [match.group(1) for match in _SITEMAP_LINE.finditer(body)]


class RobotsRules:
    """Parsed robots.txt per host; a host with no rules yet is allowed."""

    def __init__(self, user_agent: str) -> None:
        self.user_agent = user_agent
        self._by_host: dict[str, Protego | None] = {}

    def set(self, host: str, body: str | None) -> Protego | None:
        """Store rules for a host; ``None`` means "disallow everything" (robots.txt 5xx)."""
        parser = Protego.parse(body) if body is not None else None
        self._by_host[host] = parser
        return parser

    def allows(self, url: str) -> bool:
        host = urlsplit(url).netloc
        if host not in self._by_host:
            return True
        parser = self._by_host[host]
        return parser is not None and bool(parser.can_fetch(url, self.user_agent))


class RobotsPolicyMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsPolicyMiddleware:
        if not crawler.settings.getbool("NEWSVAULT_ROBOTS_OBEY"):
            raise NotConfigured("NEWSVAULT_ROBOTS_OBEY is off")
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        rules: RobotsRules | None = getattr(self.crawler.spider, "robots", None)
        if request.meta.get(ROBOTS_META) or rules is None:
            return
        if not rules.allows(request.url):
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("newsvault/robots_denied")
            raise IgnoreRequest(f"forbidden by robots.txt: {request.url}")
