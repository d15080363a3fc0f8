"""The language of an article: what the page declares, checked against a real detector.

The detector is py3langid (the langid.py model, 97 languages, shipped inside the package: no
download at run time). Pages often declare the wrong language (a WordPress default ``en-US`` on a
German site), so the declared code is kept only when the detector agrees or is unsure:
a confident detection (probability >= :data:`CONFIDENT`) on enough text
(:data:`MIN_CHARS`) wins over the declaration. Without a declaration, a detection with
probability >= :data:`UNDECLARED_MIN` is used; shorter or ambiguous text gives None.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["CONFIDENT", "MIN_CHARS", "detect_language", "language_code", "pick_language"]

CONFIDENT = 0.95
UNDECLARED_MIN = 0.6
MIN_CHARS = 200
MAX_CHARS = 5000


def language_code(value: str | None) -> str | None:
    """The primary subtag of a language tag, lower-cased ("en-US" -> "en"), or None."""
    if not value:
        return None
    primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> tuple[str | None, float]:
    """(ISO 639-1 code, probability) from the text itself; (None, 0.0) for text with no letters."""
    sample = text[:MAX_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return None, 0.0
    lang, prob = _identifier().classify(sample)
    return (str(lang) if lang != "und" else None), float(prob)


def pick_language(declared: str | None, text: str) -> str | None:
    """The article's language from its declared code and its text (rules in the module doc)."""
    declared = language_code(declared)
    if len(text) < MIN_CHARS:
        if declared:
            return declared
        detected, prob = detect_language(text) if len(text) >= 20 else (None, 0.0)
        return detected if prob >= UNDECLARED_MIN else None
    detected, prob = detect_language(text)
    if declared is None:
        return detected if prob >= UNDECLARED_MIN else None
    if detected is not None and detected != declared and prob >= CONFIDENT:
        return detected
    return declared
