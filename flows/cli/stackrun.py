"""What makes an archive run one of the local stack's, for ``newsvault run`` and for each run
``newsvault serve`` starts (``flows.cli.served``): registered for ``newsvault down`` while it
lives, stopped by SIGTERM with one line and its spool kept, and a full disk named as such."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from flows.errors import DiskFullError, RunStoppedError


@contextlib.contextmanager
def a_run_of_the_stack(spool: Path, site: str) -> Iterator[None]:
    """What makes an archive run (``run``, or one ``serve`` started) one of the local stack's:
    registered for ``down`` while it lives, stopped by SIGTERM with one line (its spool kept),
    and a full disk named as such, whatever it broke first."""
    from flows.store import disk_full_error, full_disk
    from infra.local import control as local

    stack = local.LocalStack.from_env()
    try:
        with local.run_registered(stack), _stopped_by_sigterm(spool, site):
            yield
    except Exception as exc:  # a full disk breaks Prefect's server and S3 too: name the disk
        disks = [spool, stack.prefect_home, stack.home]
        where = None if isinstance(exc, DiskFullError) else full_disk(disks, exc)
        if where is None:
            raise
        raise disk_full_error(where, spool / site) from exc


@contextlib.contextmanager
def _stopped_by_sigterm(spool: Path, site: str) -> Iterator[None]:
    """SIGTERM (``newsvault down``, a shutdown) ends the run with one line, not Python's silent
    death, once the run has unwound (the crawl stopped, the lock released, the spool kept). For
    ``run`` the flow's own handler (Prefect's) unwinds it, then hands the signal back to this
    one; in a served run's process this one is installed inside the flow, and unwinds it."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise RunStoppedError(
            f"the run was stopped ({signal.Signals(signum).name}: `newsvault down` or a "
            f"shutdown); what it fetched stays in the spool {spool / site}, the next run "
            "recovers it"
        )

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
