"""Orchestrate: the Prefect flows (archive a site, reprocess it, serve schedules) and what they
publish (progress, report, health). The only package that imports Prefect."""

from flows.orchestrate.archive import archive_site
from flows.orchestrate.console import one_line_errors_on_console
from flows.orchestrate.report import RunSummary
from flows.orchestrate.reprocess import (
    ChangesReport,
    Comparison,
    OutcomeRow,
    ReprocessSummary,
    RunChanges,
    run_reprocess,
)
from flows.orchestrate.schedule import deploy_sites, serve_sites, served_flow, site_deployment

__all__ = [
    "ChangesReport",
    "Comparison",
    "OutcomeRow",
    "ReprocessSummary",
    "RunChanges",
    "RunSummary",
    "archive_site",
    "deploy_sites",
    "one_line_errors_on_console",
    "run_reprocess",
    "serve_sites",
    "served_flow",
    "site_deployment",
]
