"""Turn one article page into clean text plus metadata (the "clean" step of the pipeline).

Two paths, one parse:

**Site-profile path** (``theme="tagdiv-newspaper"`` or an explicit ``content_selector``): the
page is parsed once with lxml, metadata is read from the head and the post header, then the tree
is narrowed to the content container (``div.td-post-content`` for tagDiv "Newspaper"), what the
theme and plugins inject into a post body is removed (styles, scripts, inline ad slots, WordAds,
share buttons, newsletter and related-post widgets, forms, the featured image, image captions),
and the text is taken block by block. The byline block at the top of the body is parsed by
:func:`flows.byline.parse_byline` and removed from the text.

Why block-level extraction and not trafilatura on the narrowed container: the content selector
has already done trafilatura's job (finding the main content), and on a pre-cleaned container
trafilatura's heuristics can only lose text. Measured on trafilatura 2.3.1 with such containers:
``favor_precision`` drops paragraphs that are a single link ("Read the full statement on
Telegram"); ``favor_recall`` outputs loose text next to ``<br>`` twice; the default mode dropped
the last paragraph of a 14-block body depending on what preceded it; list items come out as
``- item`` and tables as ``| a | b |``. The ground truth is "one paragraph per block, exactly",
which a direct walk gives by construction (and about 10 times faster). trafilatura remains the
extractor of the generic path.

**Generic path** (no theme or selector, or the selector matches nothing / yields no text):
trafilatura ``bare_extraction`` over the whole page with metadata, combined with JSON-LD and
OpenGraph/``article:*`` metadata (structured metadata wins for title and dates; trafilatura's
date comes from htmldate). If trafilatura finds no text, JSON-LD ``articleBody`` is used.

Decisions worth knowing:
- Image captions (``figcaption``, ``.wp-caption-text``) are dropped: on this site they are photo
  credits and alt-like labels, not part of the article's prose.
- ``<br>`` splits a block into separate paragraphs (the site pastes line-broken text and byline
  lines joined by ``<br>``); whitespace inside a paragraph collapses to one space.
- Embedded tweets keep their quoted text; their ``widgets.js`` script is removed like any script.
- Dates are ISO 8601 in UTC with a ``Z``; a source without an offset is taken as UTC; a date
  known only to the day (a byline date) is output as ``YYYY-MM-DD``.
- WordPress listing pages (body class ``archive``/``home``/``search``/``error404``) are not
  articles and raise :class:`~flows.errors.ExtractionError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _pkg_version
from typing import Any
from urllib.parse import urljoin

import lxml.etree as etree
import lxml.html
from lxml.cssselect import CSSSelector

from flows.byline import MAX_BYLINE_LINES, Byline, parse_byline
from flows.errors import ConfigError, ExtractionError
from flows.normalize import decode_html, normalize_paragraph, normalize_paragraphs

__all__ = [
    "CLEANER_VERSION",
    "EXTRACTOR_VERSION",
    "THEME_SELECTORS",
    "CleanedArticle",
    "clean_html",
]

CLEANER_VERSION = "0.1.0"
TAGDIV_THEME = "tagdiv-newspaper"
THEME_SELECTORS: dict[str, str] = {TAGDIV_THEME: "div.td-post-content"}
EXTRACTOR_SITE = "newsvault-tagdiv"
EXTRACTOR_GENERIC = "newsvault-generic"
SITE_NAMES: tuple[str, ...] = ("Fort Russ News", "Fort Russ")
# The generic path on a page with no sign of being an article (no JSON-LD Article, og:type
# article, article:published_time or WordPress "single" body class) needs this many words: it
# keeps menus and error pages ("Home", "Page not found") from passing as articles.
MIN_UNMARKED_WORDS = 20
_LETTER = re.compile(r"[^\W\d_]")


def _trafilatura_version() -> str:
    try:
        return _pkg_version("trafilatura")
    except PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "unknown"


EXTRACTOR_VERSION = f"{CLEANER_VERSION}+trafilatura-{_trafilatura_version()}"


@dataclass(frozen=True)
class CleanedArticle:
    """One article page, cleaned. ``text`` is ``"\\n".join(paragraphs)``."""

    title: str | None
    text: str
    paragraphs: tuple[str, ...]
    authors: tuple[str, ...]
    translator: str | None
    original_source: str | None
    published: str | None
    modified: str | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    language: str | None
    canonical_url: str | None
    post_id: int | None
    featured_image: str | None
    extractor: str
    extractor_version: str


# --------------------------------------------------------------------------------------------
# public entry point


def clean_html(
    html: bytes | str,
    url: str,
    *,
    content_selector: str | None = None,
    theme: str | None = None,
    encoding: str | None = None,
) -> CleanedArticle:
    """Clean one HTML page fetched from ``url``.

    ``theme`` selects a site profile (``"tagdiv-newspaper"``); ``content_selector`` (CSS)
    overrides the theme's content container; ``encoding`` is the charset from the HTTP header,
    if any. Raises :class:`ExtractionError` when the page holds no article text and
    :class:`ConfigError` for an unknown theme or an invalid selector.
    """
    if theme is not None and theme not in THEME_SELECTORS:
        known = ", ".join(sorted(THEME_SELECTORS))
        raise ConfigError(
            f"unknown cleaner theme {theme!r} (known: {known}); fix [extract] theme in the "
            "site profile or leave it out for generic extraction"
        )
    selector = content_selector or (THEME_SELECTORS[theme] if theme else None)
    matcher = _compile_selector(selector) if selector else None
    text = html if isinstance(html, str) else decode_html(html, encoding)[0]
    tree = _parse(text, url)
    page = _read_page(tree, url)
    if page.listing:
        raise _no_text(url, selector)

    if matcher is not None:
        containers = _elements(matcher(tree))
        if containers:
            _strip_noise(containers[0])
            blocks = _junk_filtered(_blocks(containers[0]))
            article = _assemble(blocks, page, url, EXTRACTOR_SITE, byline_ok=_byline_ok)
            if article is not None:
                return article

    paragraphs, fallback = _generic_text(tree, url)
    blocks = [_Block(p, "p") for p in paragraphs]
    if not blocks and page.ld_body:
        blocks = [_Block(p, "p") for p in normalize_paragraphs(page.ld_body.splitlines())]
    page = page.with_fallback(fallback)
    article = _assemble(_junk_filtered(blocks), page, url, EXTRACTOR_GENERIC)
    if article is None or (
        not page.marked_article and len(article.text.split()) < MIN_UNMARKED_WORDS
    ):
        raise _no_text(url, selector)
    return article


def _no_text(url: str, selector: str | None) -> ExtractionError:
    return ExtractionError(
        f"no article text found in {url}: not an article page, or the content selector "
        f"'{selector or '(none)'}' no longer matches (site layout changed?)"
    )


@lru_cache(maxsize=64)
def _compile_selector(selector: str) -> CSSSelector:
    try:
        return CSSSelector(selector)
    except Exception as exc:  # cssselect raises several unrelated exception types
        raise ConfigError(
            f"content selector {selector!r} is not valid CSS: {exc}; fix [extract] "
            "content_selector in the site profile"
        ) from exc


def _parse(text: str, url: str) -> lxml.html.HtmlElement:
    # lxml refuses str input that carries an XML encoding declaration
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text, count=1)
    if not text.strip():
        raise ExtractionError(f"no article text found in {url}: the page is empty")
    try:
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
        return lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError(f"cannot parse {url} as HTML: {exc}") from exc


# --------------------------------------------------------------------------------------------
# page metadata (read before the tree is modified)


@dataclass(frozen=True)
class _Page:
    h1: str | None = None
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
    structured_first: bool = False
    fallback: dict[str, Any] = field(default_factory=dict)

    def with_fallback(self, fallback: dict[str, Any]) -> _Page:
        return replace(self, fallback=fallback, structured_first=True)

    def title(self) -> str | None:
        generic = self.fallback.get("title")
        if self.structured_first:
            order = (self.ld_headline, self.og_title, self.h1, generic, self.html_title)
        else:
            order = (self.h1, self.og_title, self.ld_headline, generic, self.html_title)
        return next((t for t in order if t), None)


def _by_class(node: etree._Element, tag: str, name: str) -> list[etree._Element]:
    """Descendants ``<tag class="... name ...">`` (a cheap ``contains()`` filtered exactly)."""
    found = _els(node, f".//{tag}[contains(@class, '{name}')]")
    return [e for e in found if name in (e.get("class") or "").split()]


def _elements(result: object) -> list[etree._Element]:
    """The elements in an XPath result (lxml's stubs type results as a broad union)."""
    return [e for e in result if isinstance(e, etree._Element)] if isinstance(result, list) else []


@lru_cache(maxsize=256)
def _xpath(path: str) -> etree.XPath:
    return etree.XPath(path)


def _els(node: etree._Element, path: str) -> list[etree._Element]:
    """Elements an XPath selects."""
    return _elements(_xpath(path)(node))


def _strs(node: etree._Element, path: str) -> list[str]:
    """Attribute or text values an XPath selects."""
    result = _xpath(path)(node)
    return [str(v) for v in result if isinstance(v, str)] if isinstance(result, list) else []


def _text(el: etree._Element) -> str:
    return normalize_paragraph(" ".join(t for t in el.itertext() if isinstance(t, str)))


def _meta(tree: lxml.html.HtmlElement, *keys: str) -> list[str]:
    """Values of ``<meta property|name=key content>``, in document order."""
    wanted = {k.lower() for k in keys}
    out: list[str] = []
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").lower()
        content = el.get("content")
        if key in wanted and content and content.strip():
            out.append(normalize_paragraph(content))
    return out


def _first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for v in values:
        if v and v.casefold() not in {s.casefold() for s in seen}:
            seen[v] = None
    return tuple(seen)


_SITE_SUFFIX = re.compile(r"\s+[-–—|:·•]\s+(?P<site>[^-–—|:·•]{2,60})$")


def _strip_site_suffix(title: str | None, sites: Iterable[str]) -> str | None:
    if not title:
        return None
    m = _SITE_SUFFIX.search(title)
    if m and m.group("site").strip().casefold() in {s.casefold() for s in sites}:
        title = title[: m.start()].strip()
    return title or None


def _read_page(tree: lxml.html.HtmlElement, url: str) -> _Page:
    ld = _json_ld_article(tree)
    site_names = (*_meta(tree, "og:site_name"), *SITE_NAMES)

    body = tree.find("body")
    body_classes = set((body.get("class") or "").split()) if body is not None else set()
    listing = bool(body_classes & {"archive", "home", "blog", "search", "error404"}) and not (
        body_classes & {"single", "single-post", "page-template-default"}
    )

    header = _by_class(tree, "div", "td-post-header")
    scope: etree._Element = header[0] if header else tree

    h1 = _first(_text(e) for e in _by_class(scope, "h1", "entry-title"))
    title_el = tree.find(".//title")
    html_title = _strip_site_suffix(_text(title_el), site_names) if title_el is not None else None

    times = [
        e.get("datetime", "")
        for e in _by_class(scope if header else _article_scope(tree), "time", "entry-date")
        if e.get("datetime")
    ]
    published = _first(
        _iso_utc(v)
        for v in (*_meta(tree, "article:published_time"), *times[:1], _ld_str(ld, "datePublished"))
    )
    modified = _first(
        _iso_utc(v)
        for v in (
            *_meta(tree, "article:modified_time", "og:updated_time"),
            _ld_str(ld, "dateModified"),
        )
    )

    authors = _unique(
        _text(a) for d in _by_class(scope, "div", "td-post-author-name") for a in d.iter("a")
    )
    if not authors:
        authors = _unique((*_ld_authors(tree, ld), *_meta(tree, "author", "article:author")))
        authors = tuple(a for a in authors if not a.startswith(("http://", "https://")))

    cats_ul = _by_class(scope if header else _article_scope(tree), "ul", "td-category")
    categories = _unique(_text(a) for a in cats_ul[0].iter("a")) if cats_ul else ()
    categories = (
        categories or _unique(_meta(tree, "article:section")) or _ld_list(ld, "articleSection")
    )

    tag_links = [a for ul in _by_class(tree, "ul", "td-tags") for a in ul.iter("a")]
    tags = _unique(t for t in (_text(a) for a in tag_links) if t.casefold() != "tags")
    tags = tags or _unique(_meta(tree, "article:tag")) or _ld_list(ld, "keywords")

    html_el = tree if tree.tag == "html" else tree.find(".//html")
    language = _language(html_el.get("lang") if html_el is not None else None)
    language = language or _first(
        _language(v)
        for v in (*_meta(tree, "content-language", "og:locale"), _ld_str(ld, "inLanguage"))
    )

    canonical = _first(
        urljoin(url, href)
        for href in _strs(tree, "//link[@rel='canonical']/@href")
        if isinstance(href, str) and href.strip()
    ) or _first(urljoin(url, u) for u in _meta(tree, "og:url"))

    return _Page(
        h1=h1,
        og_title=_strip_site_suffix(_first(_meta(tree, "og:title")), site_names),
        ld_headline=normalize_paragraph(_ld_str(ld, "headline") or "") or None,
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
        ld_body=_ld_str(ld, "articleBody"),
        listing=listing,
        marked_article=bool(
            ld
            or _meta(tree, "article:published_time")
            or "article" in (v.lower() for v in _meta(tree, "og:type"))
            or body_classes & {"single", "single-post"}
        ),
    )


def _article_scope(tree: lxml.html.HtmlElement) -> etree._Element:
    """The post's ``<article>`` when there is one (keeps sidebar teasers out), else the page."""
    articles = _els(tree, "//article[starts-with(@id, 'post-')]") or _els(tree, "//article")
    return articles[0] if articles else tree


def _post_id(tree: lxml.html.HtmlElement, body_classes: set[str]) -> int | None:
    for cls in sorted(body_classes):
        if m := re.fullmatch(r"postid-(\d+)", cls):
            return int(m.group(1))
    for art_id in _strs(tree, "//article/@id"):
        if m := re.fullmatch(r"post-(\d+)", str(art_id)):
            return int(m.group(1))
    for href in _strs(tree, "//link[@rel='shortlink']/@href"):
        if m := re.search(r"[?&]p=(\d+)", str(href)):
            return int(m.group(1))
    return None


def _featured_image(tree: lxml.html.HtmlElement, url: str, ld: dict[str, Any]) -> str | None:
    images = [i for d in _by_class(tree, "div", "td-post-featured-image") for i in d.iter("img")]
    for img in images:
        for attr in ("src", "data-src", "data-lazy-src"):
            src = (img.get(attr) or "").strip()
            if src and not src.startswith("data:"):
                return urljoin(url, src)
    if og := _first(_meta(tree, "og:image")):
        return urljoin(url, og)
    image = ld.get("image")
    if isinstance(image, list):
        image = image[0] if image else None
    if isinstance(image, dict):
        image = image.get("url") or image.get("contentUrl")
    return urljoin(url, image) if isinstance(image, str) and image.strip() else None


def _language(value: str | None) -> str | None:
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _iso_utc(value: str | None) -> str | None:
    """ISO 8601 in UTC ("2017-07-23T11:32:00Z"); a bare date stays a date; junk gives None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return datetime.fromisoformat(value).date().isoformat()
        except ValueError:
            return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# JSON-LD -------------------------------------------------------------------------------------

_ARTICLE_TYPES = frozenset(
    "Article NewsArticle BlogPosting ReportageNewsArticle AnalysisNewsArticle OpinionNewsArticle "
    "BackgroundNewsArticle ReviewNewsArticle TechArticle ScholarlyArticle Report "
    "SocialMediaPosting LiveBlogPosting".split()
)


def _ld_nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _ld_nodes(data["@graph"])


def _ld_all(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for script in _els(tree, "//script[@type='application/ld+json']"):
        try:
            nodes.extend(_ld_nodes(json.loads(script.text or "", strict=False)))
        except (ValueError, RecursionError):
            continue
    return nodes


def _ld_article(tree: lxml.html.HtmlElement) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    nodes = _ld_all(tree)
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    for node in nodes:
        types = node.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and t in _ARTICLE_TYPES for t in types):
            return node, by_id
    return {}, by_id


def _json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    article, by_id = _ld_article(tree)
    if article:
        article = {**article, "_by_id": by_id}
    return article


def _ld_str(ld: dict[str, Any], key: str) -> str | None:
    value = ld.get(key)
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value.strip() or None if isinstance(value, str) else None


def _ld_list(ld: dict[str, Any], key: str) -> tuple[str, ...]:
    value = ld.get(key)
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return ()
    return _unique(normalize_paragraph(v) for v in items if isinstance(v, str))


def _ld_authors(tree: lxml.html.HtmlElement, ld: dict[str, Any]) -> list[str]:
    value = ld.get("author")
    by_id: dict[str, dict[str, Any]] = ld.get("_by_id", {})
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and "name" not in item and isinstance(item.get("@id"), str):
            item = by_id.get(item["@id"], item)
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            out.append(normalize_paragraph(name))
    return out


# --------------------------------------------------------------------------------------------
# the narrowed container: noise removal and block extraction

_NOISE_TAGS = (
    "style script noscript template iframe object embed svg canvas form input button select "
    "textarea label figcaption"
).split()
_NOISE_CLASSES = (
    # tagDiv ads, blocks and widgets
    "td-a-rec td-a-rec-id-content_inline td-adspot-title td-g-rec td_block_wrap "
    "tdn_block_newsletter_subscribe td_block_related_posts td-post-sharing td-post-sharing-top "
    "td-post-sharing-bottom td-post-featured-image td-post-source-tags td-post-next-prev "
    # WordAds / AdSense / Ad Inserter
    "wpcnt wpa wpa-about adsbygoogle code-block "
    # Jetpack share buttons and related posts, AddToAny
    "sharedaddy sd-sharing-enabled sd-block jp-relatedposts addtoany_share_save_container "
    # WordPress image captions (photo credits, not prose)
    "wp-caption-text wp-caption-dd"
).split()
_NOISE_TAG_SET = frozenset(_NOISE_TAGS)
_NOISE_CLASS_SET = frozenset(_NOISE_CLASSES)


def _is_noise(el: etree._Element) -> bool:
    if not isinstance(el.tag, str) or el.tag.lower() in _NOISE_TAG_SET:
        return True
    if _NOISE_CLASS_SET.intersection((el.get("class") or "").split()):
        return True
    if (el.get("id") or "").startswith("atatags-"):
        return True
    return "display:none" in (el.get("style") or "").replace(" ", "").lower()


def _drop(el: etree._Element) -> None:
    """Remove ``el`` but keep its tail text (it belongs to the parent)."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _strip_noise(container: etree._Element) -> None:
    """Remove what the theme and plugins inject into a post body (tagDiv and WordPress classes,
    harmless on other themes)."""
    for el in [e for e in container.iterdescendants() if _is_noise(e)]:
        if el.getparent() is not None:  # not already gone with a noisy ancestor
            _drop(el)


_BLOCK_TAGS = frozenset(
    "p div section article aside header footer main nav h1 h2 h3 h4 h5 h6 blockquote ul ol li "
    "dl dt dd pre table thead tbody tfoot tr td th caption figure address center hr details "
    "summary".split()
)
_BYLINE_KINDS = frozenset({"p", "div", "section", "center", "container"})


@dataclass(frozen=True)
class _Block:
    text: str
    kind: str  # the enclosing block tag ("p", "h2", "blockquote", ...)


def _blocks(container: etree._Element) -> list[_Block]:
    """One paragraph per block element (and per ``<br>``-separated line), in document order."""
    out: list[_Block] = []
    buf: list[str] = []
    stack: list[str] = ["container"]
    kind = "container"

    def flush() -> None:
        nonlocal kind
        text = normalize_paragraph("".join(buf))
        if text:
            out.append(_Block(text, kind))
        buf.clear()
        kind = stack[-1]

    def add(text: str | None) -> None:
        nonlocal kind
        if text:
            if not buf or not "".join(buf).strip():
                kind = stack[-1]
            buf.append(text)

    walker = etree.iterwalk(container, events=("start", "end"))
    for event, el in walker:
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if el is container:
            if event == "start":
                add(el.text)
            continue
        if event == "start":
            if not tag or tag in _NOISE_TAGS:
                walker.skip_subtree()
                continue
            if tag == "br":
                flush()
            elif tag in _BLOCK_TAGS:
                flush()
                stack.append(tag)
            add(el.text)
        else:
            if tag in _BLOCK_TAGS:
                flush()
                stack.pop()
            add(el.tail)
    flush()
    return out


# Paragraph-level junk that survives when a widget is rendered without its usual classes.
_JUNK_EXACT = frozenset(
    s.casefold()
    for s in (
        "- Advertisement -",
        "– Advertisement –",
        "Advertisement",
        "Advertisements",
        "Report this ad",
        "Privacy settings",
        "Subscribe to our newsletter",
        "Sign up here to get the latest news, updates and special offers delivered directly "
        "to your inbox.",
        "You can unsubscribe at any time",
    )
)
_JUNK_CSS = re.compile(r"^(?:\s*@?[\w.#:>*+~\[\]=\"' ,()-]*\{[^{}]*\})+\s*$")
_JUNK_JS = re.compile(
    r"__ATA\.|\(adsbygoogle\s*=\s*window\.adsbygoogle|googletag\.cmd\.push|"
    r"window\.twttr\s*=|document\.getElementById\("
)


def _is_junk(text: str) -> bool:
    return (
        text.casefold() in _JUNK_EXACT
        or _JUNK_CSS.match(text) is not None
        or _JUNK_JS.search(text) is not None
    )


def _junk_filtered(blocks: Iterable[_Block]) -> list[_Block]:
    return [b for b in blocks if not _is_junk(b.text)]


def _byline_ok(block: _Block) -> bool:
    return block.kind in _BYLINE_KINDS


# --------------------------------------------------------------------------------------------
# the generic path


def _generic_text(tree: lxml.html.HtmlElement, url: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """trafilatura over the whole page: (paragraphs, its metadata). Consumes ``tree``."""
    import trafilatura  # imported here: the site path does not need it

    # favor_precision: in the default balance trafilatura takes a short tagDiv page's whole
    # <article> (category, title, "By Fort Russ", share buttons, byline, body) as one paragraph.
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    if doc is None:
        return (), {}
    data: dict[str, Any] = doc.as_dict() if hasattr(doc, "as_dict") else dict(vars(doc))
    text = data.get("text") or ""
    fallback = {
        "title": normalize_paragraph(data.get("title") or "") or None,
        "date": data.get("date"),
        "author": data.get("author"),
        "categories": data.get("categories") or [],
        "tags": data.get("tags") or [],
        "image": data.get("image"),
    }
    return normalize_paragraphs(text.split("\n")), fallback


# --------------------------------------------------------------------------------------------
# putting it together


def _assemble(
    blocks: list[_Block],
    page: _Page,
    url: str,
    extractor: str,
    *,
    byline_ok: Callable[[_Block], bool] = lambda _b: True,
) -> CleanedArticle | None:
    head: list[str] = []
    for block in blocks[:MAX_BYLINE_LINES]:
        if not byline_ok(block):
            break
        head.append(block.text)
    title = page.title()
    if blocks and title and blocks[0].text.casefold() == title.casefold():
        blocks, head = blocks[1:], head[1:]  # trafilatura keeps the <h1> on some pages
    byline: Byline | None = parse_byline(head, site_names=SITE_NAMES) if head else None
    consumed = byline.consumed if byline else 0
    paragraphs = tuple(b.text for b in blocks[consumed:])
    if not any(_LETTER.search(p) for p in paragraphs):
        return None
    fb = page.fallback

    published = page.published
    if published is None and byline is not None and byline.published is not None:
        published = byline.published.isoformat()
    if published is None:
        published = _iso_utc(fb.get("date"))

    if byline is not None and byline.author:
        authors: tuple[str, ...] = (byline.author,)
    else:
        authors = page.authors or _unique(
            normalize_paragraph(a) for a in re.split(r";|\band\b", fb.get("author") or "")
        )

    text = "\n".join(paragraphs)
    fb_image = fb.get("image")
    return CleanedArticle(
        title=title,
        text=text,
        paragraphs=paragraphs,
        authors=authors,
        translator=byline.translator if byline else None,
        original_source=byline.source if byline else None,
        published=published,
        modified=page.modified,
        categories=page.categories or _unique(fb.get("categories", [])),
        tags=page.tags or _unique(fb.get("tags", [])),
        language=page.language or _detect_language(text),
        canonical_url=page.canonical,
        post_id=page.post_id,
        featured_image=page.image or (urljoin(url, fb_image) if fb_image else None),
        extractor=extractor,
        extractor_version=EXTRACTOR_VERSION,
    )


# A last-resort language guess from function words, for pages without <html lang> or metadata.
_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to in is that for with was on as are by this from".split()),
    "de": frozenset("der die und das ist nicht mit den von zu ein eine auf für sich".split()),
    "fr": frozenset("le la les et des est une dans que pour qui sur pas par du".split()),
    "es": frozenset("el la los las y que de en es por una con para del se".split()),
    "it": frozenset("il di che la è e per una sono con non della del gli".split()),
    "pt": frozenset("o a os as e que de não uma para com do da em é".split()),
    "ru": frozenset("и в не на что с по как это от для из его но он".split()),
    "uk": frozenset("і в не на що з та як це від для до його але він".split()),
}


def _detect_language(text: str) -> str | None:
    words = re.findall(r"[^\W\d_]+", text[:5000].lower())
    if len(words) < 5:
        return None
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOPWORDS.items()}
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 3 or top < 1.5 * second:
        return None
    return best
