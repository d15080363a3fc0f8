"""Turn one article page into clean text plus metadata (the "clean" step of the pipeline).

This module is the facade: it checks the input, decodes and parses it once, and combines the
parts, each a module of its own:

- :mod:`flows.clean.normalize` decodes bytes (BOM, HTTP charset, ``<meta charset>``, detection;
wrong
  declarations overruled) and normalises every paragraph (entities, mojibake, NFC, whitespace);
- :mod:`flows.clean.metadata` (with :mod:`flows.clean.jsonld`) reads what the page says about the
article:
  title, dates, authors, categories, tags, canonical URL, post id, featured image;
- :mod:`flows.clean.tagdiv` is the site-profile path for the tagDiv "Newspaper" theme: the content
  container, cleaned of theme and plugin injections, walked block by block;
- :mod:`flows.clean.generic` is the path for any other page: trafilatura (precision mode) plus the
  structured metadata trafilatura does not use, and JSON-LD ``articleBody`` when it finds no text;
- :mod:`flows.clean.byline` parses the byline block at the top of the text (date, original source,
  translator, author) and says how many lines to drop;
- :mod:`flows.clean.language` picks the language (declared, checked by a real detector).

The site path runs when ``theme="tagdiv-newspaper"`` or a ``content_selector`` is given and the
container holds text; otherwise (or when the selector matches nothing) the generic path runs.

Input that holds no article raises :class:`CleanError` (an :class:`ExtractionError`) with a
``status``: ``"empty"`` (no bytes, or only whitespace), ``"not_html"`` (binary data, or text with
no markup at all), ``"no_article"`` (HTML, but no article text: a listing page, a menu-only or
error page, markup too broken to hold text). Broken markup and wrong or missing charsets are
not errors: lxml recovers what it can and :func:`~flows.clean.normalize.decode_html` fixes the
charset.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _pkg_version
from typing import Final, Literal
from urllib.parse import urljoin

from lxml.cssselect import CSSSelector

from flows.clean import tagdiv
from flows.clean.byline import MAX_BYLINE_LINES, parse_byline
from flows.clean.dom import Block, elements, parse_html, unique
from flows.clean.generic import GenericResult, extract_generic
from flows.clean.language import pick_language
from flows.clean.metadata import PageMeta, iso_utc, read_page
from flows.clean.normalize import decode_html, normalize_paragraph, normalize_paragraphs
from flows.clean.people import people
from flows.clean.quality import assess, link_texts, main_text_chars
from flows.clean.template import SiteTemplate
from flows.errors import ConfigError, ExtractionError

__all__ = [
    "CLEANER_VERSION",
    "EXTRACTOR_VERSION",
    "STATUS_EMPTY",
    "STATUS_NOT_HTML",
    "STATUS_NO_ARTICLE",
    "STATUS_OK",
    "THEME_SELECTORS",
    "CleanError",
    "CleanStatus",
    "CleanedArticle",
    "clean_html",
]

CLEANER_VERSION = "0.4.0"
TAGDIV_THEME = "tagdiv-newspaper"
THEME_SELECTORS: dict[str, str] = {TAGDIV_THEME: tagdiv.CONTENT_SELECTOR}
EXTRACTOR_SITE = "newsvault-tagdiv"
EXTRACTOR_GENERIC = "newsvault-generic"
# The generic path on a page with no sign of being an article (no JSON-LD Article, og:type
# article, article:published_time or WordPress "single" body class) needs this many words: it
# keeps menus and error pages ("Home", "Page not found") from passing as articles.
MIN_UNMARKED_WORDS = 20
_LETTER = re.compile(r"[^\W\d_]")
# Chinese and Japanese write no spaces between words: two characters count as one word.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")

CleanStatus = Literal["ok", "empty", "not_html", "no_article"]
STATUS_OK: Final = "ok"
STATUS_EMPTY: Final = "empty"
STATUS_NOT_HTML: Final = "not_html"
STATUS_NO_ARTICLE: Final = "no_article"


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
    # how far the extraction can be trusted (flows.clean.quality): 0..1 and what lowered it
    quality: float = 1.0
    quality_reasons: tuple[str, ...] = ()


class CleanError(ExtractionError):
    """The input holds no article; ``status`` says why (``empty``, ``not_html``,
    ``no_article``)."""

    def __init__(self, message: str, status: CleanStatus) -> None:
        super().__init__(message)
        self.status = status


# --------------------------------------------------------------------------------------------
# public entry point


def clean_html(
    html: bytes | str,
    url: str,
    *,
    content_selector: str | None = None,
    theme: str | None = None,
    encoding: str | None = None,
    site_names: Sequence[str] = (),
    template: SiteTemplate | None = None,
) -> CleanedArticle:
    """Clean one HTML page fetched from ``url``.

    ``theme`` selects a site profile (``"tagdiv-newspaper"``); ``content_selector`` (CSS)
    overrides the theme's content container; ``encoding`` is the charset from the HTTP header,
    if any; ``site_names`` are the names the site signs with (the profile's ``[extract]
    site_names``: stripped from titles, recognised in bylines); ``template`` is the site's
    template learned from its archived pages (:mod:`flows.clean.template`): on the generic path
    its boilerplate paragraphs are dropped, and its digest joins ``extractor_version``. Raises
    :class:`CleanError` (an
    :class:`ExtractionError`) when the input holds no article and :class:`ConfigError` for an
    unknown theme or an invalid selector.
    """
    if theme is not None and theme not in THEME_SELECTORS:
        known = ", ".join(sorted(THEME_SELECTORS))
        raise ConfigError(
            f"unknown cleaner theme {theme!r} (known: {known}); fix [extract] theme in the "
            "site profile or leave it out for generic extraction"
        )
    selector = content_selector or (THEME_SELECTORS[theme] if theme else None)
    matcher = _compile_selector(selector) if selector else None
    if isinstance(html, bytes):
        _check_bytes(html, url)
        html = decode_html(html, encoding)[0]
    _check_text(html, url)
    tree = parse_html(html)
    if tree is None:
        raise CleanError(f"no article text found in {url}: the page is empty", STATUS_EMPTY)
    page = read_page(tree, url, site_names)
    if page.listing:
        raise _no_text(url, selector)
    judge = _Judge(main_text_chars(tree, page.ld_body), link_texts(tree))

    if matcher is not None:
        containers = elements(matcher(tree))
        if containers:
            tagdiv.strip_noise(containers[0])
            blocks = tagdiv.junk_filtered(tagdiv.blocks(containers[0]))
            article = _assemble(
                blocks, page, url, EXTRACTOR_SITE, judge, site_names=site_names, site_path=True
            )
            if article is not None:
                return article

    generic = extract_generic(tree, url, judge.main_chars, judge.links)
    blocks = [Block(p, "p") for p in generic.paragraphs]
    if template is not None:  # what repeats across the site's pages is not this article
        blocks = [b for b in blocks if not template.is_boilerplate(b.text)]
    if not blocks and page.ld_body:
        blocks = [Block(p, "p") for p in normalize_paragraphs(page.ld_body.splitlines())]
    article = _assemble(
        tagdiv.junk_filtered(blocks),
        page,
        url,
        EXTRACTOR_GENERIC,
        judge,
        generic,
        site_names=site_names,
    )
    if article is None or (not page.marked_article and _words(article.text) < MIN_UNMARKED_WORDS):
        raise _no_text(url, selector)
    if template is not None:
        version = f"{EXTRACTOR_VERSION}+template-{template.digest()}"
        article = replace(article, extractor_version=version)
    return article


def _words(text: str) -> int:
    return len(_CJK.sub(" ", text).split()) + len(_CJK.findall(text)) // 2


def _no_text(url: str, selector: str | None) -> CleanError:
    if selector is None:  # the generic path: no selector was ever set to blame
        return CleanError(
            f"no article text found in {url}: not an article page, or a layout the generic "
            "cleaner cannot read (set [extract] content_selector in the site's profile)",
            STATUS_NO_ARTICLE,
        )
    return CleanError(
        f"no article text found in {url}: not an article page, or the content selector "
        f"'{selector}' no longer matches (site layout changed?)",
        STATUS_NO_ARTICLE,
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


# --------------------------------------------------------------------------------------------
# input checks

_BINARY_MAGIC = (
    b"%PDF",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",  # JPEG
    b"PK\x03\x04",  # zip, docx, epub
    b"\x1f\x8b",  # gzip (an undecoded Content-Encoding)
    b"BZh",
    b"\xfd7zXZ",
    b"RIFF",
    b"OggS",
    b"\x00\x00\x00",  # MP4/ISO media boxes, UTF-32
    b"\x7fELF",
)
_TAG = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9:-]*|!doctype|!--|/[a-zA-Z])", re.IGNORECASE)
_BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def _check_bytes(body: bytes, url: str) -> None:
    if not body.strip():
        raise CleanError(f"no article text found in {url}: the page is empty", STATUS_EMPTY)
    if body.lstrip().startswith(_BINARY_MAGIC):
        raise CleanError(f"{url} is not HTML: binary data ({body[:8]!r}...)", STATUS_NOT_HTML)


def _check_text(text: str, url: str) -> None:
    if not text.strip():
        raise CleanError(f"no article text found in {url}: the page is empty", STATUS_EMPTY)
    head = text[:8192]
    if len(_BINARY_CHARS.findall(head)) > max(8, len(head) // 100):
        raise CleanError(f"{url} is not HTML: binary data", STATUS_NOT_HTML)
    if _TAG.search(text[:1_000_000]) is None:
        raise CleanError(f"{url} is not HTML: no markup in {len(text)} characters", STATUS_NOT_HTML)


# --------------------------------------------------------------------------------------------
# putting it together


@dataclass(frozen=True)
class _Judge:
    """What the quality score needs from the page before extraction consumes it."""

    main_chars: int
    links: frozenset[str]


def _assemble(
    blocks: list[Block],
    page: PageMeta,
    url: str,
    extractor: str,
    judge: _Judge,
    generic: GenericResult | None = None,
    *,
    site_names: Sequence[str] = (),
    site_path: bool = False,
) -> CleanedArticle | None:
    head: list[str] = []
    for block in blocks[:MAX_BYLINE_LINES]:
        if site_path and not tagdiv.byline_ok(block):
            break
        head.append(block.text)
    fb = generic or GenericResult()
    title = page.title(fb.title, structured_first=not site_path)
    if blocks and title and blocks[0].text.casefold() == title.casefold():
        blocks, head = blocks[1:], head[1:]  # trafilatura keeps the <h1> on some pages
    byline = parse_byline(head, site_names=site_names) if head else None
    consumed = byline.consumed if byline else 0
    paragraphs = tuple(b.text for b in blocks[consumed:])
    if not any(_LETTER.search(p) for p in paragraphs):
        return None

    published = page.published
    if published is None and byline is not None and byline.published is not None:
        published = byline.published.isoformat()
    if published is None:
        published = iso_utc(fb.date)

    if site_path:
        if byline is not None and byline.author:
            authors: tuple[str, ...] = (byline.author,)
        else:
            authors = page.authors or unique(
                normalize_paragraph(a) for a in re.split(r";|\band\b", fb.author or "")
            )
    else:
        # JSON-LD, meta and the byline near the headline (read_page), else the text's byline.
        # trafilatura's author is not used: it picks teaser bylines and the site's name.
        byline_author = byline.author if byline is not None else None
        authors = unique(p for a in page.authors for p in people(a, page.site)) or (
            people(byline_author, page.site) if byline_author else ()
        )

    text = "\n".join(paragraphs)
    quality = assess(paragraphs, judge.main_chars, judge.links)
    return CleanedArticle(
        title=title,
        text=text,
        paragraphs=paragraphs,
        authors=authors,
        translator=byline.translator if byline else None,
        original_source=byline.source if byline else None,
        published=published,
        modified=page.modified,
        categories=page.categories or fb.categories,
        tags=page.tags or fb.tags,
        language=pick_language(page.language, text),
        canonical_url=page.canonical,
        post_id=page.post_id,
        featured_image=page.image or (urljoin(url, fb.image) if fb.image else None),
        extractor=extractor,
        extractor_version=EXTRACTOR_VERSION,
        quality=quality.score,
        quality_reasons=quality.reasons,
    )
