"""What the site listed in this run: article URLs named by its sitemaps and feeds.

Read from the archived sitemap and feed responses (WARC is the source of truth), so a deletion
by disappearance ("no longer in the sitemap or the feed") is decided from evidence in the archive.
``complete`` is true only when every sitemap an index named was itself archived with a 200 —
without that, absence proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from lxml import etree

if TYPE_CHECKING:
    from flows.derive.process import Capture

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else ""


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

    def add(self, capture: Capture) -> None:
        kind = capture.content_type.lower()
        if capture.status != 200 or not ("xml" in kind or "rss" in kind or "atom" in kind):
            return
        try:
            root = etree.fromstring(capture.body, parser=_PARSER)
        except (etree.XMLSyntaxError, ValueError):
            return
        if root is None:
            return
        name = _local(root.tag)
        if name in ("sitemapindex", "urlset", "rss", "feed"):
            self.last_read = max(self.last_read, capture.warc_date)
        if name == "sitemapindex":
            self.sitemaps_read.add(capture.url)
            self.sitemaps_named.update(_locs(root, capture.url))
        elif name == "urlset":
            self.sitemaps_read.add(capture.url)
            self.urls.update(_locs(root, capture.url))
        elif name in ("rss", "feed"):
            self.feeds_read += 1
            for element in root.iter():
                tag = _local(element.tag)
                if tag == "link" and name == "rss" and element.text:
                    self.urls.add(urljoin(capture.url, element.text.strip()))
                elif tag == "link" and name == "feed" and element.get("href"):
                    self.urls.add(urljoin(capture.url, str(element.get("href"))))


def _locs(root: etree._Element, base: str) -> set[str]:
    return {
        urljoin(base, element.text.strip())
        for element in root.iter()
        if _local(element.tag) == "loc" and element.text
    }
