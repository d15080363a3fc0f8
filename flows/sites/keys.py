"""How a profile key is declared: its default, its meaning (rendered into docs/PROFILES.md) and
the range a number must lie in. One helper for every section, wherever the section lives."""

from __future__ import annotations

from dataclasses import field
from typing import Any


def key(default: Any, doc: str, *, low: float | None = None, high: float | None = None) -> Any:
    """One profile key. An optional text key (``str | None``) reads ``""`` as unset."""
    meta = {"doc": doc, "low": low, "high": high}
    return field(default=default, metadata=meta)
