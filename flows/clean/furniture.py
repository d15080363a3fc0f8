"""Paragraphs that read as page furniture, not as the article: see-also teasers, related-post
sections, photo credits.

trafilatura keeps what sits inside the post body, and sites put their cross-links there: a
"Lesen Sie auch: <headline>" line between paragraphs, a "Mehr zum Thema" heading followed by
headlines of other articles, "Foto: dpa" under an image. These are recognised by their label
(the labels sites use, in the languages the archive meets) and by what follows a related-posts
heading (link texts and headline-length lines), never by the words of a particular article.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["LABELS", "drop_furniture"]

# Labels that introduce links to other articles (see also, related, read more), by language.
LABELS = (
    r"read (?:more|also)|see also|also read|related(?: articles| stories| posts| content)?|"
    r"more on this(?: story| topic)?|you (?:may|might) also like|recommended(?: for you)?|"
    r"lesen sie (?:auch|mehr)|auch lesen|mehr (?:zum thema|themen|dazu)|weitere (?:artikel|"
    r"themen|beiträge|nachrichten|informationen zum thema)(?: zum thema)?|zum weiterlesen|"
    r"weiterlesen|das könnte sie (?:auch )?interessieren|passend (?:dazu|zum thema)|siehe auch|"
    r"ähnliche artikel|auch interessant|"
    r"lea (?:también|más)|lee también|(?:también )?(?:le|te) puede interesar|vea también|"
    r"ver también|notas relacionadas|noticias relacionadas|leer más|"
    r"à lire (?:aussi|également)|lire aussi|voir aussi|sur le même sujet|"
    r"czytaj (?:też|także|również)|zobacz (?:też|także)|dowiedz się więcej|"
    r"leggi anche|potrebbe interessarti|leia (?:também|mais)|veja também"
)
_TEASER = re.compile(rf"^(?:{LABELS})\s*[:»›>|–—-]\s*\S", re.IGNORECASE)
_HEADING = re.compile(rf"^(?:{LABELS})\s*[:.…»›]*$", re.IGNORECASE)
_CREDIT = re.compile(
    r"^\(?(?:fotos?|photos?|bild(?:quelle)?|titelbild|fotoquelle|credits?|crédits? photos?|"
    r"image(?: source| credit)?s?)\s*:",
    re.IGNORECASE,
)
MAX_CREDIT_WORDS = 12
MAX_HEADLINE_WORDS = 16  # a line after a related heading this short, unpunctuated, is a headline


def _headline_like(paragraph: str, links: frozenset[str]) -> bool:
    if " ".join(paragraph.removeprefix("- ").split()).casefold() in links:
        return True
    return len(paragraph.split()) <= MAX_HEADLINE_WORDS and not paragraph.rstrip().endswith(
        (".", "!", "?", ":", '"', "“", "”", "»", "«")
    )


def drop_furniture(paragraphs: Sequence[str], links: frozenset[str]) -> list[str]:
    """``paragraphs`` without see-also lines, related-post sections (the heading and the
    headlines under it) and photo credits. ``links`` are the page's link texts, case-folded."""
    out: list[str] = []
    in_related = False
    for p in paragraphs:
        if in_related and _headline_like(p, links):
            continue
        in_related = False
        if _HEADING.match(p):
            in_related = True
            continue
        if _TEASER.match(p):
            continue
        if _CREDIT.match(p) and len(p.split()) <= MAX_CREDIT_WORDS:
            continue
        out.append(p)
    return out
