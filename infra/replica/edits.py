"""What the days after day 0 do to an article's text: edits (a rewritten paragraph, an appended
update, a corrected headline) and republished copies."""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import UTC, datetime

from infra.replica import text as T
from infra.replica import words as W
from infra.replica.days import Edit, NewPost
from infra.replica.records import Article, Teaser


def correct_title(title: str, r: int) -> str:
    """A corrected headline: one place, country or number swapped (else a qualifier added)."""
    rng = random.Random(r)
    words = title.split(" ")
    numbers = T.POOLS["number"]
    for i, word in enumerate(words):
        bare = word.rstrip(",:")
        for pool in (W.COUNTRIES, W.CITIES, numbers):
            if bare in pool:
                other = bare
                while other == bare:
                    other = T.pick(rng, pool)
                words[i] = other + word[len(bare) :]
                return " ".join(words)
    return f"{title} – Report"


def _rewrite(rng: random.Random, paragraph: str) -> str:
    """The paragraph with one sentence replaced (or the whole of it, if it is one sentence)."""
    sentences = re.split(r"(?<=[.!?”]) (?=[A-Z“])", paragraph)
    i = int(rng.random() * len(sentences))
    new = sentences[i]
    while new == sentences[i]:
        new = T.fill(rng, T.pick(rng, W.SENTENCES))
    sentences[i] = new
    return " ".join(sentences)


def apply_edits(art: Article, edits: tuple[Edit, ...], title: str) -> Article:
    """``art`` after ``edits`` (its title, already corrected, is ``title``)."""
    if not edits:
        return art
    paragraphs, kinds = list(art.paragraphs), list(art.layout.kinds)
    for edit in edits:
        rng = random.Random(edit.r)
        if edit.kind == "edit_text":
            slots = [i for i in range(1, len(paragraphs)) if kinds[i] == "p"] or [0]
            i = slots[edit.r % len(slots)]
            paragraphs[i] = _rewrite(rng, paragraphs[i])
        elif edit.kind == "edit_append":
            paragraphs.append(f"UPDATE: {T.sentence_paragraph(rng)}")
            kinds.append("p")
    return replace(
        art,
        title=title,
        modified=datetime.fromtimestamp(edits[-1].ts, UTC),
        paragraphs=tuple(paragraphs),
        layout=replace(art.layout, kinds=tuple(kinds)),
        version=art.version + len(edits),
    )


def republished(src: Article, new: NewPost, teaser: Teaser, title: str, views: int) -> Article:
    """A republished copy: ``src`` (as of the copy's day) under the new post's id, path and dates;
    a near copy (``new.near``) adds one line."""
    paragraphs, layout = src.paragraphs, src.layout
    if new.near:
        p = src.published
        when = f"{W.MONTHS[p.month - 1]} {p.day}, {p.year}"
        paragraphs += (f"This article was originally published on Fort Russ on {when}.",)
        layout = replace(layout, kinds=(*layout.kinds, "p"))
    return replace(
        src,
        post_id=teaser.post_id,
        slug=teaser.path.rstrip("/").rsplit("/", 1)[-1],
        path=teaser.path,
        title=title,
        published=teaser.published,
        modified=teaser.published,
        paragraphs=paragraphs,
        featured_image=teaser.featured_image,
        excerpt=teaser.excerpt,
        comments=(),
        views=views,
        layout=layout,
        day_published=new.day,
        version=1,
        copy_of=src.post_id,
    )
