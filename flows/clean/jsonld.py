"""JSON-LD (schema.org) in a page: the article node and the values the cleaner reads from it.

Malformed JSON-LD is common (trailing commas, raw newlines in strings): a script that does not
parse is skipped; raw control characters inside strings are accepted (``strict=False``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import lxml.etree as etree

from flows.clean.dom import els, unique
from flows.clean.normalize import normalize_paragraph

__all__ = ["ld_article", "ld_authors", "ld_list", "ld_str"]

_ARTICLE_TYPES = frozenset(
    "Article NewsArticle BlogPosting ReportageNewsArticle AnalysisNewsArticle OpinionNewsArticle "
    "BackgroundNewsArticle ReviewNewsArticle TechArticle ScholarlyArticle Report "
    "SocialMediaPosting LiveBlogPosting".split()
)


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _nodes(data["@graph"])


def _all_nodes(tree: etree._Element) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for script in els(tree, "//script[@type='application/ld+json']"):
        try:
            nodes.extend(_nodes(json.loads(script.text or "", strict=False)))
        except (ValueError, RecursionError):
            continue
    return nodes


def ld_article(tree: etree._Element) -> dict[str, Any]:
    """The first node typed as an article (``{}`` if none), with ``_by_id``: every node that has
    an ``@id``, to resolve references such as ``"author": {"@id": ...}``."""
    nodes = _all_nodes(tree)
    by_id = {n["@id"]: n for n in nodes if isinstance(n.get("@id"), str)}
    for node in nodes:
        types = node.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and t in _ARTICLE_TYPES for t in types):
            return {**node, "_by_id": by_id}
    return {}


def ld_str(ld: dict[str, Any], key: str) -> str | None:
    value = ld.get(key)
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str)), None)
    return value.strip() or None if isinstance(value, str) else None


def ld_list(ld: dict[str, Any], key: str) -> tuple[str, ...]:
    value = ld.get(key)
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return ()
    return unique(normalize_paragraph(v) for v in items if isinstance(v, str))


def ld_authors(ld: dict[str, Any], *, persons_only: bool = False) -> list[str]:
    """The authors' names; with ``persons_only``, nodes typed as anything but ``Person`` (an
    ``Organization``: the publisher signing) are left out."""
    value = ld.get("author")
    by_id: dict[str, dict[str, Any]] = ld.get("_by_id", {})
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict) and "name" not in item and isinstance(item.get("@id"), str):
            item = by_id.get(item["@id"], item)
        if persons_only and isinstance(item, dict) and item.get("@type", "Person") != "Person":
            continue
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, list):  # "name": ["A", "B"]
            out.extend(normalize_paragraph(n) for n in name if isinstance(n, str) and n.strip())
            continue
        if isinstance(name, str) and name.strip():
            out.append(normalize_paragraph(name))
    return out
