"""Text in HTML as WordPress writes it: escaping for text nodes and attributes, and dates."""

from __future__ import annotations

import html
from datetime import datetime

from infra.replica import words as W


def t(text: str) -> str:
    """Escape a text node (WordPress leaves quotes in text alone)."""
    return html.escape(text, quote=False)


def a(text: str) -> str:
    """Escape an attribute value."""
    return html.escape(text, quote=True)


def human_date(when: datetime) -> str:
    return f"{W.MONTHS[when.month - 1]} {when.day}, {when.year}"


def iso(when: datetime) -> str:
    return when.isoformat()
