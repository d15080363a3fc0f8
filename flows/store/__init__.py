"""Store: the S3 boundary. Run identity and every key, the spool layout, the ``Store`` object
(the one client of S3 and the one translation of its errors), verified uploads, verified reads
and the manifest. The only package that talks to boto3."""

from flows.store.manifest import (
    Manifest,
    ManifestEntry,
    ObjectKind,
    RunCounts,
    build_manifest,
    sha256_file,
    write_manifest,
)
from flows.store.remote import ArchivedRun, cache_root, fetch_verified, site_runs
from flows.store.runs import (
    ARTICLES,
    EVENTS,
    SPILL_DIR,
    TEMPLATE,
    Keys,
    RunPaths,
    SiteKeys,
    check_run_id,
    count_recovery_failure,
    default_spool_root,
    pending_runs,
    quarantine_run,
    state_key,
    unprocessed_runs,
)
from flows.store.s3 import ObjectInfo, Store, StoreConfig, check_store
from flows.store.space import disk_full_error, full_disk
from flows.store.upload import StoreResult, discard_spool, list_run_objects, upload_run

__all__ = [
    "ARTICLES",
    "EVENTS",
    "SPILL_DIR",
    "TEMPLATE",
    "ArchivedRun",
    "Keys",
    "Manifest",
    "ManifestEntry",
    "ObjectInfo",
    "ObjectKind",
    "RunCounts",
    "RunPaths",
    "SiteKeys",
    "Store",
    "StoreConfig",
    "StoreResult",
    "build_manifest",
    "cache_root",
    "check_run_id",
    "check_store",
    "count_recovery_failure",
    "default_spool_root",
    "discard_spool",
    "disk_full_error",
    "fetch_verified",
    "full_disk",
    "list_run_objects",
    "pending_runs",
    "quarantine_run",
    "sha256_file",
    "site_runs",
    "state_key",
    "unprocessed_runs",
    "upload_run",
    "write_manifest",
]
