"""Deletion events: an archived article that now answers 404/410, redirects to the home page or
a listing (a soft 404), or vanished from the site's sitemaps and feed.

Each event carries its evidence in the archive: the WARC record of the 404/410/redirect, or, for
a disappearance, the sitemaps that were read completely without naming the article.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal
from urllib.parse import urljoin, urlsplit

from flows.derive.events import DeletedEvent, DeletionHow
from flows.derive.process import ProcessResult
from flows.state import SiteState

_LISTING_RE = re.compile(r"^/(category|tag|author)/|^/page/\d+/?$|^/(\d{4}/)?(\d{2}/)?$")


def redirect_kind(url: str, location: str) -> Literal["redirect_home", "redirect_listing"] | None:
    """ "redirect_home" / "redirect_listing" for a soft 404, None for a real move."""
    target = urlsplit(urljoin(url, location))
    if target.netloc and target.netloc != urlsplit(url).netloc:
        return None
    if target.path in ("", "/") and not target.query:
        return "redirect_home"
    if _LISTING_RE.search(target.path):
        return "redirect_listing"
    return None


def detect_deletions(
    state: SiteState,
    result: ProcessResult,
    run_id: str,
    canonical: Callable[[str], str],
    warc_key: Callable[[str], str],
) -> list[DeletedEvent]:
    by_url = {canonical(url): entry for url, entry in state.by_url().items()}
    events: list[DeletedEvent] = []
    gone_ids: set[str] = set()
    for gone in result.gone:
        entry = by_url.get(canonical(gone.url))
        if entry is None or entry.deleted is not None or entry.id in gone_ids:
            continue
        how: DeletionHow | None
        if gone.status in (404, 410):
            how = "http_404" if gone.status == 404 else "http_410"
        else:
            how = redirect_kind(gone.url, gone.location or "") if gone.location else None
        if how is None:
            continue
        gone_ids.add(entry.id)
        events.append(
            {
                "kind": "deleted",
                "how": how,
                "article_id": entry.id,
                "url": gone.url,
                "time": gone.date,
                "run_id": run_id,
                "evidence": {
                    "warc_key": warc_key(gone.warc_file),
                    "warc_record_id": gone.record_id,
                    "http_status": gone.status,
                    "location": gone.location,
                },
            }
        )
    if result.listing.complete:
        listed = {canonical(u) for u in result.listing.urls}
        for entry in sorted(state.live_articles().values(), key=lambda e: e.id):
            names = {canonical(u) for u in (entry.url, *entry.aliases)}
            if entry.id in gone_ids or names & listed:
                continue
            events.append(
                {
                    "kind": "deleted",
                    "how": "unlisted",
                    "article_id": entry.id,
                    "url": entry.url,
                    "time": result.listing.last_read,
                    "run_id": run_id,
                    "evidence": {"sitemaps": sorted(result.listing.sitemaps_read)},
                }
            )
    return events
