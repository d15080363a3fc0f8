"""Text generation for the replica: slugs, dates and news-like sentences from the word lists.

All randomness comes from the ``random.Random`` passed in; ``random()``-based picks are used
because they are several times faster than ``choice``/``randint`` and just as deterministic.
"""

from __future__ import annotations

import random
import re
import string
import unicodedata
from functools import lru_cache

from infra.replica import words as W


@lru_cache(maxsize=8192)
def slugify(text: str) -> str:
    """WordPress ``sanitize_title``: accents dropped, lowercase, non-alphanumerics to hyphens."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower().replace("’", "")).strip("-")


def ordinal(day: int) -> str:
    """1 -> "1st", 23 -> "23rd", 12 -> "12th"."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def title_case(text: str) -> str:
    small = {"a", "an", "and", "at", "for", "in", "of", "on", "the", "to", "with", "near"}
    out = []
    for i, word in enumerate(text.split(" ")):
        lower = word.lower()
        out.append(word if i and lower in small else word[:1].upper() + word[1:])
    return " ".join(out)


POOLS: dict[str, tuple[str, ...]] = {
    "role": W.ROLES,
    "city": W.CITIES,
    "org": W.ORGS,
    "topic": W.TOPICS,
    "adj": W.ADJECTIVES,
    "verb": W.VERBS_PAST,
    "source": W.SOURCES,
    "number": ("3", "7", "12", "15", "24", "40", "85", "120", "300", "1500"),
    "weekday": W.WEEKDAYS,
    "month": W.MONTHS,
    "ordinal": W.ORDINALS,
}


def pick(rng: random.Random, pool: tuple[str, ...]) -> str:
    return pool[int(rng.random() * len(pool))]


def between(rng: random.Random, lo: int, hi: int) -> int:
    """An integer in [lo, hi] (``random()``-based: several times faster than ``randint``)."""
    return lo + int(rng.random() * (hi - lo + 1))


def distinct(rng: random.Random, pool: tuple[str, ...], count: int) -> list[str]:
    """``count`` different items of ``pool``, in random order."""
    picks: list[str] = []
    while len(picks) < count:
        item = pick(rng, pool)
        if item not in picks:
            picks.append(item)
    return picks


@lru_cache(maxsize=256)
def fields(template: str) -> tuple[str, ...]:
    return tuple(name for _, name, _, _ in string.Formatter().parse(template) if name)


def fill(rng: random.Random, template: str) -> str:
    """Fill a template's slots (only the ones it uses) and capitalise the first letter."""
    values: dict[str, str] = {}
    for name in fields(template):
        if name in values:
            continue
        if name == "person":
            values[name] = f"{pick(rng, W.FIRST_NAMES)} {pick(rng, W.LAST_NAMES)}"
        elif name in ("country", "country2"):
            values["country"], values["country2"] = distinct(rng, W.COUNTRIES, 2)
        else:
            values[name] = pick(rng, POOLS[name])
    text = template.format_map(values)
    return text[:1].upper() + text[1:]


def sentence_paragraph(rng: random.Random) -> str:
    if rng.random() < 0.15:
        quote = pick(rng, W.QUOTES)
        who = f"{pick(rng, W.FIRST_NAMES)} {pick(rng, W.LAST_NAMES)}"
        return f"“{quote}”, said {who}, {pick(rng, W.ROLES)}."
    return " ".join(fill(rng, t) for t in distinct(rng, W.SENTENCES, between(rng, 1, 4)))
