"""Run monitoring beside the report: a live progress artifact for the crawl, and the earlier
runs' counts that the health checks compare against (read from the archived manifests)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact

from flows.errors import ConfigError
from flows.store import RunCounts, Store, site_runs

log = logging.getLogger(__name__)


def crawl_progress(stats: dict[str, Any]) -> tuple[float, str]:
    """Percent of the requests known so far that were answered, and a one-line description."""
    enqueued = int(stats.get("scheduler/enqueued", 0))
    answered = int(stats.get("downloader/response_count", 0))
    percent = min(99.0, 100.0 * answered / enqueued) if enqueued else 0.0
    text = (
        f"{answered} responses of {enqueued} requests queued so far; "
        f"{stats.get('newsvault/articles_fetched', 0)} articles fetched, "
        f"{stats.get('newsvault/warc_records', 0)} WARC records, "
        f"{stats.get('downloader/response_bytes', 0):,} bytes"
    )
    return round(percent, 1), text


class CrawlProgressArtifact:
    """One progress artifact per crawl, updated from the crawl's running stats."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.id: UUID | None = None

    def start(self) -> None:
        created = create_progress_artifact(
            0.0, key=f"{self.site}-crawl-progress", description=f"crawl of {self.site}: starting"
        )
        self.id = created if isinstance(created, UUID) else None

    def update(self, stats: dict[str, Any]) -> None:
        percent, text = crawl_progress(stats)
        self._set(percent, text)

    def finish(self, stats: dict[str, Any]) -> None:
        self._set(100.0, "finished: " + crawl_progress(stats)[1])

    def _set(self, percent: float, text: str) -> None:
        if self.id is None:
            return
        try:
            update_progress_artifact(self.id, percent, description=f"crawl of {self.site}: {text}")
        except Exception as exc:  # noqa: BLE001 - progress is best effort, never fails a crawl
            log.warning("progress artifact not updated: %s", exc)


def earlier_counts(store: Store, site: str, exclude: str, last: int) -> list[RunCounts]:
    """The ``counts`` of the site's last ``last`` archived runs before ``exclude``."""
    if last <= 0:
        return []
    try:
        runs = site_runs(store, site, last=last + 1)  # this run may be among them
    except ConfigError:
        return []
    found = [r.manifest.get("counts", {}) for r in runs.runs if r.run_id != exclude]
    return [c for c in found[-last:] if isinstance(c, dict)]
