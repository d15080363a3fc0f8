"""What a sitemap or feed names: the spider follows it and processing reads it back from the
archive to judge deletions by disappearance, both through ``read_listing``, so both see the same
URLs."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

from flows.errors import ExtractionError

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
