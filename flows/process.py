"""Derive article records from WARC files: the same code for a live run and for a replay.

Reads response records only (never live responses); an article page is a 200 HTML response whose
path matches the profile's article rule. Pages that fail to clean are reported, not fatal.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from flows.articles import Provenance, build_record, merge_duplicates
from flows.clean import clean_html
from flows.errors import ExtractionError
from flows.listing import Listing
from spiders.profile import SiteProfile

log = logging.getLogger(__name__)
GONE_STATUSES = frozenset({301, 302, 303, 307, 308, 404, 410})


@dataclass(frozen=True)
class Capture:
    """One HTTP response as archived, with where it sits in its WARC file."""

    url: str
    status: int
    content_type: str
    body: bytes
    record_id: str
    payload_digest: str
    warc_date: str
    offset: int
    length: int
    location: str | None = None
    warc_file: str = ""


@dataclass(frozen=True)
class Gone:
    """A response that may mean an article was deleted: 404/410, or a redirect."""

    url: str
    status: int
    location: str | None
    record_id: str
    warc_file: str
    date: str


@dataclass
class ProcessResult:
    records: list[dict[str, Any]] = field(default_factory=list)
    responses_by_status: Counter[int] = field(default_factory=Counter)
    article_pages: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    aliases: int = 0
    listing: Listing = field(default_factory=lambda: Listing())
    gone: list[Gone] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "responses": sum(self.responses_by_status.values()),
            "responses_by_status": {str(k): v for k, v in sorted(self.responses_by_status.items())},
            "article_pages": self.article_pages,
            "articles": len(self.records),
            "aliases": self.aliases,
            "extraction_failures": len(self.failures),
        }


def iter_captures(path: Path) -> Iterator[Capture]:
    """Response records of one WARC file, bodies decoded from their Content-Encoding."""
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh)
        try:
            for record in records:
                if record.format != "warc":  # warcio reads anything else as a lenient ARC
                    raise ArchiveLoadFailed(f"not a WARC record ({record.format})")
                if record.rec_type != "response" or record.http_headers is None:
                    continue
                body = record.content_stream().read()
                records.read_to_end(record)
                headers = record.rec_headers
                yield Capture(
                    url=headers.get_header("WARC-Target-URI") or "",
                    status=int(record.http_headers.get_statuscode() or 0),
                    content_type=record.http_headers.get_header("Content-Type") or "",
                    body=body,
                    record_id=headers.get_header("WARC-Record-ID") or "",
                    payload_digest=headers.get_header("WARC-Payload-Digest") or "",
                    warc_date=headers.get_header("WARC-Date") or "",
                    offset=records.get_record_offset(),
                    length=records.get_record_length(),
                    location=record.http_headers.get_header("Location"),
                    warc_file=path.name,
                )
        except ArchiveLoadFailed as exc:
            raise ExtractionError(
                f"{path} is not a valid WARC file ({exc}); quarantine it"
            ) from exc


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"'")
    return None


def is_article_capture(capture: Capture, profile: SiteProfile) -> bool:
    parts = urlsplit(capture.url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    return (
        capture.status == 200
        and "html" in capture.content_type.lower()
        and profile.is_article_path(target)
    )


def process_warcs(
    warcs: list[Path],
    profile: SiteProfile,
    run_id: str,
    warc_key: Callable[[str], str],
) -> ProcessResult:
    result = ProcessResult()
    raw: list[dict[str, Any]] = []
    for path in warcs:
        for capture in iter_captures(path):
            result.responses_by_status[capture.status] += 1
            result.listing.add(capture)
            if capture.status in GONE_STATUSES:
                result.gone.append(
                    Gone(
                        capture.url,
                        capture.status,
                        capture.location,
                        capture.record_id,
                        capture.warc_file,
                        capture.warc_date,
                    )
                )
            if not is_article_capture(capture, profile):
                continue
            result.article_pages += 1
            try:
                article = clean_html(
                    capture.body,
                    capture.url,
                    content_selector=profile.extract.content_selector,
                    theme=profile.extract.theme,
                    encoding=_charset(capture.content_type),
                )
            except ExtractionError as exc:
                log.warning("could not clean %s: %s", capture.url, exc)
                result.failures.append((capture.url, str(exc)))
                continue
            provenance = Provenance(
                warc_key=warc_key(path.name),
                warc_offset=capture.offset,
                warc_length=capture.length,
                warc_record_id=capture.record_id,
                payload_digest=capture.payload_digest,
                fetched_at=capture.warc_date,
                http_status=capture.status,
                run_id=run_id,
            )
            raw.append(build_record(profile.name, capture.url, article, provenance))
    result.records = merge_duplicates(raw)
    result.aliases = len(raw) - len(result.records)
    return result
