"""The article generator: an article's parts drawn from ``(seed, j)`` alone, ``j`` being its
generator index (its chronological position, the seed article left out).

*Meta* (post id, dates, categories, tags, byline kind) comes from one hash and costs about a
microsecond; the *head* (title, names, lede) and the *body* (paragraphs, layout, comments) come
from their own ``random.Random`` seeded from a hash, so no article depends on another.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from infra.replica import seed as S
from infra.replica import text as T
from infra.replica import words as W
from infra.replica.records import Comment, Layout
from infra.replica.text import ordinal

BYLINE_KINDS: tuple[str, ...] = (
    "source_translated",  # "July 23rd, 2017 – Fort Russ News –" / "– Source – – translated by X –"
    "translated_for",  # "Translated by X for Fort Russ" / "18th February, 2016" / "Source"
    "fortruss_translation",  # "Fort Russ, March 24th, 2017" / "Translation by X"
    "written_by",  # "Written by X"
    "by",  # "By: X"
    "none",  # no byline
)
_KIND_WEIGHTS = (25, 15, 15, 15, 10, 20)  # percent, in BYLINE_KINDS order
SITE_AUTHOR = "Fort Russ"
_START = datetime(2015, 1, 5, tzinfo=UTC)
_END = datetime(2019, 12, 20, tzinfo=UTC)
_START_TS = int(_START.timestamp())
_SPAN = int(_END.timestamp()) - _START_TS
END_TS = int(_END.timestamp())  # day 0 ends here: every later day publishes after it


@dataclass(frozen=True, slots=True)
class Meta:
    post_id: int
    published: datetime
    modified: datetime
    categories: tuple[int, ...]  # indexes into words.CATEGORIES
    tags: tuple[int, ...]  # indexes into words.TAGS
    kind: str  # the byline kind
    comments: int
    views: int


@dataclass(frozen=True, slots=True)
class Head:
    title: str
    author: str
    byline_kind: str
    byline: tuple[str, ...]
    source: str | None
    translator: str | None
    lede: str


SEED_META = Meta(
    S.SEED_POST_ID,
    S.SEED_PUBLISHED,
    S.SEED_MODIFIED,
    tuple(W.CATEGORIES.index(c) for c in S.SEED_CATEGORIES),
    tuple(W.TAGS.index(t) for t in S.SEED_TAGS),
    "source_translated",
    3,
    1874,
)
SEED_HEAD = Head(
    S.SEED_TITLE,
    S.SEED_AUTHOR,
    "source_translated",
    S.SEED_BYLINE,
    S.SEED_SOURCE,
    S.SEED_TRANSLATOR,
    S.SEED_PARAGRAPHS[0],
)
SEED_LAYOUT = Layout(
    False,
    2,
    len(S.SEED_PARAGRAPHS),
    False,
    ("p",) * len(S.SEED_PARAGRAPHS),
    S.SEED_TRAILING_NBSP,
    S.SEED_WORDADS_ID,
)


def digest(seed: int, j: int, salt: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{j}:{salt}".encode(), digest_size=32).digest()


def random_for(seed: int, j: int, salt: str) -> random.Random:
    return random.Random(int.from_bytes(digest(seed, j, salt)[:8], "big"))


def published_ts(seed: int, j: int, generated: int) -> int:
    """Published time of generated article j of ``generated`` (grows with j), whole minutes."""
    frac = int.from_bytes(digest(seed, j, "t")[:4], "big") / 2**32
    ts = _START_TS + int((j + 0.05 + 0.85 * frac) * _SPAN / max(generated, 1))
    return ts - ts % 60


def modified_ts(pub_ts: int, d: bytes) -> int:
    if d[0] >= 115:
        return pub_ts
    return min(pub_ts + 60 * (10 + d[1] * 2300 + d[2]), max(END_TS, pub_ts))


def byline_kind(d: bytes) -> str:
    pick, acc = d[11] % 100, 0
    for name, weight in zip(BYLINE_KINDS, _KIND_WEIGHTS, strict=True):
        acc += weight
        if pick < acc:
            return name
    return BYLINE_KINDS[-1]


def taxonomy(d: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    cats = [d[3] % len(W.CATEGORIES)]
    if d[4] < 64 and d[5] % len(W.CATEGORIES) != cats[0]:
        cats.append(d[5] % len(W.CATEGORIES))
    tags: list[int] = []
    for b in d[6 : 6 + 1 + d[10] % 4]:
        if b % len(W.TAGS) not in tags:
            tags.append(b % len(W.TAGS))
    return tuple(cats), tuple(tags)


def day0_meta(j: int, pub_ts: int, mod_ts: int, d: bytes) -> Meta:
    """The meta of an article of the day-0 archive (``d``: its ``"m"`` digest)."""
    published = datetime.fromtimestamp(pub_ts, UTC)
    modified = datetime.fromtimestamp(mod_ts, UTC)
    cats, tags = taxonomy(d)
    kind = byline_kind(d)
    views = int.from_bytes(d[13:15], "big") % 20000 + 40
    return Meta(1000 + 3 * j, published, modified, cats, tags, kind, d[12] % 6, views)


def later_meta(j: int, ts: int, mod_ts: int, d: bytes, source: Meta | None) -> Meta:
    """The meta of a post published after day 0; a republished copy keeps its ``source``'s
    categories, tags and byline kind."""
    if source is not None:
        cats, tags, kind = source.categories, source.tags, source.kind
    else:
        (cats, tags), kind = taxonomy(d), byline_kind(d)
    return Meta(
        1000 + 3 * j,
        datetime.fromtimestamp(ts, UTC),
        datetime.fromtimestamp(mod_ts, UTC),
        cats,
        tags,
        kind,
        d[12] % 3,
        40 + d[13] % 500,
    )


def original_title(seed: int, j: int) -> str:
    """The title as published (slugs come from it)."""
    rng = random_for(seed, j, "title")
    return T.title_case(T.fill(rng, T.pick(rng, W.TITLE_TEMPLATES)))


def head(seed: int, j: int, meta: Meta, title: str) -> Head:
    """Author, byline lines (in the article's byline kind), source, translator and lede."""
    rng = random_for(seed, j, "head")
    p = meta.published
    name, source = T.pick(rng, W.TRANSLATORS), T.pick(rng, W.SOURCES)
    author = SITE_AUTHOR
    translator: str | None = name
    src: str | None = source
    kind = meta.kind
    byline: tuple[str, ...]
    if kind == "source_translated":
        date = f"{W.MONTHS[p.month - 1]} {ordinal(p.day)}, {p.year}"
        byline = (f"{date} – Fort Russ News –", f"– {source} – – translated by {name} –")
    elif kind == "translated_for":
        date = f"{ordinal(p.day)} {W.MONTHS[p.month - 1]}, {p.year}"
        byline = (f"Translated by {name} for Fort Russ", date, source)
    elif kind == "fortruss_translation":
        verb = "Translation and preface by" if rng.random() < 0.3 else "Translation by"
        date = f"{W.MONTHS[p.month - 1]} {ordinal(p.day)}, {p.year}"
        byline, src = (f"Fort Russ, {date}", f"{verb} {name}"), None
    elif kind in ("written_by", "by"):
        author, translator, src = T.pick(rng, W.WRITERS), None, None
        byline = (f"Written by {author}",) if kind == "written_by" else (f"By: {author}",)
    else:
        byline, translator, src = (), None, None
    return Head(title, author, kind, byline, src, translator, T.sentence_paragraph(rng))


def body(rng: random.Random, head: Head) -> tuple[tuple[str, ...], Layout]:
    """Paragraphs after the lede, and where the page puts its noise."""
    total = T.between(rng, 4, 14)
    paragraphs, kinds = [head.lede], ["p"]
    h2_at = T.between(rng, 2, total - 1) if rng.random() < 0.2 else -1
    quote_at = T.between(rng, 1, total - 1) if rng.random() < 0.15 else -1
    for i in range(1, total):
        if i == h2_at:
            paragraphs.append(T.fill(rng, T.pick(rng, W.SUBHEADINGS)))
            kinds.append("h2")
        elif i == quote_at:
            paragraphs.append(T.pick(rng, W.QUOTES) + ".")
            kinds.append("blockquote")
        else:
            paragraphs.append(T.sentence_paragraph(rng))
            kinds.append("p")
    nbsp = frozenset(i for i in range(total) if kinds[i] == "p" and rng.random() < 0.08)
    bottom = (0, 0, 0, 0, 1, 2)[T.between(rng, 0, 5)]
    layout = Layout(
        style_top=rng.random() < 0.12,
        styles_bottom=bottom,
        ad_after=T.between(rng, 1, total - 1),
        byline_br=head.byline_kind == "translated_for" and rng.random() < 0.5,
        kinds=tuple(kinds),
        nbsp=nbsp,
        wordads_id=f"atatags-{T.between(rng, 10**9, 2 * 10**9)}-{rng.getrandbits(52):013x}",
    )
    return tuple(paragraphs), layout


def comments(rng: random.Random, meta: Meta) -> tuple[Comment, ...]:
    """The article's comments, drawn from the body's generator after the body."""
    return tuple(
        Comment(
            meta.post_id * 10 + i,
            T.pick(rng, W.COMMENTERS),
            meta.published + timedelta(hours=1 + i * 5, minutes=T.between(rng, 0, 59)),
            T.pick(rng, W.COMMENT_TEXTS),
        )
        for i in range(meta.comments)
    )
