"""Text normalisation and byte decoding shared by the cleaner.

Every paragraph the cleaner outputs goes through :func:`normalize_paragraph`, so the same page
gives the same text whichever extraction path produced it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

from w3lib.encoding import html_to_unicode

__all__ = ["decode_html", "normalize_paragraph", "normalize_paragraphs"]

# Stray entities left in text (double-escaped markup): only the complete form with a ";" is
# decoded, so prose such as "AT&T" or "R&D" and legacy prefixes ("&notice") stay as written.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Invisible characters that only get in the way: zero-width space, word joiner, BOM, soft hyphen,
# Mongolian vowel separator. ZWJ/ZWNJ (U+200D/U+200C) are kept: Persian, Indic scripts and emoji
# need them.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad\u180e"))
_SPACE = re.compile(r"\s+")


# C0/C1 control characters become spaces (tabs and newlines are whitespace anyway).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalize_paragraph(text: str) -> str:
    """NFC, entities decoded, invisible/control characters removed, whitespace collapsed."""
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = text.translate(_INVISIBLE)
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    return _SPACE.sub(" ", text).strip()


def normalize_paragraphs(paragraphs: Iterable[str]) -> tuple[str, ...]:
    """Normalise each paragraph and drop the empty ones."""
    out = (normalize_paragraph(p) for p in paragraphs)
    return tuple(p for p in out if p)


_LATIN_SINGLE_BYTE = frozenset(
    "latin_1 iso8859_1 iso8859_2 iso8859_3 iso8859_4 iso8859_9 iso8859_10 iso8859_13 iso8859_14 "
    "iso8859_15 iso8859_16 cp1250 cp1252 cp1254 cp1257 cp1258 cp437 cp850 cp852 cp858 mac_roman "
    "mac_latin2 mac_iceland mac_turkish".split()
)


def _detect(body: bytes) -> str | None:
    """Encoding of undeclared bytes: UTF-8 when valid, else charset detection, else cp1252."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - trafilatura depends on charset-normalizer
        return "cp1252"
    best = from_bytes(body[:65536]).best()
    if best is None or best.encoding.replace("-", "_").lower() in _LATIN_SINGLE_BYTE:
        # Latin-script single-byte encodings cannot be told apart from a few accented letters
        # (latin-1 "crème brûlée" reads as cp1250 "crčme brűlée"); cp1252 is what browsers
        # assume for an undeclared Western page.
        return "cp1252"
    return best.encoding


def decode_html(body: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode an HTML body: a byte-order mark wins, then ``encoding`` (the HTTP header's
    charset), then ``<meta charset>``, then detection (UTF-8 if valid, else charset-normalizer,
    with cp1252 for Latin-script guesses). Never raises on bad bytes (they become U+FFFD).

    Returns ``(text, encoding_used)``.
    """
    header = f"text/html; charset={encoding}" if encoding else None
    used, text = html_to_unicode(header, body, default_encoding="cp1252", auto_detect_fun=_detect)
    return text, used
