"""A site's template, learned from the site's own pages: what repeats is boilerplate.

One page cannot tell its article from the "Lesen Sie auch" box, the newsletter pitch or the
author bio inside the same container; a site's pages together can. Text blocks that appear on
many pages of one site (menus, sidebars, related lists, newsletter boxes, ad labels, footers)
are its boilerplate; the container that holds the most paragraph text on most pages is its
content (offered as a suggested ``content_selector``).

:class:`TemplateStats` is what an archive keeps between runs: for each block (by a short hash of
its case-folded text) on how many of the site's recent pages it was. Adding a run's pages is
deterministic (pages in any order give the same result; weights are rounded), so the statistics
after a run are a pure function of those before it and the run's archived pages, and
reprocessing a run with its archived statistics cleans exactly as the live run did. The counts
are capped at ``WINDOW`` pages (older pages weigh less as new ones come), so a redesign replaces
the old template after about ``0.7 x WINDOW`` new pages, and at most ``MAX_BLOCKS`` blocks are
kept (the lightest go first: a block seen once on an old page), so the object stays small.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import lxml.etree as etree

from flows.clean.dom import parse_html, text_of
from flows.clean.normalize import decode_html
from flows.warc import dump_gzjson, load_gzjson

__all__ = ["TEMPLATE_SCHEMA", "SiteTemplate", "TemplateStats", "block_key", "learn"]

log = logging.getLogger(__name__)
TEMPLATE_SCHEMA = "newsvault.template/1"  # a run's ``template.json.gz``

MIN_PAGES = 3  # fewer pages than this teach nothing
SHARE = 0.5  # a block on at least this share of the pages is boilerplate
WINDOW = 200  # pages: the statistics follow about the site's latest this-many pages
MAX_BLOCKS = 4000  # blocks kept between runs
MAX_CONTAINERS = 50
MAX_EXAMPLES = 200  # boilerplate texts kept for people to read (the report, the archive)
_MIN_CHARS, _MAX_CHARS = 3, 400
_BLOCK_TAGS = frozenset("p li h2 h3 h4 h5 h6 div span a td dd dt blockquote figcaption".split())
_STRING = etree.XPath("string()")
_DIGITS = 3  # weights are rounded so that every machine writes the same statistics

Page = bytes | str | tuple[bytes, str | None]  # HTML, or (body, the HTTP header's charset)


def block_key(text: str) -> str:
    """A block's name in the statistics (its text is not kept: most blocks are article text)."""
    return hashlib.sha256(text.casefold().encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class SiteTemplate:
    """What a site's pages share: ``boilerplate`` block keys (:func:`block_key`) and the
    suggested ``content_selector`` (CSS), learned from ``pages`` pages."""

    pages: int = 0
    boilerplate: frozenset[str] = frozenset()
    content_selector: str | None = None

    def is_boilerplate(self, paragraph: str) -> bool:
        return bool(self.boilerplate) and block_key(paragraph) in self.boilerplate

    def digest(self) -> str:
        """Names this template in provenance: the same template, the same digest."""
        blob = "\n".join((str(self.pages), self.content_selector or "", *sorted(self.boilerplate)))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class TemplateStats:
    """On how many of the site's recent ``pages`` each block and each main-text container was;
    ``examples``: the texts of the blocks that are boilerplate."""

    pages: float = 0.0
    blocks: Mapping[str, float] = field(default_factory=dict)
    containers: Mapping[str, float] = field(default_factory=dict)
    examples: Mapping[str, str] = field(default_factory=dict)

    def add(self, pages: Iterable[Page]) -> TemplateStats:
        """These statistics with ``pages`` (a run's article pages) added."""
        seen: Counter[str] = Counter()
        containers: Counter[str] = Counter()
        texts: dict[str, str] = {}
        n = 0
        for page in pages:
            try:
                blocks, container = _page(page)
            except Exception as exc:  # noqa: BLE001 (poison input: a broken page teaches nothing)
                log.debug("a page teaches the site template nothing: %r", exc)
                continue
            if container is None:  # no paragraph text: not a page to learn an article site from
                continue
            n += 1
            seen.update(blocks.keys())
            for key, text in blocks.items():  # the same text whatever the pages' order
                texts[key] = min(texts.get(key, text), text)
            if container:
                containers[container] += 1
        if n == 0:
            return self
        total = self.pages + n
        scale = min(1.0, WINDOW / total)
        weights = _scaled(Counter(self.blocks) + seen, scale, MAX_BLOCKS)
        places = _scaled(Counter(self.containers) + containers, scale, MAX_CONTAINERS)
        stats = TemplateStats(round(total * scale, _DIGITS), weights, places)
        boilerplate = stats.template().boilerplate
        known = {k: v for k, v in self.examples.items() if k in boilerplate}
        known.update((k, texts[k]) for k in sorted(boilerplate) if k in texts)
        examples = dict(sorted(known.items())[:MAX_EXAMPLES])
        return TemplateStats(stats.pages, weights, places, examples)

    def template(self, min_pages: int = MIN_PAGES, share: float = SHARE) -> SiteTemplate:
        pages = round(self.pages)
        if self.pages < min_pages:
            return SiteTemplate(pages=pages)
        need = max(min_pages, share * self.pages) - 10**-_DIGITS / 2
        boilerplate = frozenset(k for k, w in self.blocks.items() if w >= need)
        top = sorted(self.containers.items(), key=lambda item: (-item[1], item[0]))
        selector = top[0][0] if top and top[0][1] >= need else None
        return SiteTemplate(pages=pages, boilerplate=boilerplate, content_selector=selector)

    def describe(self) -> str:
        """What was learned so far, and the selector it suggests for the profile (one line)."""
        template = self.template()
        if self.pages < MIN_PAGES:
            return f"learning ({self.pages:g} article pages so far; it needs {MIN_PAGES})"
        line = (
            f"learned from the site's latest {self.pages:g} article pages: "
            f"{len(template.boilerplate)} boilerplate blocks removed wherever they appear"
        )
        if template.content_selector:
            line += (
                f"; suggested `content_selector = {template.content_selector!r}` "
                "([extract] in the site profile: then the site's own container is read)"
            )
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "blocks": dict(sorted(self.blocks.items())),
            "containers": dict(sorted(self.containers.items())),
            "examples": dict(sorted(self.examples.items())),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TemplateStats:
        """Parse saved statistics; ``ValueError`` names what is wrong with them."""
        try:
            return cls(
                pages=float(data["pages"]),
                blocks={str(k): float(v) for k, v in data["blocks"].items()},
                containers={str(k): float(v) for k, v in data["containers"].items()},
                examples={str(k): str(v) for k, v in data.get("examples", {}).items()},
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"malformed template statistics ({exc!r})") from exc

    def to_bytes(self) -> bytes:
        """A run's archived ``template.json.gz``: the same statistics, the same bytes."""
        return dump_gzjson(TEMPLATE_SCHEMA, self.to_json())

    @classmethod
    def from_bytes(cls, raw: bytes) -> TemplateStats:
        """Parse a run's ``template.json.gz``; ``ValueError`` names what is wrong with it."""
        return cls.from_json(load_gzjson(raw, TEMPLATE_SCHEMA, "template"))


def _scaled(counts: Counter[str], scale: float, keep: int) -> dict[str, float]:
    """``counts`` times ``scale``, rounded, the ``keep`` heaviest (ties by key), by key."""
    weights = {k: round(v * scale, _DIGITS) for k, v in counts.items()}
    heaviest = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:keep]
    return dict(sorted((k, w) for k, w in heaviest if w > 0))


def _css(el: etree._Element) -> str:
    if el.get("id"):
        return f"{el.tag}#{el.get('id')}"
    classes = sorted(c for c in (el.get("class") or "").split() if c.isidentifier() or "-" in c)
    return el.tag + "".join(f".{c}" for c in classes)


def _page(page: Page) -> tuple[dict[str, str], str | None]:
    """One page's blocks (key -> text) and the CSS of its main-text container."""
    if isinstance(page, tuple):
        text = decode_html(page[0], page[1])[0]
    else:
        text = decode_html(page, None)[0] if isinstance(page, bytes) else page
    tree = parse_html(text)
    body = tree.find("body") if tree is not None else None
    if body is None:
        return {}, None
    blocks: dict[str, str] = {}
    per_parent: Counter[etree._Element] = Counter()
    for el in body.iter():
        if not isinstance(el.tag, str) or el.tag not in _BLOCK_TAGS:
            continue
        size = len(" ".join(str(_STRING(el)).split()))  # cheap; normalising every block is not
        if el.tag == "p" and (parent := el.getparent()) is not None:
            per_parent[parent] += size
        if _MIN_CHARS <= size <= 2 * _MAX_CHARS:
            block = text_of(el)  # the paragraph as the cleaner writes it: the same key
            if _MIN_CHARS <= len(block) <= _MAX_CHARS:
                blocks.setdefault(block_key(block), block)
    best = per_parent.most_common(1)
    return blocks, (_css(best[0][0]) if best else None)


def learn(
    pages: Iterable[Page], *, min_pages: int = MIN_PAGES, share: float = SHARE
) -> SiteTemplate:
    """The template of a site from its pages alone (see the module docstring)."""
    return TemplateStats().add(pages).template(min_pages, share)
