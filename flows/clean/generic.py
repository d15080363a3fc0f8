"""Generic extraction for a page of any site (no profile): trafilatura over the whole page.

trafilatura finds the main text and reads title, author, categories, tags and image; its date
comes from htmldate. The cleaner (:mod:`flows.clean.cleaner`) combines this with what trafilatura
lacks:
JSON-LD (``articleBody`` when trafilatura finds no text, ``headline``, ``datePublished``) and the
OpenGraph / ``article:*`` meta tags read by :mod:`flows.clean.metadata`, which win for title and
dates.

Settings, and why:
- ``favor_precision``: in the default balance trafilatura takes a short tagDiv page's whole
  ``<article>`` (category, title, "By Fort Russ", share buttons, byline, body) as one paragraph,
  and on the development set of real pages precision mode passes more pages than the default.
- default mode as well, kept instead when the precision result is weak by the quality score
  (:mod:`flows.clean.quality`), or when it finds a fifth more text at a score no worse and
  keeps at least half of the precision result (else it found some other block): precision
  mode drops whole sections on some pages (the answers of a FAQ, the posts of a thread). Chosen on
  the even-indexed pages of the development set, checked on the odd-indexed ones.
- htmldate without its extensive search: the extensive search (free-text date parsing through
  dateparser) took about two thirds of the extraction time, and structured dates win anyway.
- a fixed ``max_date`` instead of htmldate's "today": the same page must give the same JSON in a
  replay years later (WARC is the source of truth, output is reproducible).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import lxml.etree as etree

from flows.clean.furniture import drop_furniture
from flows.clean.lead import with_opening
from flows.clean.normalize import normalize_paragraph, normalize_paragraphs
from flows.clean.quality import assess

__all__ = ["GenericResult", "extract_generic"]

WEAK = 0.8  # a precision-mode result scoring below this is weak (flows.clean.quality)
WIDER = 1.2  # default mode wins when it finds this much more text and scores no worse
COVER = 0.5  # ... and keeps at least this share of the precision result (it widens, not moves)
# trafilatura's settings on every call (the docstring says why); the mode is set per call
_SETTINGS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "date_extraction_params": {
        "extensive_search": False,
        "original_date": True,
        "max_date": "2099-12-31",
    },
}


@dataclass(frozen=True)
class GenericResult:
    """What trafilatura found: text paragraphs and the metadata it read."""

    paragraphs: tuple[str, ...] = ()
    title: str | None = None
    date: str | None = None
    author: str | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    image: str | None = None


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return normalize_paragraphs(v for v in value if isinstance(v, str))


def _opt(value: object) -> str | None:
    return normalize_paragraph(value) or None if isinstance(value, str) else None


def _extract(tree: etree._Element, url: str, *, precision: bool) -> dict[str, Any]:
    import trafilatura  # imported here: the site path does not need it

    doc = trafilatura.bare_extraction(
        copy.deepcopy(tree),
        url=url,
        with_metadata=precision,  # the metadata comes from the precision run only
        favor_precision=precision,
        **_SETTINGS,
    )
    if doc is None:
        return {}
    return doc.as_dict() if hasattr(doc, "as_dict") else dict(vars(doc))


def _paragraphs(tree: etree._Element, data: dict[str, Any], links: frozenset[str]) -> list[str]:
    text = data.get("text")
    found = normalize_paragraphs(text.split("\n")) if isinstance(text, str) else ()
    return drop_furniture(with_opening(tree, found), links)


def extract_generic(
    tree: etree._Element, url: str, main_chars: int = 0, links: frozenset[str] = frozenset()
) -> GenericResult:
    """trafilatura's text and metadata for the page, with the lead paragraphs it dropped
    (:mod:`flows.clean.lead`) and without page furniture (:mod:`flows.clean.furniture`).
    ``main_chars`` and ``links`` describe the page for the quality score
    (:mod:`flows.clean.quality`) that decides between precision and default mode (see the
    module docstring). ``tree`` is left as it was."""
    data = _extract(tree, url, precision=True)
    paragraphs = _paragraphs(tree, data, links)
    score = assess(paragraphs, main_chars, links).score
    wider = _paragraphs(tree, _extract(tree, url, precision=False), links)
    kept = {p.casefold() for p in wider}
    covered = _chars([p for p in paragraphs if p.casefold() in kept])
    more = _chars(wider) > WIDER * _chars(paragraphs) and covered >= COVER * _chars(paragraphs)
    if assess(wider, main_chars, links).score >= score and (score < WEAK or more):
        paragraphs = wider
    return GenericResult(
        paragraphs=tuple(paragraphs),
        title=_opt(data.get("title")),
        date=_opt(data.get("date")),
        author=_opt(data.get("author")),
        categories=_strings(data.get("categories")),
        tags=_strings(data.get("tags")),
        image=_opt(data.get("image")),
    )


def _chars(paragraphs: list[str]) -> int:
    return sum(len(p) for p in paragraphs)
