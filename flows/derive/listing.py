"""What the site listed in this run: article URLs named by its sitemaps and feeds.

Read from the archived sitemap and feed responses (WARC is the source of truth), so a deletion
by disappearance ("no longer in the sitemap or the feed") is decided from evidence in the archive.
``complete`` is true only when every sitemap an index named was itself archived with a 200 —
without that, absence proves nothing. The documents are read by ``flows.sites.read_listing``,
as the spider read them (gzipped sitemaps included).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.sites import FEED_KINDS, is_gzipped, read_listing


@dataclass
class Listing:
    urls: set[str] = field(default_factory=set)
    sitemaps_named: set[str] = field(default_factory=set)
    sitemaps_read: set[str] = field(default_factory=set)
    feeds_read: int = 0
    last_read: str = ""  # WARC-Date of the latest sitemap or feed read

    @property
    def complete(self) -> bool:
        return bool(self.sitemaps_read) and self.sitemaps_named <= self.sitemaps_read

    def add(self, url: str, status: int, content_type: str, body: bytes, warc_date: str) -> None:
        """Take in one archived response (its body decoded from its Content-Encoding), if it is
        a sitemap or a feed: XML by its type, or a gzip stream (``.xml.gz``) whatever its type."""
        kind = content_type.lower()
        if status != 200:
            return
        if not ("xml" in kind or "rss" in kind or "atom" in kind or is_gzipped(body)):
            return
        try:
            document = read_listing(body, url)
        except Exception:  # noqa: BLE001 (poison input: whatever broke, an unread document
            return  # leaves the listing incomplete, so nothing is judged deleted by absence)
        if document.kind == "sitemapindex":
            self.sitemaps_read.add(url)
            self.sitemaps_named.update(u.url for u in document.urls)
        elif document.kind == "urlset":
            self.sitemaps_read.add(url)
            self.urls.update(u.url for u in document.urls)
        elif document.kind in FEED_KINDS:
            self.feeds_read += 1
            self.urls.update(u.url for u in document.urls)
        else:
            return
        self.last_read = max(self.last_read, warc_date)
