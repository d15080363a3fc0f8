"""Whether an article can have changed since its last capture: the conditional request's
validators, from the two date formats the spider compares (a sitemap's
W3C ``lastmod`` or a WARC-Date, and an HTTP ``Last-Modified``; both as aware UTC, None if odd)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from flows.warc import CaptureEntry


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


def conditional_headers(
    latest: CaptureEntry | None, lastmod: str | None, recheck_days: float
) -> dict[str, str] | None:
    """Validators from the last capture; None when the sitemap says it can't have changed."""
    if latest is None or latest.status not in (200, 304):
        return {}
    changed = parse_time(lastmod)
    # Compare the site's clock with the site's clock: the Last-Modified the page had when
    # it was captured (the capture's own date is ours, and sites' clocks drift).
    captured = parse_http_date(latest.last_modified) or parse_time(latest.date)
    if changed is not None and captured is not None and changed <= captured:
        if datetime.now(UTC) - changed > timedelta(days=recheck_days):
            return None
    headers = {}
    if latest.etag:
        headers["If-None-Match"] = latest.etag
    if latest.last_modified:
        headers["If-Modified-Since"] = latest.last_modified
    return headers
