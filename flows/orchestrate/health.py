"""Health checks of an archive run, with thresholds from the site profile's ``[health]`` table.

Each check returns a one-line problem that says what to look at; the flow publishes its report
first and then fails the run with all problems (``flows.errors.HealthCheckError``), so the
evidence stays in the Prefect UI. S3 errors fail the run on their own (``flows.errors.StoreError``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flows.derive import DerivedCounts
from flows.sites import Health

BLOCKED_STATUSES = ("403", "429")


def reached_nothing(crawl_stats: dict[str, Any]) -> bool:
    """No HTTP response at all (DNS or connection failures, timeouts, robots.txt unreachable):
    the site was not reached, whatever the crawl's finish reason."""
    return int(crawl_stats.get("downloader/response_count", 0) or 0) == 0


def unreachable_report(
    site: str, run_id: str, base_url: str, crawl_stats: dict[str, Any]
) -> tuple[str, str]:
    """The report of a run that reached nothing, and its one-line problem."""
    failed = crawl_stats.get("newsvault/fetch_failures") or []
    reasons = sorted({str(f).rpartition(" | ")[0] for f in failed if isinstance(f, str)})
    why = "; ".join(reasons[:3]) or "no response"
    problem = (
        f"site unreachable: no response from {base_url} ({why}); nothing archived. Check "
        f"that the site is up and that base_url in the {site} profile is right"
    )
    lines = [f"# Archive run `{run_id}` of **{site}**: site unreachable", "", f"- Site: {base_url}"]
    lines += ["- Health: **FAILED**", "", f"- {problem}", "", "| reason | url |", "|---|---|"]
    for item in failed[:100] if isinstance(failed, list) else []:
        reason, _, url = str(item).rpartition(" | ")
        lines.append(f"| {reason} | {url} |")
    return "\n".join(lines) + "\n", problem


def produced_something(counts: DerivedCounts) -> bool:
    return bool(int(counts.get("new_articles", 0)) or int(counts.get("new_versions", 0)))


def check_health(
    site: str,
    health: Health,
    counts: DerivedCounts,
    earlier: Sequence[DerivedCounts] = (),
    crawl_stats: dict[str, Any] | None = None,
    low_quality: int = 0,
) -> list[str]:
    """Problems of one run. ``counts`` is ``Derived.summary()``; ``earlier`` the counts of the
    site's earlier archived runs (``RunCounts`` from their manifests), oldest first;
    ``low_quality`` the pages cleaned under ``health.min_quality``, which count as not cleaned."""
    problems: list[str] = []
    pages = int(counts.get("article_pages", 0))
    cleaned = pages - int(counts.get("extraction_failures", 0)) - low_quality
    if pages >= max(health.min_article_pages, 1):
        coverage = cleaned / pages
        if coverage < health.min_extraction_coverage:
            weak = f", {low_quality} under quality {health.min_quality}" if low_quality else ""
            problems.append(
                f"extraction coverage {coverage:.0%} ({cleaned} of {pages} article pages cleaned"
                f"{weak}) is under {health.min_extraction_coverage:.0%}: the site's layout may "
                f"have changed; check [extract] content_selector/theme in the {site} profile "
                f"against a page listed under 'Pages that could not be cleaned' or 'Pages "
                f"cleaned under min_quality'"
            )
        problems += _shares(health, crawl_stats or {})
    statuses = counts.get("responses_by_status", {})
    responses = sum(int(n) for n in statuses.values())
    blocked = sum(int(statuses.get(code, 0)) for code in BLOCKED_STATUSES)
    if responses and blocked / responses > health.max_blocked_share:
        problems.append(
            f"{blocked} of {responses} responses were 403/429 ({blocked / responses:.0%} > "
            f"{health.max_blocked_share:.0%}): the site blocks or rate-limits the crawler; "
            f"raise [politeness] download_delay or lower concurrent_requests for {site}"
        )
    if health.stale_runs > 0:
        recent = [*earlier, counts][-health.stale_runs :]
        if len(recent) >= health.stale_runs and not any(map(produced_something, recent)):
            problems.append(
                f"no new article or version in the last {health.stale_runs} runs: check that "
                f"the site still publishes and that its sitemaps/feeds are still discovered"
            )
    return problems


# Crawl stats a run's health looks at beyond its counts: documents the budget left unread.
_OVER_BUDGET = {
    "newsvault/sitemaps_over_budget": "sitemaps nested deeper than sitemap_depth",
    "newsvault/listings_over_budget": "listing pages deeper than listing_depth",
}


def crawl_problems(site: str, stats: dict[str, Any]) -> list[str]:
    """Problems the crawl's stats show: the run budget reached, documents beyond it. Unreadable
    documents are not among them: one bad sitemap or page never fails a run (the report lists
    each under 'Fetches that failed', and an unread listing is never judged complete)."""
    problems: list[str] = []
    reason = stats.get("newsvault/budget_reached") or (
        "wall time" if stats.get("finish_reason") == "closespider_timeout" else None
    )
    if reason:
        problems.append(
            f"the run budget was reached ({reason}): the crawl stopped before the site was "
            f"covered; raise [budget] in the {site} profile if the site really is that large"
        )
    over = [f"{int(stats[k])} {what}" for k, what in _OVER_BUDGET.items() if stats.get(k)]
    if over:
        problems.append(
            "documents beyond the run budget were not followed: " + ", ".join(over) + "; raise "
            f"[budget] sitemap_depth/listing_depth in the {site} profile if they are real"
        )
    return problems


def _shares(health: Health, stats: dict[str, Any]) -> list[str]:
    """The share of failed fetches (after retries; a 304 is none), judged only from
    ``min_article_pages`` article pages on. (The share of pages the cleaner could not handle is
    ``1 - min_extraction_coverage``, checked above.)"""
    problems: list[str] = []
    failed = int(stats.get("newsvault/fetch_failed", 0) or 0)
    # the site's pages, sitemaps and feeds: requisites (stylesheets, images) are judged apart,
    # a missing theme image is no sign the site is down
    requisites = sum(
        int(stats.get(f"newsvault/requisites_{k}", 0) or 0)
        for k in ("archived", "unchanged", "failed")
    )
    requests = int(stats.get("downloader/request_count", 0) or 0) - requisites
    if requests > 0 and failed / requests > health.max_failed_share:
        problems.append(
            f"{failed} of {requests} fetches failed ({failed / requests:.0%} > "
            f"{health.max_failed_share:.0%}): see 'Fetches that failed'; the site may be down "
            f"or refusing the crawler"
        )
    return problems
