"""Small, typed helpers over an lxml HTML tree, shared by the cleaner's modules.

lxml's stubs type XPath results as a broad union; these helpers narrow them once, so the
extraction code reads as plain lists of elements and strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import lxml.etree as etree
import lxml.html

from flows.clean.normalize import normalize_paragraph

__all__ = [
    "Block",
    "by_class",
    "els",
    "first",
    "meta",
    "parse_html",
    "parse_html_checked",
    "strs",
    "text_of",
    "unique",
]


@dataclass(frozen=True)
class Block:
    """One paragraph of extracted text and the block tag that enclosed it ("p", "h2", ...)."""

    text: str
    kind: str


#: libxml2's nesting limit (without XML_PARSE_HUGE): it stops reading a page at this depth
PARSER_DEPTH_LIMIT = 256
UNREAD_DEEP = (
    f"text nested deeper than {PARSER_DEPTH_LIMIT} elements was not read (the HTML parser's "
    "depth limit): that part of the page and all that follows it are missing"
)


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """Parse a whole document leniently (lxml recovers from broken markup); None if nothing
    parseable is left."""
    return parse_html_checked(text)[0]


def parse_html_checked(text: str) -> tuple[lxml.html.HtmlElement | None, str | None]:
    """``parse_html``, and what of the page the parser gave up on (None: it read all of it):
    libxml2 stops at its depth limit and drops the rest, which must never go unsaid."""
    # lxml refuses str input that carries an XML encoding declaration
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text, count=1)
    if not text.strip():
        return None, None
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        tree = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        tree = None
    deep = any("Excessive depth" in entry.message for entry in parser.error_log)
    return tree, UNREAD_DEEP if deep else None


def elements(result: object) -> list[etree._Element]:
    """The elements in an XPath result."""
    return [e for e in result if isinstance(e, etree._Element)] if isinstance(result, list) else []


@lru_cache(maxsize=256)
def _xpath(path: str) -> etree.XPath:
    return etree.XPath(path)


def els(node: etree._Element, path: str) -> list[etree._Element]:
    """Elements an XPath selects."""
    return elements(_xpath(path)(node))


def strs(node: etree._Element, path: str) -> list[str]:
    """Attribute or text values an XPath selects."""
    result = _xpath(path)(node)
    return [str(v) for v in result if isinstance(v, str)] if isinstance(result, list) else []


def by_class(node: etree._Element, tag: str, name: str) -> list[etree._Element]:
    """Descendants ``<tag class="... name ...">`` (a cheap ``contains()`` filtered exactly)."""
    found = els(node, f".//{tag}[contains(@class, '{name}')]")
    return [e for e in found if name in (e.get("class") or "").split()]


def text_of(el: etree._Element) -> str:
    """All text inside ``el``, normalised to one line."""
    return normalize_paragraph(" ".join(t for t in el.itertext() if isinstance(t, str)))


def meta(tree: etree._Element, *keys: str) -> list[str]:
    """Values of ``<meta property|name|itemprop=key content>``, in document order."""
    wanted = {k.lower() for k in keys}
    out: list[str] = []
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").lower()
        content = el.get("content")
        if key in wanted and content and content.strip():
            out.append(normalize_paragraph(content))
    return out


def first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


def unique(values: Iterable[str]) -> tuple[str, ...]:
    """Non-empty values, first spelling of each (case-insensitive), in order."""
    seen: dict[str, str] = {}
    for v in values:
        if v and v.casefold() not in seen:
            seen[v.casefold()] = v
    return tuple(seen.values())
