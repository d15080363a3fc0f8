"""One archive run per site at a time: an S3 lease object plus a local lock on the spool.

S3 (any machine): ``{prefix}sites/{site}/lock.json`` (``SiteKeys.lock``) is created with a
conditional write (``If-None-Match: *``; SeaweedFS, AWS and MinIO refuse the second writer with
412; ``Store.put_if``). It names its owner (host, pid, a random token) and an expiry. A lock whose
expiry has passed, or whose owner provably died (``Owner.process``: same boot, same pid namespace,
and its pid gone or reused — a container with the same hostname cannot fool it), is stale: it
is taken over with ``If-Match: <its ETag>`` (so of two runs finding the same stale lock only one
wins) and the takeover is reported. While the run lives, a thread renews the expiry (``If-Match``
on our own ETag), so the TTL can be short: a run that died on another host blocks the site for at
most one TTL. A renewal that finds the lock taken marks the lease lost, and the run checks it
before it commits the site's state. Release deletes the object only if it still holds our token.

Local (same spool): ``fcntl.flock`` on ``SPOOL/SITE/.lock``, released by the kernel even when the
process is killed, so two runs never pick up each other's spooled runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from flows.errors import NewsvaultError
from flows.store import SiteKeys, Store

log = logging.getLogger(__name__)
Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]
DEFAULT_TTL = timedelta(hours=1)  # renewed every TTL/4 while the run lives


class SiteLockedError(NewsvaultError):
    """Another run of the same site holds the lock."""


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    token: str
    acquired: str
    expires: str
    # boot id / pid-namespace inode / start time of the owner's process: a pid is only judged
    # where it means the same process (empty in older locks: then only the expiry counts)
    process: str = ""

    def to_bytes(self) -> bytes:
        return json.dumps(self.__dict__, sort_keys=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> Owner | None:
        try:
            data: dict[str, Any] = json.loads(raw)
            return cls(
                str(data["host"]),
                int(data["pid"]),
                str(data["token"]),
                str(data["acquired"]),
                str(data["expires"]),
                str(data.get("process", "")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def stale_because(self, now: datetime) -> str | None:
        try:
            expires = datetime.fromisoformat(self.expires)
        except ValueError:
            return "its expiry is unreadable"
        if expires <= now:
            return f"it expired at {self.expires}"
        if self.process and self.host == socket.gethostname() and not _same_process(self):
            return f"its process {self.pid} on {self.host} is gone"
        return None

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.acquired} (expires {self.expires})"


def process_identity(pid: int) -> str:
    """``boot id/pid namespace/start time`` of a process ("" when /proc cannot say): the same
    string only for the same process, never for a pid of another container or an earlier boot."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.stat("/proc/self/ns/pid").st_ino
        stat = Path(f"/proc/{pid}/stat").read_text()
        started = stat[stat.rindex(")") + 2 :].split()[19]  # field 22: start time in ticks
    except (OSError, ValueError, IndexError):
        return ""
    return f"{boot}/{namespace}/{started}"


def _same_process(owner: Owner) -> bool:
    """True unless the owner is provably gone: its identity's boot and pid namespace are ours
    and its pid is now free or another process. Anything unsure counts as alive."""
    mine = process_identity(os.getpid())
    if not mine or mine.rsplit("/", 1)[0] != owner.process.rsplit("/", 1)[0]:
        return True  # another machine, container or boot: only the lease's expiry can tell
    return process_identity(owner.pid) == owner.process


class S3Lease:
    def __init__(
        self, store: Store, site: str, ttl: timedelta = DEFAULT_TTL, logger: Logger = log
    ) -> None:
        self.store, self.site, self.ttl, self.logger = store, site, ttl, logger
        self.key = SiteKeys(store.config.prefix, site).lock
        self.owner: Owner | None = None
        self.etag: str | None = None  # of our lock object, for renewals
        self.took_over: str | None = None  # why an earlier lock was stale, when we replaced it
        self.lost: str | None = None  # why the lease is no longer ours

    def _new_owner(self) -> Owner:
        now = datetime.now(UTC)
        return Owner(
            socket.gethostname(),
            os.getpid(),
            secrets.token_hex(8),
            now.isoformat(timespec="seconds"),
            (now + self.ttl).isoformat(timespec="seconds"),
            process_identity(os.getpid()),
        )

    def _put(self, owner: Owner, if_match: str | None = None) -> str | None:
        """Conditional write (create when ``if_match`` is None, else replace that ETag): the new
        ETag, or None when the condition failed (someone else holds it)."""
        return self.store.put_if(
            self.key, owner.to_bytes(), if_match=if_match, content_type="application/json"
        )

    def _read(self) -> tuple[Owner | None, str] | None:
        found = self.store.get_with_etag(self.key)
        if found is None:
            return None
        return Owner.from_bytes(found[0]), found[1]

    def acquire(self) -> Owner:
        for _ in range(3):
            owner = self._new_owner()
            etag = self._put(owner)
            if etag is not None:
                self.owner, self.etag = owner, etag
                return owner
            found = self._read()
            if found is None:
                continue  # released between our write and our read: try again
            held, etag = found
            why = "it is unreadable" if held is None else held.stale_because(datetime.now(UTC))
            if why is None:
                assert held is not None
                raise SiteLockedError(
                    f"site {self.site!r} is already being archived (lock "
                    f"{self.store.url(self.key)} held by {held.describe()}); this run is refused: "
                    "wait for it"
                )
            taken = self._put(owner, if_match=etag)
            if taken is not None:
                self.owner, self.etag, self.took_over = owner, taken, why
                self.logger.warning(
                    "took over the stale lock of %s (%s): %s",
                    self.site,
                    why,
                    held.describe() if held else "unreadable",
                )
                return owner
        raise SiteLockedError(
            f"site {self.site!r}: could not take the lock {self.store.url(self.key)} "
            "(another run keeps changing it); retry later"
        )

    def renew(self) -> bool:
        """Push our expiry one TTL ahead; False (and ``lost`` set) if the lock is not ours."""
        if self.owner is None or self.lost is not None:
            return False
        owner = replace(
            self.owner, expires=(datetime.now(UTC) + self.ttl).isoformat(timespec="seconds")
        )
        etag = self._put(owner, if_match=self.etag or "*")
        if etag is None:
            found = self._read()
            holder = found[0].describe() if found and found[0] else "nobody (deleted)"
            self.lost = f"the lock {self.key} was taken over; it is now held by {holder}"
            self.logger.error("lost the lock of %s: %s", self.site, self.lost)
            return False
        self.owner, self.etag = owner, etag
        return True

    def check(self) -> None:
        """Raise ``SiteLockedError`` if the lease was lost (call before committing state)."""
        if self.lost is not None:
            raise SiteLockedError(
                f"site {self.site!r}: this run no longer holds its lock ({self.lost}); its "
                "archived objects are kept, its state is not saved: the next run folds them in"
            )

    def release(self) -> None:
        if self.owner is None:
            return
        try:
            found = self._read()
            if (
                self.lost is None
                and found is not None
                and found[0] is not None
                and found[0].token == self.owner.token
            ):
                self.store.delete(self.key)
        except NewsvaultError as exc:
            # Not fatal: the lease expires (or is found dead) and the next run takes it over.
            self.logger.warning("could not release the lock %s: %s", self.key, exc)
        self.owner = None


class SpoolLock:
    """``flock`` on ``SPOOL/SITE/.lock``: one run per site per spool, released on any exit."""

    def __init__(self, root: Path, site: str) -> None:
        self.path = root / site / ".lock"
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise SiteLockedError(
                f"the spool {self.path.parent} is in use by {holder}; "
                "this run is refused: wait for it"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


@contextlib.contextmanager
def site_lock(
    store: Store,
    root: Path,
    site: str,
    logger: Logger = log,
    ttl: timedelta = DEFAULT_TTL,
) -> Iterator[S3Lease]:
    """Hold both locks for the body; release them on any exit (a kill leaves the lease to
    expire or be found dead by the next run on this host)."""
    spool = SpoolLock(root, site)
    spool.acquire()
    try:
        lease = S3Lease(store, site, ttl, logger)
        lease.acquire()
        stop = threading.Event()
        renewer = threading.Thread(
            target=_renew_until, args=(lease, stop), name=f"lease-{site}", daemon=True
        )
        renewer.start()
        try:
            yield lease
        finally:
            stop.set()
            renewer.join()
            lease.release()
    finally:
        spool.release()


def _renew_until(lease: S3Lease, stop: threading.Event) -> None:
    """Renew every TTL/4 until stopped or lost; an S3 error is retried at the next tick (the
    lease stays valid until its expiry)."""
    interval = max(lease.ttl.total_seconds() / 4, 0.05)
    while not stop.wait(interval):
        try:
            if not lease.renew():
                return
        except NewsvaultError as exc:
            lease.logger.warning("could not renew the lock of %s: %s", lease.site, exc)
