"""The archive-site flow as ``newsvault serve`` runs it.

Prefect runs each served flow run in a process of its own (``python -m prefect.engine``, which
loads the deployment's entrypoint: this module's ``served_archive_site``). In that process the
run is one of the local stack's as ``newsvault run``'s are (``a_run_of_the_stack``): registered
for ``newsvault down``, stopped by its SIGTERM with one line and the spool kept, and its
``NewsvaultError``s one line on the console. Imported only by ``serve`` and by that process (it
imports Prefect, through ``flows.orchestrate``).
"""

from __future__ import annotations

from flows.cli.stackrun import a_run_of_the_stack
from flows.orchestrate import RunSummary, archive_site, one_line_errors_on_console, served_flow
from flows.store import default_spool_root


@served_flow
def served_archive_site(site: str, max_pages: int | None = None) -> RunSummary:
    """``archive_site``'s body, inside what makes it a run of the local stack."""
    one_line_errors_on_console()
    with a_run_of_the_stack(default_spool_root(), site):
        summary: RunSummary = archive_site.fn(site=site, max_pages=max_pages)
    return summary
