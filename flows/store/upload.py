"""Upload a spooled run to S3, verify every object, and only then delete the spool.

Keys are deterministic (flows.store.runs.Keys), so a retry overwrites nothing new: an object
already in
S3 with the same size and SHA-256 is skipped, one that differs is an error (WARCs are immutable).
The manifest goes last; its presence in S3 marks the run complete.
"""

from __future__ import annotations

import base64
import logging
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from flows.errors import StoreAuthError, StoreUnreachableError, StoreVerifyError
from flows.store.manifest import ManifestEntry, read_manifest, sha256_file
from flows.store.runs import MANIFEST, RunPaths
from flows.store.s3 import StoreConfig, translate

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

log = logging.getLogger(__name__)
SHA256_META = "sha256"


@dataclass
class StoreResult:
    run_id: str
    uploaded: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    bytes_uploaded: int = 0

    @property
    def objects(self) -> int:
        return len(self.uploaded) + len(self.already_present)


def _remote(client: S3Client, config: StoreConfig, key: str) -> dict[str, Any] | None:
    try:
        head: dict[str, Any] = dict(client.head_object(Bucket=config.bucket, Key=key))
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status == 404 or exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
            return None
        raise translate(exc, config, f"check {key}") from exc
    except BotoCoreError as exc:
        raise translate(exc, config, f"check {key}") from exc
    return head


def _matches(head: dict[str, Any], size: int, sha256: str) -> bool:
    meta = {k.lower(): v for k, v in head.get("Metadata", {}).items()}
    return int(head.get("ContentLength", -1)) == size and meta.get(SHA256_META) == sha256


def put_verified(
    client: S3Client, config: StoreConfig, key: str, path: Path, size: int, sha256: str
) -> bool:
    """Upload one file unless an identical object is there; returns True if it uploaded."""
    head = _remote(client, config, key)
    if head is not None:
        if _matches(head, size, sha256):
            return False
        raise StoreVerifyError(
            f"s3://{config.bucket}/{key} already exists with different content; archived objects "
            "are immutable: investigate before deleting it (the local spool is kept)"
        )
    checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
    try:
        with open(path, "rb") as body:
            client.put_object(
                Bucket=config.bucket,
                Key=key,
                Body=body,
                ContentLength=size,
                ChecksumSHA256=checksum,
                Metadata={SHA256_META: sha256},
            )
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, config, f"upload {key}") from exc
    head = _remote(client, config, key)
    if head is None or not _matches(head, size, sha256):
        raise StoreVerifyError(
            f"s3://{config.bucket}/{key} does not match {path} after upload (size or sha256); "
            "the local spool is kept; rerun to retry"
        )
    return True


def put_with_backoff(
    client: S3Client, config: StoreConfig, key: str, path: Path, size: int, sha256: str
) -> bool:
    """``put_verified``, retried after ``config.retry_backoff`` waits while S3 is unreachable
    (a server restarting, a network blip); the last failure is raised as is. A 403 is retried
    too: the run checked its credentials before crawling, and a restarting SeaweedFS refuses
    requests for a moment before it has loaded its identities."""
    waits = list(config.retry_backoff)
    while True:
        try:
            return put_verified(client, config, key, path, size, sha256)
        except (StoreUnreachableError, StoreAuthError) as exc:
            if not waits:
                raise
            wait = waits.pop(0)
            log.warning("upload of %s failed (%s); retrying in %.1f s", key, exc, wait)
            time.sleep(wait)


def upload_run(client: S3Client, config: StoreConfig, run: RunPaths) -> StoreResult:
    """Every object of the manifest, ``config.upload_workers`` at a time (largest first), then
    the manifest itself. A failed object does not stop the others (each is verified and a rerun
    skips it); the first failure, in manifest order, is raised once all have finished."""
    manifest = read_manifest(run)
    manifest_key = manifest["run_prefix"] + MANIFEST
    entries = manifest["objects"]

    def one(entry: ManifestEntry) -> bool:
        path = run.dir / entry["local_name"]
        if sha256_file(path) != entry["sha256"]:
            raise StoreVerifyError(
                f"{path} changed since its manifest was written; the spool is kept for inspection"
            )
        return put_with_backoff(client, config, entry["key"], path, entry["size"], entry["sha256"])

    workers = max(1, min(config.upload_workers, len(entries)))
    largest_first = sorted(range(len(entries)), key=lambda i: -int(entries[i]["size"]))
    with ThreadPoolExecutor(workers, thread_name_prefix="upload") as pool:
        futures = {i: pool.submit(one, entries[i]) for i in largest_first}
    done = [futures[i] for i in range(len(entries))]  # manifest order
    for future in done:  # the first failure in manifest order, after all have finished
        error = future.exception()
        if error is not None:
            raise error
    result = StoreResult(run.run_id)
    for entry, future in zip(entries, done, strict=True):
        if future.result():
            result.uploaded.append(entry["key"])
            result.bytes_uploaded += entry["size"]
        else:
            result.already_present.append(entry["key"])
    size, digest = run.manifest.stat().st_size, sha256_file(run.manifest)
    if put_with_backoff(client, config, manifest_key, run.manifest, size, digest):
        result.uploaded.append(manifest_key)
        result.bytes_uploaded += size
    else:
        result.already_present.append(manifest_key)
    return result


def discard_spool(run: RunPaths) -> None:
    """Remove a run's spool directory; call only after ``upload_run`` verified everything."""
    shutil.rmtree(run.dir)
    log.info("spool %s removed after verified upload", run.dir)


def list_run_objects(
    client: S3Client, config: StoreConfig, site: str, run_id: str | None = None
) -> list[tuple[str, int]]:
    """(key, size) of a site's archived objects, of one run or all, in key order."""
    prefix = f"{config.prefix}sites/{site}/runs/" + (f"{run_id}/" if run_id else "")
    found: list[tuple[str, int]] = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=config.bucket, Prefix=prefix
        ):
            found += [(obj["Key"], obj["Size"]) for obj in page.get("Contents", [])]
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, config, f"list {prefix}") from exc
    return sorted(found)
