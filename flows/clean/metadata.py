"""Page metadata: what a page says about its article outside the article text.

Read once from the parsed tree, before the cleaner modifies it: the tagDiv post header (title,
author link, date, categories), the tags box, ``<meta>`` (OpenGraph and ``article:*``), JSON-LD,
``<link rel=canonical|shortlink>``, the body classes WordPress writes (``postid-N``, ``single``,
``archive``). The cleaner combines these with what the byline block and trafilatura say.

Dates are ISO 8601 in UTC with a ``Z`` (the source offset honoured: ``23:30+03:00`` is
``20:30Z``); a source without an offset is taken as UTC; a date known only to the day is output
as ``YYYY-MM-DD``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import lxml.etree as etree

from flows.clean.dom import by_class, els, first, meta, strs, text_of, unique
from flows.clean.headline import pick_headline
from flows.clean.jsonld import ld_article, ld_authors, ld_list, ld_str
from flows.clean.language import language_code
from flows.clean.normalize import normalize_paragraph
from flows.clean.people import SiteNames, people

__all__ = ["PageMeta", "iso_utc", "read_page"]


@dataclass(frozen=True)
class PageMeta:
    """Metadata read from one page (None or empty where the page does not say)."""

    h1: str | None = None
    headline: str | None = None
    og_title: str | None = None
    ld_headline: str | None = None
    html_title: str | None = None
    published: str | None = None
    modified: str | None = None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    language: str | None = None
    canonical: str | None = None
    post_id: int | None = None
    image: str | None = None
    ld_body: str | None = None
    listing: bool = False
    marked_article: bool = False
    site: SiteNames = field(default_factory=SiteNames)

    def title(self, generic: str | None = None, *, structured_first: bool = False) -> str | None:
        """The article title: the post header's ``<h1>`` first on a profiled page, structured
        metadata checked against the ``<h1>`` on a generic one (:mod:`flows.clean.headline`);
        trafilatura's and ``<title>`` last."""
        order: tuple[str | None, ...]
        if structured_first:
            order = (self.headline, generic, self.html_title)
        else:
            order = (self.h1, self.og_title, self.ld_headline, generic, self.html_title)
        return next((t for t in order if t), None)


_SITE_SUFFIX = re.compile(r"\s+[-–—|:·•]\s+(?P<site>[^-–—|:·•]{2,60})$")


def _strip_site_suffix(title: str | None, sites: Iterable[str]) -> str | None:
    if not title:
        return None
    m = _SITE_SUFFIX.search(title)
    if m and m.group("site").strip().casefold() in {s.casefold() for s in sites}:
        title = title[: m.start()].strip()
    return title or None


def read_page(tree: etree._Element, url: str, site_names: Sequence[str] = ()) -> PageMeta:
    """``site_names``: the profile's names of the site, stripped from titles (with the page's
    own ``og:site_name``)."""
    ld = ld_article(tree)
    site_names = (*meta(tree, "og:site_name"), *site_names)

    body = tree.find("body")
    body_classes = set((body.get("class") or "").split()) if body is not None else set()
    listing = bool(body_classes & {"archive", "home", "blog", "search", "error404"}) and not (
        body_classes & {"single", "single-post", "page-template-default"}
    )

    header = by_class(tree, "div", "td-post-header")
    scope: etree._Element = header[0] if header else tree

    h1 = first(text_of(e) for e in by_class(scope, "h1", "entry-title"))
    title_el = tree.find(".//title")
    html_title = _strip_site_suffix(text_of(title_el), site_names) if title_el is not None else None

    times = [
        e.get("datetime", "")
        for e in by_class(scope if header else _article_scope(tree), "time", "entry-date")
        if e.get("datetime")
    ]
    published = first(
        iso_utc(v)
        for v in (
            *meta(tree, "article:published_time"),
            *times[:1],
            ld_str(ld, "datePublished"),
            *meta(tree, *_PUBLISHED_KEYS),
        )
    )
    modified = first(
        iso_utc(v)
        for v in (
            *meta(tree, "article:modified_time", "og:updated_time"),
            ld_str(ld, "dateModified"),
            *meta(tree, *_MODIFIED_KEYS),
        )
    )

    h1s = [text_of(e) for e in els(tree, "//h1")[:_MAX_H1]]
    raw_title = text_of(title_el) if title_el is not None else None
    site = SiteNames.of(
        url, (*site_names, *meta(tree, "application-name")), _title_segments(raw_title)
    )
    headline = pick_headline(
        normalize_paragraph(ld_str(ld, "headline") or "") or None,
        first(meta(tree, "og:title")),
        h1s,
        raw_title,
        site,
    )
    authors = unique(
        text_of(a) for d in by_class(scope, "div", "td-post-author-name") for a in d.iter("a")
    )
    if not authors:
        for source in (ld_authors(ld, persons_only=True), meta(tree, *_AUTHOR_KEYS)):
            authors = unique(p for value in source for p in people(value, site))
            if authors:
                break
        else:  # the first byline near the headline that names a person
            found = (people(value, site) for value in _visible_bylines(tree, headline))
            authors = next((names for names in found if names), ())

    cats_ul = by_class(scope if header else _article_scope(tree), "ul", "td-category")
    categories = unique(text_of(a) for a in cats_ul[0].iter("a")) if cats_ul else ()
    categories = (
        categories or unique(meta(tree, "article:section")) or ld_list(ld, "articleSection")
    )

    tag_links = [a for ul in by_class(tree, "ul", "td-tags") for a in ul.iter("a")]
    tags = unique(t for t in (text_of(a) for a in tag_links) if t.casefold() != "tags")
    tags = tags or unique(meta(tree, "article:tag")) or ld_list(ld, "keywords")

    html_el = tree if tree.tag == "html" else tree.find(".//html")
    language = language_code(html_el.get("lang") if html_el is not None else None)
    language = language or first(
        language_code(v)
        for v in (*meta(tree, "content-language", "og:locale"), ld_str(ld, "inLanguage"))
    )

    canonical = first(
        urljoin(url, href)
        for href in strs(tree, "//link[@rel='canonical']/@href")
        if isinstance(href, str) and href.strip()
    ) or first(urljoin(url, u) for u in meta(tree, "og:url"))

    return PageMeta(
        h1=h1,
        headline=headline,
        og_title=_strip_site_suffix(first(meta(tree, "og:title")), site_names),
        ld_headline=normalize_paragraph(ld_str(ld, "headline") or "") or None,
        html_title=html_title,
        published=published,
        modified=modified,
        authors=authors,
        categories=categories,
        tags=tags,
        language=language,
        canonical=canonical,
        post_id=_post_id(tree, body_classes),
        image=_featured_image(tree, url, ld),
        ld_body=ld_str(ld, "articleBody"),
        listing=listing,
        site=site,
        marked_article=bool(
            ld
            or meta(tree, "article:published_time")
            or "article" in (v.lower() for v in meta(tree, "og:type"))
            or body_classes & {"single", "single-post"}
        ),
    )


_MAX_H1 = 3
_AUTHOR_KEYS = (
    "author article:author parsely-author sailthru.author dc.creator cxenseparse:author byl"
).split()
_TITLE_SEP = re.compile(r"\s+[-–—|·•]\s+")
_BYLINE_HINTS = ("author", "byline", "auteur", "autor", "verfasser")
_BYLINE_LEVELS = 5
_BYLINE_BEFORE, _BYLINE_AFTER = 40, 100  # elements around the <h1>: further away are teasers
_CREDIT_HINTS = ("image", "img", "photo", "foto", "bild", "credit", "caption", "comment", "source")
_BYLINE_START = re.compile(r"(?:by|von|par|por|autor|author)\b", re.IGNORECASE)


def _title_segments(title: str | None) -> list[str]:
    """The outer segments of ``<title>`` around its longest one (the headline): the site's
    name and section, as the page spells them."""
    parts = _TITLE_SEP.split(title or "")
    if len(parts) < 2:
        return []
    longest = max(parts, key=len)
    return [p for p in (parts[0], parts[-1]) if p is not longest]


def _visible_bylines(tree: etree._Element, headline: str | None) -> list[str]:
    """Texts of byline elements (class, id, ``rel`` or ``itemprop`` naming the author) in the
    headline's neighbourhood: the headline's ``<h1>`` (else the first), its ancestors up to five
    levels, and there the elements just before and after it, so teasers with their own authors
    are not read."""
    heads = els(tree, "//h1|//h2")
    h1 = next((h for h in heads if headline and text_of(h) == headline), None)
    h1 = h1 if h1 is not None else next(iter(els(tree, "//h1")), None)
    if h1 is None:
        return []
    scope = h1
    for _ in range(_BYLINE_LEVELS):
        parent = scope.getparent()
        if parent is None or parent.tag in {"body", "html"}:
            break
        scope = parent
    out: list[str] = []
    for sibling in list(h1.itersiblings())[:2]:
        text = text_of(sibling) if isinstance(sibling.tag, str) else ""
        if _BYLINE_START.match(text) and len(text) <= 120:
            out.append(text)
    nodes = [el for el in scope.iter() if isinstance(el.tag, str)]
    at = nodes.index(h1)
    for el in nodes[max(at - _BYLINE_BEFORE, 0) : at + _BYLINE_AFTER]:
        marks = " ".join(
            (
                el.get("class") or "",
                el.get("id") or "",
                el.get("rel") or "",
                el.get("itemprop") or "",
            )
        ).casefold()
        if any(h in marks for h in _BYLINE_HINTS) and not any(c in marks for c in _CREDIT_HINTS):
            text = text_of(el)
            if text and len(text) <= 80:
                out.append(text)
    return out


def _article_scope(tree: etree._Element) -> etree._Element:
    """The post's ``<article>`` when there is one (keeps sidebar teasers out), else the page."""
    articles = els(tree, "//article[starts-with(@id, 'post-')]") or els(tree, "//article")
    return articles[0] if articles else tree


def _post_id(tree: etree._Element, body_classes: set[str]) -> int | None:
    for cls in sorted(body_classes):
        if m := re.fullmatch(r"postid-(\d+)", cls):
            return int(m.group(1))
    for art_id in strs(tree, "//article/@id"):
        if m := re.fullmatch(r"post-(\d+)", str(art_id)):
            return int(m.group(1))
    for href in strs(tree, "//link[@rel='shortlink']/@href"):
        if m := re.search(r"[?&]p=(\d+)", str(href)):
            return int(m.group(1))
    return None


def _featured_image(tree: etree._Element, url: str, ld: dict[str, Any]) -> str | None:
    images = [i for d in by_class(tree, "div", "td-post-featured-image") for i in d.iter("img")]
    for img in images:
        for attr in ("src", "data-src", "data-lazy-src"):
            src = (img.get(attr) or "").strip()
            if src and not src.startswith("data:"):
                return urljoin(url, src)
    if og := first(meta(tree, "og:image")):
        return urljoin(url, og)
    image = ld.get("image")
    if isinstance(image, list):
        image = image[0] if image else None
    if isinstance(image, dict):
        image = image.get("url") or image.get("contentUrl")
    return urljoin(url, image) if isinstance(image, str) and image.strip() else None


# Other meta tags that carry dates (Dublin Core, Parse.ly, Sailthru, microdata), after the
# OpenGraph, <time> and JSON-LD ones.
_PUBLISHED_KEYS = (
    "og:article:published_time datepublished dc.date dc.date.issued dcterms.created "
    "dcterms.issued parsely-pub-date sailthru.date pubdate publishdate date"
).split()
_MODIFIED_KEYS = "og:article:modified_time datemodified dcterms.modified last-modified".split()


def iso_utc(value: str | None) -> str | None:
    """ISO 8601 in UTC ("2017-07-23T11:32:00Z"); a bare date stays a date; junk gives None."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("1970-01-01"):  # a CMS's placeholder (Unix time 0), not a date
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.fromisoformat(value).date().isoformat()
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:  # RFC 2822, as some JSON-LD has it: "Tue, 4 May 2021 19:18:00 +0200"
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):  # year 1 with a positive offset
        return None
