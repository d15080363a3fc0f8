"""Text normalisation and byte decoding shared by the cleaner.

Every paragraph the cleaner outputs goes through :func:`normalize_paragraph`, so the same page
gives the same text whichever extraction path produced it: stray HTML entities decoded, mojibake
repaired (ftfy), zero-width and control characters removed, Unicode NFC, whitespace collapsed.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

import ftfy
from w3lib.encoding import (
    html_body_declared_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

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

# A cheap test for possible mojibake before running ftfy (which costs ~0.3 ms per paragraph):
# UTF-8 read as cp1252/latin-1 gives a lead character in Â..ô followed by a continuation
# character (U+0080..U+00BF or the cp1252 punctuation in 0x80..0x9F); UTF-8 read as cp1251 gives
# "Р"/"С" followed by such a character or a rare Cyrillic letter ("Ð", "Ñ" pairs likewise).
_CP1252_HIGH = "\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"  # noqa: E501
_MAYBE_MOJIBAKE = re.compile(
    f"[\u00c2-\u00f4][\u0080-\u00bf{_CP1252_HIGH}]"
    f"|[\u0420\u0421\u0432][\u0080-\u00bf\u0402-\u040f\u0452-\u045f{_CP1252_HIGH}]"
)
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False,  # entities are handled above, conservatively
    uncurl_quotes=False,  # typographic quotes are the author's, not damage
    fix_latin_ligatures=False,
    fix_character_width=False,
    fix_line_breaks=False,
    normalization="NFC",
    explain=False,
)


def fix_mojibake(text: str) -> str:
    """Repair text that was decoded with the wrong charset ("cafÃ©" -> "café"); other text is
    returned unchanged."""
    if text.isascii() or _MAYBE_MOJIBAKE.search(text) is None:
        return text
    return ftfy.fix_text(text, _FTFY)


def normalize_paragraph(text: str) -> str:
    """Entities decoded, mojibake repaired, invisible/control characters removed, NFC, whitespace
    collapsed."""
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = fix_mojibake(text)
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
_SINGLE_BYTE = _LATIN_SINGLE_BYTE | frozenset(
    "cp1251 koi8_r koi8_u iso8859_5 cp866 mac_cyrillic cp1253 iso8859_7 cp1255 iso8859_8 cp1256 "
    "iso8859_6 cp874 iso8859_11".split()
)


def _codec(name: str) -> str:
    return name.replace("-", "_").lower()


def _detect(body: bytes) -> str:
    """Encoding of undeclared bytes: UTF-8 when valid, else charset detection, else cp1252."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    from charset_normalizer import from_bytes  # a trafilatura dependency

    best = from_bytes(body[:65536]).best()
    if best is None or _codec(best.encoding) in _LATIN_SINGLE_BYTE:
        # Latin-script single-byte encodings cannot be told apart from a few accented letters
        # (latin-1 "crème brûlée" reads as cp1250 "crčme brűlée"); cp1252 is what browsers
        # assume for an undeclared Western page.
        return "cp1252"
    return str(best.encoding)


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def decode_html(body: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode an HTML body: a byte-order mark wins, then ``encoding`` (the HTTP header's
    charset), then ``<meta charset>``, then detection (UTF-8 if valid, else charset-normalizer,
    with cp1252 for Latin-script guesses).

    A declared charset that is wrong is overruled: bytes that do not decode with it are detected
    instead, and non-ASCII bytes that are valid UTF-8 under a single-byte declaration are read as
    UTF-8 (a UTF-8 page mislabelled ``iso-8859-1``; real cp1252 text is almost never valid UTF-8).
    Never raises on bad bytes (they become U+FFFD). Returns ``(text, encoding_used)``.
    """
    bom, bom_bytes = read_bom(body)
    if bom is not None and bom_bytes is not None:
        return to_unicode(body[len(bom_bytes) :], bom), bom
    declared = next(
        (
            e
            for e in (
                resolve_encoding(encoding) if encoding else None,
                html_body_declared_encoding(body),
            )
            if e and _decodes(b"", e)
        ),
        None,
    )
    if declared is not None:
        resolved = resolve_encoding(declared) or declared
        if _decodes(body, resolved):
            single_byte = _codec(resolved) in _SINGLE_BYTE
            if single_byte and not body.isascii() and _decodes(body, "utf-8"):
                return body.decode("utf-8"), "utf-8"
            return body.decode(resolved), resolved
        if _codec(resolved) in ("utf_8", "utf8"):
            # A UTF-8 page with a few corrupt bytes (a truncated or spliced body) stays UTF-8;
            # one whose non-ASCII text is mostly invalid is in another charset.
            text = body.decode("utf-8", "replace")
            bad = text.count("\ufffd")
            if bad * 10 < sum(1 for ch in text if ord(ch) > 127) - bad:
                return text, "utf-8"
    used = _detect(body)
    return to_unicode(body, used), used
