"""The run report: one markdown summary and a table of articles, published as Prefect artifacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from flows.clean import TemplateStats
from flows.derive import CoreRecord, DerivedCounts, Event


class RunSummary(DerivedCounts):
    """What ``archive_site`` returns (``newsvault run`` prints it): the run, where it went, its
    counts and its health."""

    site: str
    run_id: str
    where: str
    manifest: str
    objects: int
    bytes_archived: int
    duration_s: float
    health: list[str] | Literal["ok"]
    evidence: str  # "unsigned", or the signature's key and the timestamp's status


# The spider's counts of articles that had no new version without being cleaned again.
UNCHANGED_STATS = (
    "articles_unchanged_identical",
    "articles_not_modified",
    "articles_unchanged_by_lastmod",
)


@dataclass(frozen=True)
class RunReport:
    site: str
    run_id: str
    base_url: str
    where: str  # s3://bucket/prefix at endpoint
    manifest_key: str
    crawl_stats: dict[str, Any]  # Scrapy's stats: free-form
    counts: DerivedCounts
    objects: int
    bytes_archived: int
    failures: list[tuple[str, str]]
    duration_s: float
    events: list[Event] = field(default_factory=list)
    error_responses: list[tuple[str, int]] = field(default_factory=list)
    health: list[str] = field(default_factory=list)
    fetch_failures: list[tuple[str, str]] = field(default_factory=list)  # (url, reason)
    # (url, score, reasons): pages cleaned under the profile's [health] min_quality
    low_quality: list[tuple[str, float, str]] = field(default_factory=list)
    evidence: str = "unsigned"
    qa: str = ""  # replay QA's one line (flows.orchestrate.qa); empty when off
    template: TemplateStats | None = None  # the site template after the run, if it learns one

    def summary(self) -> RunSummary:
        return {
            "site": self.site,
            "run_id": self.run_id,
            "where": self.where,
            "manifest": self.manifest_key,
            "objects": self.objects,
            "bytes_archived": self.bytes_archived,
            "duration_s": round(self.duration_s, 1),
            **self.counts,
            "unchanged": self.unchanged(),
            "health": self.health or "ok",
            "evidence": self.evidence,
        }

    def unchanged(self) -> int:
        """Articles re-checked or skipped that had no new version: re-fetched with the same
        text or the same payload, answered 304, or skipped by their sitemap lastmod."""
        stats = self.crawl_stats
        return int(self.counts.get("unchanged", 0)) + sum(
            int(stats.get(f"newsvault/{key}", 0) or 0) for key in UNCHANGED_STATS
        )

    def markdown(self) -> str:
        stats = self.crawl_stats
        statuses = self.counts.get("responses_by_status", {})
        status_line = ", ".join(f"{code}: {n}" for code, n in statuses.items()) or "none"
        discovered = int(stats.get("newsvault/articles_scheduled", 0)) + int(
            stats.get("newsvault/articles_unchanged_by_lastmod", 0)
        )
        lines = [
            f"# Archive run `{self.run_id}` of **{self.site}**",
            "",
            f"- Site: {self.base_url}",
            f"- Stored in: `{self.where}`, manifest `{self.manifest_key}`",
            f"- Duration: {self.duration_s:.1f} s; crawl finished: "
            f"`{stats.get('finish_reason', 'unknown')}`",
            "",
            f"- Health: {'**FAILED** (see below)' if self.health else 'ok'}",
            f"- Evidence: {self.evidence}",
            *([f"- Replay QA: {self.qa}"] if self.qa else []),
            *([f"- Site template: {self.template.describe()}"] if self.template else []),
            "",
            "| measure | count |",
            "|---|---:|",
            f"| articles discovered (sitemaps, feeds, listings) | {discovered} |",
            f"| requests | {stats.get('downloader/request_count', 0)} |",
            f"| bytes fetched | {stats.get('downloader/response_bytes', 0):,} |",
            f"| responses recorded | {self.counts.get('responses', 0)} |",
            f"| article pages fetched | {self.counts.get('article_pages', 0)} |",
            f"| articles written | {self.counts.get('articles', 0)} |",
            f"| new articles | {self.counts.get('new_articles', 0)} |",
            f"| new versions of archived articles | {self.counts.get('new_versions', 0)} |",
            f"| unchanged (no new version; re-checked or skipped) | {self.unchanged()} |",
            f"| · re-fetched, same text | {self.counts.get('unchanged', 0)} |",
            f"| · re-fetched, identical payload | "
            f"{stats.get('newsvault/articles_unchanged_identical', 0)} |",
            f"| · not modified (HTTP 304) | {stats.get('newsvault/articles_not_modified', 0)} |",
            f"| near-duplicates flagged | {self.counts.get('near_duplicates', 0)} |",
            f"| aliases (same article, other URL) | {self.counts.get('aliases', 0)} |",
            f"| deletions | {self.counts.get('deletions', 0)} |",
            f"| · skipped by sitemap lastmod (not fetched) | "
            f"{stats.get('newsvault/articles_unchanged_by_lastmod', 0)} |",
            f"| revisit records (identical payload or 304) | "
            f"{stats.get('newsvault/warc_revisits', 0)} |",
            f"| extraction failures | {self.counts.get('extraction_failures', 0)} |",
            f"| cleaned under min_quality | {len(self.low_quality)} |",
            "| page requisites archived / re-checked / unchanged / excluded / failed | "
            + " / ".join(
                str(stats.get(f"newsvault/requisites_{k}", 0))
                for k in ("archived", "rechecked", "unchanged", "excluded", "failed")
            )
            + " |",
            f"| objects archived | {self.objects} |",
            f"| bytes archived | {self.bytes_archived:,} |",
            "",
            f"Responses by status: {status_line}",
        ]
        if self.health:
            lines += ["", "## Health checks failed", ""]
            lines += [f"- {problem}" for problem in self.health]
        if self.fetch_failures:
            lines += ["", "## Fetches that failed (after retries) or were refused", ""]
            lines += ["| reason | url |", "|---|---|"]
            lines += [f"| {reason} | {url} |" for url, reason in self.fetch_failures[:100]]
            if len(self.fetch_failures) > 100:
                lines.append(f"| … | and {len(self.fetch_failures) - 100} more |")
        if self.error_responses:
            lines += ["", "## Error responses", "", "| status | url |", "|---:|---|"]
            lines += [f"| {status} | {url} |" for url, status in self.error_responses[:50]]
            if len(self.error_responses) > 50:
                lines.append(f"| … | and {len(self.error_responses) - 50} more |")
        deletions = [e for e in self.events if e["kind"] == "deleted"]
        if deletions:
            lines += ["", "## Deleted articles", "", "| article | url | how | evidence |"]
            lines.append("|---|---|---|---|")
            for event in deletions[:100]:
                evidence = event["evidence"]
                where = evidence.get("warc_record_id") or "absent from sitemaps and feed"
                lines.append(
                    f"| {event['article_id']} | {event['url']} | {event['how']} | {where} |"
                )
        if self.failures:
            lines += ["", "## Pages that could not be cleaned", ""]
            lines += [f"- {url}: {reason}" for url, reason in self.failures[:50]]
            if len(self.failures) > 50:
                lines.append(f"- … and {len(self.failures) - 50} more")
        if self.low_quality:
            lines += ["", "## Pages cleaned under min_quality", "", "| score | url | why |"]
            lines.append("|---|---|---|")
            lines += [f"| {q:.2f} | {url} | {why} |" for url, q, why in self.low_quality[:50]]
            if len(self.low_quality) > 50:
                lines.append(f"| … | and {len(self.low_quality) - 50} more | |")
        if self.template is not None and self.template.examples:
            lines += ["", "## Boilerplate the site template removes (examples)", ""]
            examples = sorted(self.template.examples.values())
            lines += [f"- {text[:160]}" for text in examples[:20]]
            if len(examples) > 20:
                lines.append(f"- … and {len(examples) - 20} more")
        return "\n".join(lines) + "\n"


def article_rows(records: Sequence[CoreRecord], limit: int = 500) -> list[dict[str, Any]]:
    """Rows of the articles table artifact (Prefect's table takes ``dict[str, Any]`` rows)."""
    return [
        {
            "id": r["id"],
            "version": r["version"],
            "change": ", ".join(r["changed_fields"]) or "new",
            "title": r["title"] or "",
            "published": r["published"] or "",
            "words": r["word_count"],
            "url": r["url"],
        }
        for r in records[:limit]
    ]


def fetch_failures(crawl_stats: dict[str, Any]) -> list[tuple[str, str]]:
    """(url, reason) of the crawl's failed or refused fetches (``newsvault/fetch_failures``)."""
    raw = crawl_stats.get("newsvault/fetch_failures") or []
    found: list[tuple[str, str]] = []
    for item in raw if isinstance(raw, list) else []:
        reason, _, url = str(item).rpartition(" | ")
        found.append((url, reason))
    return found
