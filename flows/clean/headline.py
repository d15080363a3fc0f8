"""The article's headline on a page of any site, not ``<title>`` with its site suffix.

A page states its headline several times: JSON-LD ``headline``, ``og:title``, the visible
``<h1>``, ``<title>``. Each can be wrong: ``<title>`` and often ``og:title`` carry the site's name
("… | St.Galler Tagblatt", "… Tygodnik Sieci"), ``og:title`` may be a social-media variant or a
slug ("adac-kindersitztest-herbst-2018") or the site's name, JSON-LD ``headline`` may be the
lead sentence cut with "…", and a page may have a logo ``<h1>``. So:

1. an ``<h1>`` that another source confirms (equal, or that source is the ``<h1>`` followed by a
   site suffix) is the headline;
2. else the first structured title (JSON-LD, then OpenGraph) that is not a slug and not the
   site's name, with its site suffix removed; if ``<title>`` continues it without a separator
   (a structured title cut at a quote), ``<title>`` is used instead;
3. else the first ``<h1>``, else ``<title>`` without its suffix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flows.clean.people import SiteNames

__all__ = ["pick_headline", "strip_site_suffix"]

_SEP = r"[-–—|·•/]"
_SITE_SUFFIX = re.compile(rf"\s+{_SEP}\s+(?P<site>(?:(?!\s{_SEP}\s).){{2,60}})$")
_SLUG = re.compile(r"\w+(?:-\w+)+")
_SEP_START = re.compile(rf"\s*{_SEP}\s")
_SEP_END = re.compile(rf"\s{_SEP}\s*$")
_QUOTE_START = re.compile(r" [\"'„“«‚‘]")
_MAX_SUFFIX_WORDS = 3


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def strip_site_suffix(title: str | None, site: SiteNames) -> str | None:
    """``title`` without a trailing " – <site name>" segment (when that segment names the
    site); repeated ("A – Section – Site")."""
    if not title:
        return None
    while (m := _SITE_SUFFIX.search(title)) and site.is_site(m.group("site")):
        title = title[: m.start()].strip()
    return title or None


def _confirms(ref: str, h1: str, *, loose: bool) -> bool:
    """``ref`` is ``h1``, or ``h1`` followed by a site suffix, or a kicker and ``h1``; ``loose``
    (for ``og:title`` and JSON-LD, not ``<title>`` which may start with a logo's text) accepts
    any continuation after a word when ``h1`` has at least four words."""
    r, h = _norm(ref), _norm(h1)
    if r == h:
        return True
    if r.endswith(h) and _SEP_END.search(r[: -len(h)]):
        return True
    if not r.startswith(h):
        return False
    rest = r[len(h) :]
    if rest[:1] != " " and not _SEP_START.match(rest):
        return False
    return (
        bool(_SEP_START.match(rest))
        or (loose and len(h.split()) > 3)
        or (len(rest.split()) <= _MAX_SUFFIX_WORDS and len(h.split()) > 3)
    )


def pick_headline(
    ld_headline: str | None,
    og_title: str | None,
    h1s: Sequence[str],
    html_title: str | None,
    site: SiteNames,
) -> str | None:
    """The headline (see the module docstring)."""
    h1s = [h for h in h1s if h and not site.is_site(h)]
    refs = [r for r in (ld_headline, og_title, html_title) if r]
    for h1 in h1s:
        if any(_confirms(ref, h1, loose=ref is not html_title) for ref in refs):
            return h1
    for raw in (ld_headline, og_title):
        if not raw or _SLUG.fullmatch(raw) or site.is_site(raw):
            continue
        title = strip_site_suffix(raw, site)
        if title and html_title:
            whole = strip_site_suffix(html_title, site) or html_title
            rest = whole[len(title) :]
            if (
                whole.startswith(title)
                and _QUOTE_START.match(rest)
                and len(rest.split()) <= _MAX_SUFFIX_WORDS
            ):
                return whole  # the structured title was cut (at a quote, say)
        if title:
            return title
    return h1s[0] if h1s else strip_site_suffix(html_title, site)
