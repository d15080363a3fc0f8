"""A rendered response before HTTP concerns (encoding, validators) are applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Response:
    """Status, media type, body, ``Last-Modified`` and extra headers of one answer."""

    status: int
    content_type: str
    body: bytes
    last_modified: datetime | None = None
    headers: tuple[tuple[str, str], ...] = ()
