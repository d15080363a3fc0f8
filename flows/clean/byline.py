"""Parse the byline block Fort Russ (and sites like it) writes at the top of a post body.

The block is the first one to three short paragraphs (or lines of one ``<p>`` split at ``<br>``)
and names some of: the date, the site, the original source, the translator, the author. Formats
seen on the site, all handled here:

- ``July 23rd, 2017 – Fort Russ News –`` / ``– Al Mayadeen – – translated by Samer Hussein –``
- ``Translated by Ollie Richardson for Fort Russ`` / ``18th February, 2016`` / ``Tvzvezda``
- ``Fort Russ, March 24th, 2017`` / ``Translation by Tatzhit`` (or ``Translation and preface by``)
- ``Written by Name`` and ``By: Name`` (the author; no translator)

How it works: each line is cut into *segments* at dashes (en dash, em dash, figure dash, minus, a
spaced or line-edge hyphen, ``--``; never the hyphen inside ``Jean-Pierre`` or ``2017-07-23``),
and every segment must be recognised as one of: a date, the site name, site and date together,
``translated by X`` (with optional ``for <site>``), ``written by X`` / ``by: X``, ``source: X``, or
a bare name (``Al Mayadeen``). A line is part of the byline only when *all* its segments are
recognised; the block is the run of such lines from the first line, so the first line that is
ordinary prose ends it. A line made of bare names alone (``Tvzvezda``) is ambiguous with a short
first paragraph, so it counts as the source only when it is framed by dashes or directly follows
a date line, and it never matches a short list of heading words (``Background``, ``Update``).
Names must look like names (capitalised words, initials, connectors such as ``al`` or ``de``), so
``By the end of 2016, ...`` or ``July 23rd, 2017 was a hot day`` are prose, not bylines.

The site's names are the caller's (the site profile's ``[extract] site_names``): this module
knows no site. The function is pure (no I/O, no clock) so it can be unit-tested and fuzzed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

__all__ = ["MAX_BYLINE_LINES", "Byline", "parse_byline", "parse_date"]
MAX_BYLINE_LINES = 6
MAX_LINE_CHARS = 160
MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class Byline:
    """What a byline block says; ``consumed`` is how many leading lines belong to it."""

    published: date | None
    source: str | None
    translator: str | None
    author: str | None
    site: str | None
    consumed: int


_MONTHS: dict[str, int] = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        _WEEKDAY + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR,  # July 23rd, 2017
        _WEEKDAY + _DAY + r"(?:\s+of)?\s+" + _MONTH + r",?\s+" + _YEAR,  # 18th February, 2016
        _YEAR + r"-(?P<mon>[01]?\d)-(?P<day>[0-3]?\d)",  # 2017-07-23
        r"(?P<day>[0-3]?\d)\.(?P<mon>[01]?\d)\.(?P<year>(?:19|20)\d\d)",  # 23.07.2017
    )
)
_DASHES = re.compile(r"\s*(?:[\u2012-\u2015\u2212]+|-{2,}|(?<!\S)-+(?!\S)|^-+|-+$)\s*")
_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = " \t,;"
_NAME_CONNECTORS = frozenset(
    "al el al- bin ibn de da di del der den du la le van von y and & of".split()
)
_NAME_TOKEN = re.compile(
    r"(?:[^\W\d_][.]){1,3}"  # initials: J. or J.R.
    r"|[^\W\d_]+(?:['’.-][^\W\d_]+)*\.?"  # words, O'Neil, Jean-Pierre, Vesti.ru, Jr.
)
_HEADING_WORDS = frozenset(
    """update updated preface introduction foreword background comment commentary analysis
    opinion video photo photos breaking exclusive translation summary note editorial
    conclusion epilogue prologue addendum postscript""".split()
)
_TRANSLATOR = re.compile(
    r"^(?:translated|translation|transl\.)"
    r"(?:\s+(?:and|&)\s+[^\W\d_]+)?"  # "Translation and preface by", "Translated and edited by"
    r"(?:\s+from\s+(?:the\s+)?[^\W\d_]+)?"  # "Translated from Russian by"
    r"\s+by\s*:?\s+(?P<name>.+)$",
    re.IGNORECASE,
)
_AUTHOR = re.compile(r"^(?:written\s+by|by)\s*:?\s+(?P<name>.+)$", re.IGNORECASE)
_SOURCE = re.compile(r"^(?:original\s+)?source\s*:\s*(?P<name>.+)$", re.IGNORECASE)
_URLISH = re.compile(r"^(?:https?://)?[\w-]+(?:\.[\w-]+)+(?:/\S*)?$", re.IGNORECASE)


def parse_date(text: str) -> date | None:
    """The date a whole string spells ("July 23rd, 2017", "18th February, 2016"), else None."""
    text = text.strip(" \t,.;:")
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m is None:
            continue
        parts = m.groupdict()
        month = _MONTHS[parts["month"].lower()] if parts.get("month") else int(parts["mon"])
        try:
            return date(int(parts["year"]), month, int(parts["day"]))
        except ValueError:
            return None
    return None


def _is_name(text: str) -> bool:
    """True for things shaped like a person or outlet name: 'Samer Hussein', 'J. Flores'."""
    words = text.split()
    if not 1 <= len(words) <= MAX_NAME_WORDS:
        return False
    capitalised = 0
    for word in words:
        if word.lower() in _NAME_CONNECTORS:
            continue
        if not _NAME_TOKEN.fullmatch(word):
            return False
        if not word[0].isupper():
            return False
        capitalised += 1
    return capitalised > 0


def _is_source_name(text: str) -> bool:
    return _is_name(text) or (len(text) <= 100 and _URLISH.fullmatch(text) is not None)


class _Segment:
    """The classification of one dash-separated piece of a line."""

    __slots__ = ("author", "bare", "date", "site", "source", "translator")

    def __init__(self) -> None:
        self.date: date | None = None
        self.site: str | None = None
        self.translator: str | None = None
        self.author: str | None = None
        self.source: str | None = None
        self.bare: str | None = None


def _strip_site_suffix(name: str, sites: Sequence[str]) -> tuple[str, str | None]:
    """'Ollie Richardson for Fort Russ' -> ('Ollie Richardson', 'Fort Russ')."""
    for site in sites:
        m = re.search(
            r"[\s,]+(?:exclusively\s+|especially\s+)?(?:for|from)\s+(?:the\s+)?"
            + re.escape(site)
            + r"$",
            name,
            re.IGNORECASE,
        )
        if m:
            return name[: m.start()].strip(), site
    return name, None


def _match_site(text: str, sites: Sequence[str]) -> str | None:
    folded = text.casefold()
    return next((s for s in sites if s.casefold() == folded), None)


def _site_and_date(text: str, sites: Sequence[str]) -> tuple[str, date] | None:
    """'Fort Russ, March 24th, 2017' or 'March 24th, 2017, Fort Russ News'."""
    for site in sites:
        head = re.match(re.escape(site) + r"\s*[,:/|]?\s+", text, re.IGNORECASE)
        if head and (d := parse_date(text[head.end() :])):
            return site, d
        tail = re.search(r"\s*[,:/|]?\s+" + re.escape(site) + r"$", text, re.IGNORECASE)
        if tail and (d := parse_date(text[: tail.start()])):
            return site, d
    return None


def _person(
    seg: _Segment, role: Literal["author", "translator"], raw: str, sites: Sequence[str]
) -> _Segment | None:
    """A segment naming a person in ``role`` ("Translated by X", "By X for Fort Russ"), or None
    when the name is no person's."""
    name, site = _strip_site_suffix(raw.strip(_EDGE_PUNCT), sites)
    if not _is_name(name):
        return None
    setattr(seg, role, name)
    seg.site = site
    return seg


def _classify(segment: str, sites: Sequence[str]) -> _Segment | None:
    """What one segment is, or None when it is prose."""
    seg = _Segment()
    text = segment.strip(_EDGE_PUNCT)
    if not text:
        return seg
    if (d := parse_date(text)) is not None:
        seg.date = d
        return seg
    if (site := _match_site(text.rstrip("."), sites)) is not None:
        seg.site = site
        return seg
    if (both := _site_and_date(text, sites)) is not None:
        seg.site, seg.date = both
        return seg
    if m := _TRANSLATOR.match(text):
        return _person(seg, "translator", m.group("name"), sites)
    if m := _SOURCE.match(text):
        name = m.group("name").strip(_EDGE_PUNCT)
        if _is_source_name(name):
            seg.source = name
            return seg
        return None
    if m := _AUTHOR.match(text):
        return _person(seg, "author", m.group("name"), sites)
    if text.casefold() not in _HEADING_WORDS and _is_source_name(text):
        seg.bare = text
        return seg
    return None


def parse_byline(lines: Sequence[str], *, site_names: Sequence[str] = ()) -> Byline | None:
    """Parse the byline block at the start of ``lines`` (already-normalised paragraph lines);
    ``site_names`` are the names the site signs with (the site profile's ``[extract]
    site_names``), none by default.

    Returns None when the first line is not a byline line. ``consumed`` counts the leading lines
    that belong to the block; the caller drops exactly those from the article text.
    """
    sites = sorted(site_names, key=len, reverse=True)  # "Fort Russ News" before "Fort Russ"
    published: date | None = None
    source: str | None = None
    translator: str | None = None
    author: str | None = None
    site: str | None = None
    consumed = 0
    previous_was_date = False
    for raw in lines[:MAX_BYLINE_LINES]:
        line = _SPACE.sub(" ", raw).strip()
        if not line or len(line) > MAX_LINE_CHARS:
            break
        pieces = _DASHES.split(line)
        dashed = len(pieces) > 1
        segments = [_classify(p, sites) for p in pieces]
        if any(s is None for s in segments):
            break
        found = [s for s in segments if s is not None]
        bares = [s.bare for s in found if s.bare]
        informative = [s for s in found if s.bare is None and _has_value(s)]
        if not informative and not bares:
            break  # only dashes and punctuation
        if not informative:
            # A line of bare names only: the source when framed by dashes or right after a date.
            if source is not None or not (dashed or previous_was_date):
                break
        for s in found:
            published = published or s.date
            site = site or s.site
            translator = translator or s.translator
            author = author or s.author
            source = source or s.source
        if bares and source is None:
            source = ", ".join(bares)
        previous_was_date = any(s.date for s in found) and not any(
            s.translator or s.author or s.source or s.bare for s in found
        )
        consumed += 1
    if consumed == 0:
        return None
    return Byline(published, source, translator, author, site, consumed)


def _has_value(seg: _Segment) -> bool:
    return any(v is not None for v in (seg.date, seg.site, seg.translator, seg.author, seg.source))
