"""Upload a spooled run to S3, verify every object, and only then delete the spool.

Keys are deterministic (flows.store.runs.Keys), so a retry overwrites nothing new: an object
already in S3 with the same size and SHA-256 is skipped, one that differs is an error (WARCs are
immutable). Each file is read once, as it streams: the server verifies it against the SHA-256 its
manifest recorded (``Store.put_file``). The manifest goes last; its presence in S3 marks the run
complete.
"""

from __future__ import annotations

import logging
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from flows.errors import StoreAuthError, StoreError, StoreUnreachableError, StoreVerifyError
from flows.store.manifest import ManifestEntry, read_manifest, sha256_file
from flows.store.runs import RunPaths, SiteKeys, manifest_key
from flows.store.s3 import Store

log = logging.getLogger(__name__)


@dataclass
class StoreResult:
    run_id: str
    uploaded: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0

    @property
    def objects(self) -> int:
        return len(self.uploaded) + len(self.already_present)


def put_verified(store: Store, key: str, path: Path, size: int, sha256: str) -> bool:
    """Upload one file unless an identical object is there; returns True if it uploaded.

    The file is not hashed here: the server checks the bytes it receives against ``sha256``
    (the manifest's) and refuses them if they differ; only then is the file hashed, to say
    whether it changed since its manifest was written."""
    head = store.head(key)
    if head is not None:
        if head.size == size and head.sha256 == sha256:
            return False
        raise StoreVerifyError(
            f"{store.url(key)} already exists with different content; archived objects "
            "are immutable: investigate before deleting it (the local spool is kept)"
        )
    try:
        store.put_file(key, path, size=size, sha256=sha256)
    except StoreVerifyError as exc:
        if path.stat().st_size != size or sha256_file(path) != sha256:
            raise StoreVerifyError(
                f"{path} changed since its manifest was written; the spool is kept for inspection"
            ) from exc
        raise
    return True


def put_with_backoff(
    store: Store,
    key: str,
    path: Path,
    size: int,
    sha256: str,
    stop: threading.Event | None = None,
) -> bool:
    """``put_verified``, retried after ``config.retry_backoff`` waits while S3 is unreachable
    (a server restarting, a network blip); the last failure is raised as is. A 403 is retried
    too: the run checked its credentials before crawling, and a restarting SeaweedFS refuses
    requests for a moment before it has loaded its identities. ``stop`` set (the run is
    stopping, or another object found S3 gone for good) ends the waiting at once."""
    waits = list(store.config.retry_backoff)
    stop = stop or threading.Event()
    while True:
        try:
            return put_verified(store, key, path, size, sha256)
        except (StoreUnreachableError, StoreAuthError) as exc:
            if not waits or stop.is_set():
                raise
            wait = waits.pop(0)
            log.warning("upload of %s failed (%s); retrying in %.1f s", key, exc, wait)
            if stop.wait(wait):
                raise


def upload_run(store: Store, run: RunPaths) -> StoreResult:
    """Every object of the manifest, ``config.upload_workers`` at a time (largest first), then
    the manifest itself. A failed object does not stop the others (each is verified and a rerun
    skips it), but S3 gone after all retries does: the rest are not attempted. The first
    failure, in manifest order, is raised once all have finished, saying that the run stays in
    the spool (only an upload has a spool to keep)."""
    try:
        return _upload_run(store, run)
    except StoreError as exc:
        if "spool is kept" in str(exc):
            raise
        raise type(exc)(f"{exc}; the local spool is kept, the next run uploads it") from exc


class _NotAttemptedError(StoreUnreachableError):
    """An object not even tried: an earlier one found S3 gone after all its retries."""


def _upload_run(store: Store, run: RunPaths) -> StoreResult:
    manifest = read_manifest(run)
    manifest_object = manifest_key(manifest["run_prefix"])
    entries = manifest["objects"]

    stop = threading.Event()

    def one(entry: ManifestEntry) -> bool:
        if stop.is_set():
            raise _NotAttemptedError(f"upload of {entry['key']} not attempted: S3 is gone")
        path = run.dir / entry["local_name"]
        try:
            return put_with_backoff(store, entry["key"], path, entry["size"], entry["sha256"], stop)
        except (StoreUnreachableError, StoreAuthError):
            stop.set()  # retried to the end: the other objects would only wait the same way
            raise

    workers = max(1, min(store.config.upload_workers, len(entries)))
    largest_first = sorted(range(len(entries)), key=lambda i: -int(entries[i]["size"]))
    pool = ThreadPoolExecutor(workers, thread_name_prefix="upload")
    try:
        futures = {i: pool.submit(one, entries[i]) for i in largest_first}
        wait(futures.values())
    except BaseException:  # the run is stopping (SIGTERM): no object starts, none waits on
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    done = [futures[i] for i in range(len(entries))]  # manifest order
    failed = [error for future in done if (error := future.exception()) is not None]
    tried = [error for error in failed if not isinstance(error, _NotAttemptedError)]
    if failed:  # the first real failure in manifest order, once all have finished
        raise (tried or failed)[0]
    result = StoreResult(run.run_id)
    for entry, future in zip(entries, done, strict=True):
        if future.result():
            result.uploaded.append(entry["key"])
            result.bytes_uploaded += entry["size"]
        else:
            result.already_present.append(entry["key"])
    size, digest = run.manifest.stat().st_size, sha256_file(run.manifest)
    if put_with_backoff(store, manifest_object, run.manifest, size, digest):
        result.uploaded.append(manifest_object)
        result.bytes_uploaded += size
    else:
        result.already_present.append(manifest_object)
    return result


def discard_spool(run: RunPaths) -> None:
    """Remove a run's spool directory; call only after ``upload_run`` verified everything."""
    shutil.rmtree(run.dir)
    log.info("spool %s removed after verified upload", run.dir)


def list_run_objects(store: Store, site: str, run_id: str | None = None) -> list[tuple[str, int]]:
    """(key, size) of a site's archived objects, of one run or all, in key order."""
    keys = SiteKeys(store.config.prefix, site)
    return store.list_objects(keys.run(run_id).run_prefix if run_id else keys.runs)
