"""State: what the archive already holds for a site (a fold of its runs), its checkpoint in S3,
and the lease that keeps one run per site at a time."""

from flows.state.checkpoint import (
    LoadedState,
    StateSource,
    advance_run,
    load_state,
    previous_text_loader,
    rebuild,
    run_template,
    save_state,
)
from flows.state.fold import (
    ArticleEntry,
    Deletion,
    FoldedAlias,
    FoldedDeletion,
    FoldedEvent,
    FoldedProvenance,
    FoldedRecord,
    FoldedRestoration,
    SiteState,
)
from flows.state.lock import S3Lease, site_lock

__all__ = [
    "ArticleEntry",
    "Deletion",
    "FoldedAlias",
    "FoldedDeletion",
    "FoldedEvent",
    "FoldedProvenance",
    "FoldedRecord",
    "FoldedRestoration",
    "LoadedState",
    "S3Lease",
    "SiteState",
    "StateSource",
    "advance_run",
    "load_state",
    "previous_text_loader",
    "rebuild",
    "run_template",
    "save_state",
    "site_lock",
]
