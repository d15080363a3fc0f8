"""The two date formats the spider compares to decide whether an article changed: a sitemap's
W3C ``lastmod`` (or a WARC-Date) and an HTTP ``Last-Modified``; both as aware UTC, None if odd."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_time(value: str | None) -> datetime | None:
    """W3C datetime (sitemap lastmod) or WARC-Date, as aware UTC; None if absent or odd."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
