"""One archive run per site at a time: an S3 lease object plus a local lock on the spool.

S3 (any machine): ``{prefix}sites/{site}/lock.json`` is created with a conditional write
(``If-None-Match: *``; SeaweedFS, AWS and MinIO refuse the second writer with 412). It names its
owner (host, pid, a random token) and an expiry. A lock whose expiry has passed, or whose owner
ran on this host under a pid that no longer lives, is stale: it is taken over with
``If-Match: <its ETag>`` (so of two runs finding the same stale lock only one wins) and the
takeover is reported. Release deletes the object only if it still holds our token.

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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from flows.errors import NewsvaultError
from flows.s3 import StoreConfig, translate

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

log = logging.getLogger(__name__)
Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]
DEFAULT_TTL = timedelta(hours=6)  # longer than any run; a dead run's lock expires after it
LOCK_NAME = "lock.json"


class SiteLockedError(NewsvaultError):
    """Another run of the same site holds the lock."""


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    token: str
    acquired: str
    expires: str

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
        if self.host == socket.gethostname() and not _alive(self.pid):
            return f"its process {self.pid} on {self.host} is gone"
        return None

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} since {self.acquired} (expires {self.expires})"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_key(config: StoreConfig, site: str) -> str:
    return f"{config.prefix}sites/{site}/{LOCK_NAME}"


def _status(exc: ClientError) -> tuple[int | None, str]:
    return (
        exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"),
        str(exc.response.get("Error", {}).get("Code", "")),
    )


class S3Lease:
    def __init__(
        self,
        client: S3Client,
        config: StoreConfig,
        site: str,
        ttl: timedelta = DEFAULT_TTL,
        logger: Logger = log,
    ) -> None:
        self.client, self.config, self.site, self.ttl, self.logger = (
            client,
            config,
            site,
            ttl,
            logger,
        )
        self.key = lock_key(config, site)
        self.owner: Owner | None = None
        self.took_over: str | None = None  # why an earlier lock was stale, when we replaced it

    def _new_owner(self) -> Owner:
        now = datetime.now(UTC)
        return Owner(
            socket.gethostname(),
            os.getpid(),
            secrets.token_hex(8),
            now.isoformat(timespec="seconds"),
            (now + self.ttl).isoformat(timespec="seconds"),
        )

    def _put(self, owner: Owner, **condition: str) -> bool:
        """Conditional write; False when the condition failed (someone else holds it)."""
        try:
            self.client.put_object(
                Bucket=self.config.bucket,
                Key=self.key,
                Body=owner.to_bytes(),
                ContentType="application/json",
                **condition,  # type: ignore[arg-type]
            )
        except ClientError as exc:
            status, code = _status(exc)
            if status in (409, 412) or code in ("PreconditionFailed", "ConditionalRequestConflict"):
                return False
            raise translate(exc, self.config, f"write the lock {self.key}") from exc
        except BotoCoreError as exc:
            raise translate(exc, self.config, f"write the lock {self.key}") from exc
        return True

    def _read(self) -> tuple[Owner | None, str] | None:
        try:
            got = self.client.get_object(Bucket=self.config.bucket, Key=self.key)
            raw = got["Body"].read()
        except ClientError as exc:
            if _status(exc)[1] in ("NoSuchKey", "404"):
                return None
            raise translate(exc, self.config, f"read the lock {self.key}") from exc
        except BotoCoreError as exc:
            raise translate(exc, self.config, f"read the lock {self.key}") from exc
        return Owner.from_bytes(raw), str(got.get("ETag", ""))

    def acquire(self) -> Owner:
        for _ in range(3):
            owner = self._new_owner()
            if self._put(owner, IfNoneMatch="*"):
                self.owner = owner
                return owner
            found = self._read()
            if found is None:
                continue  # released between our write and our read: try again
            held, etag = found
            why = "it is unreadable" if held is None else held.stale_because(datetime.now(UTC))
            if why is None:
                assert held is not None
                raise SiteLockedError(
                    f"site {self.site!r} is already being archived (lock s3://{self.config.bucket}/"
                    f"{self.key} held by {held.describe()}); this run is refused: wait for it"
                )
            if self._put(owner, IfMatch=etag):
                self.owner, self.took_over = owner, why
                self.logger.warning(
                    "took over the stale lock of %s (%s): %s",
                    self.site,
                    why,
                    held.describe() if held else "unreadable",
                )
                return owner
        raise SiteLockedError(
            f"site {self.site!r}: could not take the lock s3://{self.config.bucket}/{self.key} "
            "(another run keeps changing it); retry later"
        )

    def release(self) -> None:
        if self.owner is None:
            return
        try:
            found = self._read()
            if found is not None and found[0] is not None and found[0].token == self.owner.token:
                self.client.delete_object(Bucket=self.config.bucket, Key=self.key)
        except (NewsvaultError, BotoCoreError, ClientError) as exc:
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
    client: S3Client,
    config: StoreConfig,
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
        lease = S3Lease(client, config, site, ttl, logger)
        lease.acquire()
        try:
            yield lease
        finally:
            lease.release()
    finally:
        spool.release()
