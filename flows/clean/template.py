"""A site's template, learned from the site's own pages: what repeats is boilerplate.

One page cannot tell its article from the "Lesen Sie auch" box, the newsletter pitch or the
author bio inside the same container; a site's pages together can. Text blocks that appear on
many pages of one site (menus, sidebars, related lists, newsletter boxes, ad labels, footers)
are its boilerplate; the container that holds the most paragraph text, and whose text differs
from page to page, is its content (offered as a suggested ``content_selector``).

:func:`learn` is a pure function of the set of pages (order does not matter, the result is
sorted), so a template learned from the archived pages is the same on every machine and in a
replay. :class:`SiteTemplate` serialises to plain JSON (``to_json``/``from_json``) to be kept
with the site's state. The generic path of :func:`~flows.clean.cleaner.clean_html` drops
paragraphs that are template boilerplate.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import lxml.etree as etree

from flows.clean.dom import parse_html, text_of
from flows.clean.normalize import decode_html

__all__ = ["SiteTemplate", "learn"]

MIN_PAGES = 3  # fewer pages than this teach nothing
SHARE = 0.5  # a block on at least this share of the pages is boilerplate
_MIN_CHARS, _MAX_CHARS = 3, 400
_BLOCK_TAGS = frozenset("p li h2 h3 h4 h5 h6 div span a td dd dt blockquote figcaption".split())


@dataclass(frozen=True)
class SiteTemplate:
    """What a site's pages share: ``boilerplate`` block texts (normalised) and the suggested
    ``content_selector`` (CSS), learned from ``pages`` pages."""

    pages: int = 0
    boilerplate: frozenset[str] = frozenset()
    content_selector: str | None = None

    def is_boilerplate(self, paragraph: str) -> bool:
        return paragraph.casefold() in self.boilerplate

    def to_json(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "boilerplate": sorted(self.boilerplate),
            "content_selector": self.content_selector,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SiteTemplate:
        selector = data.get("content_selector")
        return cls(
            pages=int(data.get("pages", 0)),
            boilerplate=frozenset(str(b) for b in data.get("boilerplate", ())),
            content_selector=selector if isinstance(selector, str) else None,
        )

    def digest(self) -> str:
        """Names this template in provenance: the same template, the same digest."""
        blob = "\n".join((str(self.pages), self.content_selector or "", *sorted(self.boilerplate)))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _css(el: etree._Element) -> str:
    if el.get("id"):
        return f"{el.tag}#{el.get('id')}"
    classes = sorted(c for c in (el.get("class") or "").split() if c.isidentifier() or "-" in c)
    return el.tag + "".join(f".{c}" for c in classes)


def _page(html: bytes | str) -> tuple[set[str], str | None]:
    """One page's block texts (case-folded) and the CSS of its main-text container."""
    text = decode_html(html, None)[0] if isinstance(html, bytes) else html
    tree = parse_html(text)
    body = tree.find("body") if tree is not None else None
    if body is None:
        return set(), None
    blocks: set[str] = set()
    per_parent: Counter[etree._Element] = Counter()
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag not in _BLOCK_TAGS:
            continue
        block = text_of(el)
        if _MIN_CHARS <= len(block) <= _MAX_CHARS:
            blocks.add(block.casefold())
        if el.tag == "p" and (parent := el.getparent()) is not None:
            per_parent[parent] += len(block)
    best = per_parent.most_common(1)
    return blocks, (_css(best[0][0]) if best else None)


def learn(
    pages: Iterable[bytes | str], *, min_pages: int = MIN_PAGES, share: float = SHARE
) -> SiteTemplate:
    """The template of a site from its pages (see the module docstring)."""
    seen: Counter[str] = Counter()
    containers: Counter[str] = Counter()
    n = 0
    for html in pages:
        blocks, container = _page(html)
        n += 1
        seen.update(blocks)
        if container:
            containers[container] += 1
    if n < min_pages:
        return SiteTemplate(pages=n)
    need = max(min_pages, share * n)
    boilerplate = frozenset(b for b, k in seen.items() if k >= need)
    top = sorted(containers.items(), key=lambda item: (-item[1], item[0]))
    selector = top[0][0] if top and top[0][1] >= need else None
    return SiteTemplate(pages=n, boilerplate=boilerplate, content_selector=selector)
