"""The opening paragraphs the generic extraction drops: the lead between headline and body.

News and press pages set the article's first paragraph apart (``p.story-lead-text``,
``div.article__intro``, ``div.teaser-text``, ``h2.article-lead``, ``field--name-field-abstract``,
``div.documentDescription``). trafilatura discards containers whose classes say "teaser" or
"intro" (on a listing they are teasers of other articles), so the article loses its opening.

The lead is recognised by place, not by wording: prose blocks after the page's ``<h1>`` and
before the element that holds the first extracted paragraph, outside figures, navigation, forms
and link lists, either marked as a lead by their class or a ``<p>`` of sentence length. A page
whose first extracted paragraph cannot be found after its ``<h1>`` gets nothing added.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import lxml.etree as etree

from flows.clean.dom import text_of

__all__ = ["with_opening"]

MAX_SCAN = 400  # elements between headline and body worth looking at
MAX_ELEMENTS = 20_000  # a body that starts later than this is not looked for
MIN_WORDS = 8
MIN_P_WORDS = 15  # a <p> without a lead class must read as prose
MAX_LEADS = 3
_LEAD_CLASS = re.compile(
    r"lead|lede|intro|teaser|summary|abstract|standfirst|excerpt|description|subtitle|subline|"
    r"sapo|chapo|bajada|entradilla|perex|dek\b|deck",
    re.IGNORECASE,
)
_NOT_PROSE_CLASS = re.compile(
    r"caption|credit|copyright|byline|author|date|time|meta|share|social|breadcrumb|related|"
    r"newsletter|advert|\bad\b|banner|cookie|consent|\bnav|menu|\btags?\b|comment",
    re.IGNORECASE,
)
_NOT_PROSE_TAGS = frozenset(
    "figure figcaption nav aside footer form button select label time script style noscript "
    "template a ul ol table".split()
)
_BLOCKS = frozenset("p div h2 h3 section span strong b".split())


def _classes(el: etree._Element) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}"


def _flat(text: str | None) -> str:
    return " ".join((text or "").split())


def _block_of(el: etree._Element, para: str) -> etree._Element | None:
    """The largest ancestor-or-self of ``el`` that still reads as ``para`` alone."""
    if not text_of(el) or not para.startswith(text_of(el)[:40]):
        return None
    block = el
    for anc in el.iterancestors():
        if len(text_of(anc)) > len(para) * 1.2 + 40:
            break
        block = anc
    return block if text_of(block).startswith(para[:40]) else None


def _locate(tree: etree._Element, para: str) -> tuple[etree._Element, list[etree._Element]] | None:
    """The block holding ``para`` (the first extracted paragraph) and the elements between
    the headline before it (the last ``<h1>``, else the last ``<h2>``) and it, in document
    order; None when either is not found."""
    start = para[:40]
    region: list[etree._Element] = []
    for k, el in enumerate(tree.iter()):
        if k >= MAX_ELEMENTS:
            return None
        if not isinstance(el.tag, str):
            continue
        if el.tag == "h1" or (el.tag == "h2" and (not region or region[0].tag != "h1")):
            region = [el]
            continue
        own = _flat(el.text)
        if own and (start.startswith(own) or own.startswith(start)):
            block = _block_of(el, para)
            if block is not None:
                if not region:
                    return None
                head = region[0]
                between = [
                    e for e in region[1:] if head not in e.iterancestors() and e is not block
                ]
                return block, between
        if region:
            region.append(el)
            if len(region) > MAX_SCAN:
                del region[1]
    return None


def _is_prose(el: etree._Element, body_ancestors: set[etree._Element]) -> bool:
    for anc in (el, *el.iterancestors()):
        if anc in body_ancestors:
            break
        if anc.tag in _NOT_PROSE_TAGS or _NOT_PROSE_CLASS.search(_classes(anc)):
            return False
    return True


def _lead_marked(el: etree._Element, body_ancestors: set[etree._Element]) -> bool:
    for anc in (el, *el.iterancestors()):
        if anc in body_ancestors:
            return False
        if _LEAD_CLASS.search(_classes(anc)):
            return True
    return False


def _link_share(el: etree._Element, chars: int) -> float:
    linked = sum(len(text_of(a)) for a in el.iter("a"))
    return linked / chars if chars else 1.0


def with_opening(tree: etree._Element, paragraphs: Sequence[str]) -> list[str]:
    """``paragraphs`` with the lead paragraphs of ``tree`` (unmodified by extraction) that
    they miss, inserted before the first paragraph of the body."""
    titles = {text_of(h).casefold() for h in tree.iter("h1")}
    anchor = next(
        (k for k, p in enumerate(paragraphs) if p.casefold() not in titles and _words(p)),
        None,
    )
    found = _locate(tree, paragraphs[anchor]) if anchor is not None else None
    if anchor is None or found is None:
        return list(paragraphs)
    block, scan = found
    body_ancestors = set(block.iterancestors())
    have = [p.casefold() for p in paragraphs]
    leads: list[str] = []
    taken: list[etree._Element] = []
    for el in scan:
        if el in body_ancestors or el.tag not in _BLOCKS:
            continue
        if any(t in el.iterancestors() for t in taken):
            continue
        text = text_of(el)
        words = len(text.split())
        if words < MIN_WORDS or any(text.casefold() in p for p in have):
            continue
        if not _is_prose(el, body_ancestors) or _link_share(el, len(text)) > 0.3:
            continue
        if not (_lead_marked(el, body_ancestors) or (el.tag == "p" and words >= MIN_P_WORDS)):
            continue
        if any(text in lead for lead in leads):
            continue
        taken.append(el)
        leads.append(text)
        if len(leads) >= MAX_LEADS:
            break
    return [*paragraphs[:anchor], *leads, *paragraphs[anchor:]]


def _words(paragraph: str) -> bool:
    return len(paragraph.split()) >= MIN_WORDS
