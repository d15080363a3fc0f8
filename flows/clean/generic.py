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
- htmldate without its extensive search: the extensive search (free-text date parsing through
  dateparser) took about two thirds of the extraction time, and structured dates win anyway.
- a fixed ``max_date`` instead of htmldate's "today": the same page must give the same JSON in a
  replay years later (WARC is the source of truth, output is reproducible).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import copy

import lxml.etree as etree

from flows.clean.lead import opening_paragraphs
from flows.clean.normalize import normalize_paragraph, normalize_paragraphs

__all__ = ["GenericResult", "extract_generic"]

_DATE_PARAMS: dict[str, Any] = {
    "extensive_search": False,
    "original_date": True,
    "max_date": "2099-12-31",
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


def extract_generic(tree: etree._Element, url: str) -> GenericResult:
    """trafilatura's text and metadata for the page, with the lead paragraphs it dropped
    (:mod:`flows.clean.lead`). ``tree`` is left as it was."""
    import trafilatura  # imported here: the site path does not need it

    doc = trafilatura.bare_extraction(
        copy.deepcopy(tree),
        url=url,
        with_metadata=True,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        date_extraction_params=_DATE_PARAMS,
    )
    if doc is None:
        return GenericResult()
    data: dict[str, Any] = doc.as_dict() if hasattr(doc, "as_dict") else dict(vars(doc))
    text = data.get("text")
    paragraphs = normalize_paragraphs(text.split("\n")) if isinstance(text, str) else ()
    paragraphs = (*opening_paragraphs(tree, paragraphs), *paragraphs)
    return GenericResult(
        paragraphs=paragraphs,
        title=_opt(data.get("title")),
        date=_opt(data.get("date")),
        author=_opt(data.get("author")),
        categories=_strings(data.get("categories")),
        tags=_strings(data.get("tags")),
        image=_opt(data.get("image")),
    )
