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
from typing import Any, TypedDict

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from flows.clean import SiteTemplate, TemplateStats, canonical_url, clean_html, prefer_rel_canonical
from flows.derive.articles import Provenance, build_record, merge_duplicates
from flows.derive.listing import Listing
from flows.derive.spill import RecordSpill, RunRecord, Spilled, spill_path
from flows.errors import ExtractionError
from flows.sites import SiteProfile
from flows.warc import WARC_READ_ERRORS, RecordType

log = logging.getLogger(__name__)
GONE_STATUSES = frozenset({301, 302, 303, 307, 308, 404, 410})
# At most this many bytes of a payload are decoded (Content-Encoding) when reading a WARC: the
# archive keeps a gzip bomb as received, and reading it back must not inflate it.
MAX_PAYLOAD = 32 * 1024 * 1024


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
    record_type: RecordType = "response"  # or "revisit": headers only, the payload is elsewhere
    too_large: bool = False  # the decoded payload exceeds MAX_PAYLOAD: ``body`` is empty


@dataclass(frozen=True)
class Gone:
    """A response that may mean an article was deleted: 404/410, or a redirect."""

    url: str
    status: int
    location: str | None
    record_id: str
    warc_file: str
    date: str


class ProcessCounts(TypedDict):
    """What cleaning a run's WARC files found (the first part of the manifest's counts)."""

    responses: int
    responses_by_status: dict[str, int]
    article_pages: int
    articles: int
    aliases: int
    extraction_failures: int


@dataclass
class ProcessResult:
    records: list[RunRecord] = field(default_factory=list)
    responses_by_status: Counter[int] = field(default_factory=Counter)
    article_pages: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    # (url, score, reasons) of pages cleaned under the profile's [health] min_quality
    low_quality: list[tuple[str, float, str]] = field(default_factory=list)
    aliases: int = 0
    listing: Listing = field(default_factory=lambda: Listing())
    gone: list[Gone] = field(default_factory=list)
    error_responses: list[tuple[str, int]] = field(default_factory=list)  # (url, 4xx/5xx)
    spill_dir: Path | None = None  # where the records are, when spilled (flows.derive.spill)
    template: TemplateStats | None = None  # the site template after this run (flows.derive.learn)

    @property
    def spilled(self) -> Spilled:
        return Spilled(self.spill_dir)

    def summary(self) -> ProcessCounts:
        return {
            "responses": sum(self.responses_by_status.values()),
            "responses_by_status": {str(k): v for k, v in sorted(self.responses_by_status.items())},
            "article_pages": self.article_pages,
            "articles": len(self.records),
            "aliases": self.aliases,
            "extraction_failures": len(self.failures),
        }


def _read_limited(stream: Any, limit: int) -> bytes:
    """Up to ``limit`` bytes of a (decoding) stream, in bounded reads."""
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk = stream.read(min(1 << 20, limit - size))
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


def iter_captures(path: Path) -> Iterator[Capture]:
    """Response and revisit records of one WARC file, bodies decoded from their
    Content-Encoding (a revisit's body is empty: its payload is in the record it refers to)."""
    with open(path, "rb") as fh:
        records = ArchiveIterator(fh)
        try:
            for record in records:
                if record.format != "warc":  # warcio reads anything else as a lenient ARC
                    raise ArchiveLoadFailed(f"not a WARC record ({record.format})")
                if record.rec_type not in ("response", "revisit") or record.http_headers is None:
                    continue
                body = _read_limited(record.content_stream(), MAX_PAYLOAD + 1)
                too_large = len(body) > MAX_PAYLOAD
                if too_large:
                    body = b""
                records.read_to_end(record)
                headers = record.rec_headers
                yield Capture(
                    url=headers.get_header("WARC-Target-URI") or "",
                    status=_status(record.http_headers.get_statuscode()),
                    content_type=record.http_headers.get_header("Content-Type") or "",
                    body=body,
                    record_id=headers.get_header("WARC-Record-ID") or "",
                    payload_digest=headers.get_header("WARC-Payload-Digest") or "",
                    warc_date=headers.get_header("WARC-Date") or "",
                    offset=records.get_record_offset(),
                    length=records.get_record_length(),
                    location=record.http_headers.get_header("Location"),
                    warc_file=path.name,
                    record_type=record.rec_type,
                    too_large=too_large,
                )
        except WARC_READ_ERRORS as exc:
            raise ExtractionError(
                f"{path} is not a valid WARC file ({exc}); quarantine it"
            ) from exc


def _status(code: str | None) -> int:
    """The HTTP status of a record; 0 when the server sent something that is not a number."""
    try:
        return int(code or 0)
    except ValueError:
        return 0


def page_charset(content_type: str) -> str | None:
    """The charset of a ``Content-Type`` header, if it names one."""
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"'")
    return None


def is_article_capture(capture: Capture, profile: SiteProfile) -> bool:
    return (
        capture.status == 200
        and capture.record_type == "response"
        and "html" in capture.content_type.lower()
        and profile.is_article_url(capture.url)
    )


@dataclass
class FileResult:
    """The map step: one WARC file's pages, cleaned (merged by ``merge_results``)."""

    warc_file: str
    raw: list[RunRecord] = field(default_factory=list)
    responses_by_status: Counter[int] = field(default_factory=Counter)
    article_pages: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    low_quality: list[tuple[str, float, str]] = field(default_factory=list)
    listing: Listing = field(default_factory=lambda: Listing())
    gone: list[Gone] = field(default_factory=list)
    error_responses: list[tuple[str, int]] = field(default_factory=list)  # (url, 4xx/5xx)


def clean_warc(
    path: Path,
    profile: SiteProfile,
    run_id: str,
    warc_key: Callable[[str], str],
    spill_dir: Path | None = None,
    template: SiteTemplate | None = None,
) -> FileResult:
    """Clean the article pages of one WARC file (no cross-file work: that is the merge's).

    With ``spill_dir``, the records go to a spill file there and those returned are light
    (``flows.derive.spill``); ``template`` is the site's (``flows.derive.learn``)."""
    if spill_dir is None:
        return _clean_warc(path, profile, run_id, warc_key, None, template)
    with RecordSpill(spill_path(spill_dir, path.name)) as spill:
        return _clean_warc(path, profile, run_id, warc_key, spill, template)


def _clean_warc(
    path: Path,
    profile: SiteProfile,
    run_id: str,
    warc_key: Callable[[str], str],
    spill: RecordSpill | None,
    template: SiteTemplate | None,
) -> FileResult:
    result = FileResult(path.name)
    captures = iter_captures(path)
    while True:
        try:
            capture = next(captures)
        except StopIteration:
            break
        except ExtractionError as exc:  # the rest of the file cannot be read: its failure
            log.warning("could not read %s: %s", path.name, exc)
            result.failures.append((path.name, f"WARC file unreadable from here on: {exc}"))
            break
        try:
            _take(result, capture, path, profile, run_id, warc_key, spill, template)
        except Exception as exc:  # noqa: BLE001 (poison input: one record's failure, whatever broke)
            reason = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            log.warning("could not read %s: %s", capture.url, reason)
            result.failures.append((capture.url, f"{reason} ({_where(capture)})"))
    return result


def _where(capture: Capture) -> str:
    """The WARC record a failure is about, for the report."""
    return f"WARC record {capture.record_id} in {capture.warc_file} at offset {capture.offset}"


def _take(
    result: FileResult,
    capture: Capture,
    path: Path,
    profile: SiteProfile,
    run_id: str,
    warc_key: Callable[[str], str],
    spill: RecordSpill | None,
    template: SiteTemplate | None = None,
) -> None:
    """One capture into the file's result: listing, gone, error responses, the cleaned page."""
    result.responses_by_status[capture.status] += 1
    if capture.record_type == "response":
        result.listing.add(
            capture.url, capture.status, capture.content_type, capture.body, capture.warc_date
        )
    if capture.status >= 400:
        result.error_responses.append((capture.url, capture.status))
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
        return
    result.article_pages += 1
    limit = min(MAX_PAYLOAD, profile.extract.max_page_bytes)
    if capture.too_large or len(capture.body) > limit:
        reason = (
            f"page larger than {limit:,} bytes once decoded ([extract] max_page_bytes): "
            f"archived, not cleaned ({_where(capture)})"
        )
        log.warning("could not clean %s: %s", capture.url, reason)
        result.failures.append((capture.url, reason))
        return
    try:
        article = clean_html(
            capture.body,
            capture.url,
            content_selector=profile.extract.content_selector,
            theme=profile.extract.theme,
            encoding=page_charset(capture.content_type),
            site_names=profile.extract.site_names,
            template=template,
        )
    except ExtractionError as exc:
        log.warning("could not clean %s: %s", capture.url, exc)
        result.failures.append((capture.url, str(exc)))
        return
    if article.unread is not None:  # archived, cleaned in part: reported, never silently
        log.warning("cleaned %s only in part: %s", capture.url, article.unread)
        result.failures.append((capture.url, f"{article.unread} ({_where(capture)})"))
    if article.quality < profile.health.min_quality:
        reasons = "; ".join(article.quality_reasons)
        result.low_quality.append((capture.url, article.quality, reasons))
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
    canonical = canonical_url(
        prefer_rel_canonical(capture.url, article.canonical_url, profile.allowed_domains),
        base_host=profile.host,
    )
    record = build_record(profile.name, capture.url, article, provenance, canonical)
    result.raw.append(spill.put(record) if spill is not None else record)


def merge_results(files: list[FileResult], spill_dir: Path | None = None) -> ProcessResult:
    """The reduce step: the same result as processing the files in turn, in the order given
    (``spill_dir``: where ``clean_warc`` spilled the records, if it did)."""
    result = ProcessResult(spill_dir=spill_dir)
    raw: list[RunRecord] = []
    for part in files:
        raw += part.raw
        result.responses_by_status.update(part.responses_by_status)
        result.article_pages += part.article_pages
        result.failures += part.failures
        result.low_quality += part.low_quality
        result.gone += part.gone
        result.error_responses += part.error_responses
        listing = result.listing
        listing.urls |= part.listing.urls
        listing.sitemaps_named |= part.listing.sitemaps_named
        listing.sitemaps_read |= part.listing.sitemaps_read
        listing.feeds_read += part.listing.feeds_read
        listing.last_read = max(listing.last_read, part.listing.last_read)
    result.records = merge_duplicates(raw)
    result.aliases = len(raw) - len(result.records)
    return result


def process_warcs(
    warcs: list[Path],
    profile: SiteProfile,
    run_id: str,
    warc_key: Callable[[str], str],
    spill_dir: Path | None = None,
    template: SiteTemplate | None = None,
) -> ProcessResult:
    """Map ``clean_warc`` over the files, then ``merge_results`` (live runs do it in-process)."""
    return merge_results(
        [clean_warc(path, profile, run_id, warc_key, spill_dir, template) for path in warcs],
        spill_dir,
    )
