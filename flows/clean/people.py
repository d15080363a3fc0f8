"""Author names a researcher can trust: people, not the site, its publisher or a news agency.

Pages name their authors in many ways, and most of them carry noise: ``<meta name=author>``
holding the site's name or a Facebook URL, a JSON-LD ``Organization``, bylines with their label
("By", "Von", "Autor", "Publicado por"), an affiliation ("Rob Picheta, CNN", "… For The Mail On
Sunday"), several people in one string ("Glen Owen And Brendan Carlin"). :func:`people` turns
one such value into the people it names; :class:`SiteNames` is what the page says the site is
called (profile names, ``og:site_name``, the segments of ``<title>`` around the headline, the
host name), so a name that is the site's is dropped.

Pure functions of their inputs: a replay gives the same names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["SiteNames", "people"]

_LABEL = re.compile(
    r"^(?:(?:written|posted|published|publicado|publié|veröffentlicht|erstellt|text|texto|"
    r"autor(?:in|a|es|en)?|auteur|author(?:s)?|by|von|por|par|artikel|article|zum profil|"
    r"verfasst|redigé|escrito|reportagem|reporting)\b(?:\s+(?:by|von|por|par|de)\b)?\s*[:|·–-]?\s*)+",
    re.IGNORECASE,
)
_AFFILIATION = re.compile(r"\s+(?:for|für|pour|para|per)\s+\S.*$", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:[,;/|]|\s(?:and|und|y|e|et|&|–|—)\s)\s*", re.IGNORECASE)
_DOMAIN = re.compile(r"\.[a-z]{2,6}$|^www\.", re.IGNORECASE)
_NOT_A_NAME = re.compile(r"https?:|@|\d|^\W|[<>{}=]")
# Words that make a name an organisation or a desk, not a person (compared case-folded).
_ORG_WORDS = frozenset(
    "redaktion redakcja redacción redaccion rédaction redação redacao redazione red red. "
    "zespół team staff newsroom editorial editors editor desk agencies agencias agenturen "
    "agentur agency agencia gmbh verlag zeitung magazin magazine news nachrichten online media "
    "média mídia press presse prensa noticias notícias diario diário journal group gruppe ag "
    "ltd inc llc corp co. company radio tv television televisión fernsehen e.v ev".split()
)
_AGENCIES = frozenset(
    "afp ap dpa dpa-afx epd kna efe pap reuters apa sda ats ansa xinhua tass kyodo anp belga "
    "telam europa press associated press agence france-presse bbc cnn ard zdf orf srf ndr wdr "
    "swr mdr rbb null none admin "
    "administrator guest gast anonymous anonym unknown".split(" ")
) | {"associated press", "agence france-presse", "europa press", "dpa-afx"}
_MAX_WORDS = 5


def _key(text: str) -> str:
    """Letters only, accents folded, case-folded: "Lebensmittel Praxis" is "lebensmittelpraxis"."""
    text = _DOMAIN.sub("", text.strip().casefold())
    text = _DOMAIN.sub("", text)
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if c.isalpha())


@dataclass(frozen=True)
class SiteNames:
    """Keys (see :func:`_key`) of every name the page gives the site, and its host's labels."""

    keys: frozenset[str] = frozenset()
    host_words: frozenset[str] = frozenset()
    guessed: frozenset[str] = frozenset()

    @classmethod
    def of(cls, url: str, names: Iterable[str], guessed: Iterable[str] = ()) -> SiteNames:
        """``names`` are declared (profile, ``og:site_name``); ``guessed`` ones (the outer
        segments of ``<title>``) count for authors only, never against a headline."""
        host = (urlsplit(url).hostname or "").casefold().removeprefix("www.")
        labels = host.split(".")[:-1] if "." in host else [host]
        words = {w for label in labels for w in re.split(r"[-_]", label) if len(w) >= 4}
        keys = {_key(n) for n in names} | {_key(label) for label in labels}
        return cls(
            frozenset(k for k in keys if len(k) >= 2),
            frozenset(words),
            frozenset(k for k in map(_key, guessed) if len(k) >= 2),
        )

    def is_site(self, name: str, *, guesses: bool = False) -> bool:
        key = _key(name)
        if key in self.keys or (guesses and key in self.guessed):
            return True
        words = [_key(w) for w in name.split()]
        return len(words) > 1 and any(w in self.host_words for w in words)


# An article before the name: "The Economist", "Die Tagespost", "El Colombiano".
_ARTICLES = frozenset("the der die das el la le les los las il lo".split())


def _is_person(name: str, site: SiteNames) -> bool:
    words = name.split()
    if words and words[0].casefold() in _ARTICLES:
        return False
    if not words or len(words) > _MAX_WORDS or len(name) > 60 or _NOT_A_NAME.search(name):
        return False
    if _DOMAIN.search(name) or name.casefold() in _AGENCIES:
        return False
    hyphen_parts = (part for w in words for part in w.casefold().strip(".,").split("-"))
    if any(part in _ORG_WORDS for part in hyphen_parts) or "red." in name.casefold():
        return False
    return not site.is_site(name, guesses=True)


_TAG = re.compile(r"<[^>]*>")
# A credit, not a byline: "Źródło: Statista.com", "Quelle: dpa", "Foto: …".
_SOURCE = re.compile(r"(?:źródło|zrodlo|quelle|source|fuente|fonte|foto|photo|bild)\b", re.I)
# A role before the name: "FOCUS-Online-Experte Robin Tschöpe".
_ROLE = re.compile(r"^\S+-\S+-\S+\s+(?=\S+\s+\S+)")


def _undouble(name: str) -> str:
    """ "jesusfreak jesusfreak" (a link text and a label of the same name) -> "jesusfreak"."""
    words = name.split()
    half = len(words) // 2
    if half and len(words) % 2 == 0 and words[:half] == words[half:]:
        return " ".join(words[:half])
    return name


def people(value: str, site: SiteNames) -> tuple[str, ...]:
    """The people ``value`` names (labels and affiliations removed, split at "," "and" "&" …),
    without the site's own names, organisations, desks and agencies."""
    value = " ".join(_TAG.sub(" ", value).split()).strip(" '\"·|–-")
    if "://" in value or value.casefold().startswith("www.") or _SOURCE.match(value):
        return ()
    value = _LABEL.sub("", value)
    parts = [_AFFILIATION.sub("", _LABEL.sub("", p)).strip(" '\".,:") for p in _SPLIT.split(value)]
    parts = [_undouble(_ROLE.sub("", p)) for p in parts if p]
    if len(parts) > 1 and not _is_person(parts[0], site) and len(parts[0].split()) == 1:
        return ()  # "hessenschau.de, Frankfurt, Germany": the site and its place
    if len(parts) > 1:
        # "Markus M. Haefliger, London, Beat Bumbacher": a lone word among full names is a place
        # or an outlet ("Rob Picheta, CNN").
        full = [p for p in parts if len(p.split()) > 1 and _is_person(p, site)]
        if full:
            parts = full
    return tuple(p for p in parts if _is_person(p, site))
