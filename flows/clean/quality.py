"""How far an extraction can be trusted: a score from 0 to 1 with the reasons that lowered it.

A cleaner that returns *something* is not a cleaner that returned the article: a 142-character
extraction of a 1,233-character article is a failure the status ``ok`` cannot show. The score
multiplies four factors, each 1 when nothing is wrong:

- **kept**: the share of the page's main text that the extraction kept. The main text is
  estimated from the page before extraction as the larger of the JSON-LD ``articleBody`` and
  the text of the ``<p>`` elements under the one element holding the most of it (a post body).
  Keeping half of it or more scores 1; below that the factor falls linearly to 0.
- **paragraphs**: one paragraph only (a teaser, a caption) scores 0.8.
- **links**: paragraphs that are entirely the text of a link on the page (related-post lists,
  menus) lower the score by their share.
- **boilerplate**: paragraphs that read as page furniture ("Read more", "Share this",
  newsletter, cookie and copyright lines) lower it by their share.

Pure function of the page and the extracted paragraphs, so a replay gives the same score.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import lxml.etree as etree

__all__ = ["Quality", "assess", "link_texts", "main_text_chars"]

KEEP_FULL = 0.5  # keeping this share of the main text or more is not penalised
ONE_PARAGRAPH = 0.8
_MIN_LINK_TEXT = 15
_BOILERPLATE = re.compile(
    r"^(?:read more|weiterlesen|mehr lesen|lesen sie auch|lesen sie mehr|leer más|lire aussi|"
    r"related|ähnliche artikel|share (?:this|on)|teilen|subscribe|abonnieren|newsletter|"
    r"advertisement|anzeige|werbung|publicidad|cookie|all rights reserved|alle rechte "
    r"vorbehalten|©|copyright|follow us|folgen sie uns|sign up|log ?in|melden sie sich)",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Quality:
    """The score (0..1, rounded to 3 places) and why it is below 1 (empty when it is 1)."""

    score: float
    reasons: tuple[str, ...]


def _flat(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def main_text_chars(tree: etree._Element, ld_body: str | None = None) -> int:
    """An estimate of the page's main text, in characters (see the module docstring). Read
    before extraction: the generic path consumes the tree."""
    per_parent: dict[etree._Element, int] = {}
    for p in tree.iter("p"):
        parent = p.getparent()
        if parent is None:
            continue
        n = len(_flat("".join(t for t in p.itertext() if isinstance(t, str))))
        per_parent[parent] = per_parent.get(parent, 0) + n
    best = max(per_parent.values(), default=0)
    return max(best, len(_flat(ld_body or "")))


def link_texts(tree: etree._Element) -> frozenset[str]:
    """The texts of the page's links long enough to pass for a paragraph."""
    out = set()
    for a in tree.iter("a"):
        text = _flat("".join(t for t in a.itertext() if isinstance(t, str))).casefold()
        if len(text) >= _MIN_LINK_TEXT:
            out.add(text)
    return frozenset(out)


def assess(paragraphs: Sequence[str], main_chars: int, links: frozenset[str]) -> Quality:
    """The score of an extraction of ``paragraphs`` from a page whose main text is estimated at
    ``main_chars`` characters and whose links read ``links``."""
    if not paragraphs:
        return Quality(0.0, ("no text",))
    reasons: list[str] = []
    score = 1.0
    chars = sum(len(p) for p in paragraphs) + len(paragraphs) - 1
    if main_chars > 0:
        kept = min(chars / main_chars, 1.0)
        if kept < KEEP_FULL:
            score *= kept / KEEP_FULL
            reasons.append(
                f"kept {kept:.0%} of the page's main text ({chars} of about {main_chars} "
                "characters)"
            )
    if len(paragraphs) == 1:
        score *= ONE_PARAGRAPH
        reasons.append("one paragraph only")
    linked = sum(_flat(p).casefold() in links for p in paragraphs)
    if linked:
        score *= 1 - linked / len(paragraphs)
        reasons.append(f"{linked} of {len(paragraphs)} paragraphs are link texts")
    boiler = sum(bool(_BOILERPLATE.match(p)) for p in paragraphs)
    if boiler:
        score *= 1 - boiler / len(paragraphs)
        reasons.append(f"{boiler} of {len(paragraphs)} paragraphs read as page furniture")
    return Quality(round(score, 3), tuple(reasons))
