"""A full disk named as such: a run that fails while a disk it writes to is (nearly) full ends
with one line naming that disk, whatever failed first.

A full disk shows up in many disguises: ``OSError`` ENOSPC from our own writes, a crawl that
records nothing, SeaweedFS answering 500 ``InternalError``, Prefect's server answering 500 to
every log line and state change. The cause is the same, so the run's failure is checked
against the free space of the places it writes (the spool, the stack's home) once, at the end.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from flows.errors import DiskFullError

#: Below this much free space a disk counts as full: a run cannot even write its lock, logs
#: and first WARC file there.
FULL_BELOW = 4 * 1024 * 1024
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


def free_bytes(path: Path) -> int | None:
    """Free bytes for an unprivileged writer on ``path``'s filesystem (its nearest existing
    ancestor); None when that cannot be told."""
    for candidate in (path, *path.parents):
        try:
            found = os.statvfs(candidate)
        except OSError:
            continue
        return found.f_bavail * found.f_frsize
    return None


def full_disk(paths: Iterable[Path], error: BaseException | None = None) -> Path | None:
    """The first of ``paths`` whose disk is full (or that ``error``, an ENOSPC, names)."""
    chain, seen = error, set()
    while chain is not None and id(chain) not in seen:
        seen.add(id(chain))
        if isinstance(chain, OSError) and chain.errno in _NO_SPACE and chain.filename:
            return Path(os.fsdecode(chain.filename))
        chain = chain.__cause__ or chain.__context__
    for path in paths:
        free = free_bytes(path)
        if free is not None and free < FULL_BELOW:
            return path
    return None


def disk_full_error(where: Path, spool: Path) -> DiskFullError:
    free = free_bytes(where)
    left = f"{free:,} bytes free" if free is not None else "full"
    return DiskFullError(
        f"no space left on device at {where} ({left}): free space and re-run; what this run "
        f"fetched stays in the spool {spool}, the next run recovers it (nothing archived is lost)"
    )
