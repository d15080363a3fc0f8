"""Store: the S3 boundary. Run identity and keys, the spool layout, verified uploads, verified
reads and the manifest. The only package that talks to boto3."""

from flows.store.manifest import (
    Manifest,
    ManifestEntry,
    ObjectKind,
    RunCounts,
    build_manifest,
    sha256_file,
    write_manifest,
)
from flows.store.remote import ArchivedRun, cache_root, fetch_verified, get_bytes, site_runs
from flows.store.runs import (
    ARTICLES,
    EVENTS,
    SPILL_DIR,
    Keys,
    RunPaths,
    check_run_id,
    default_spool_root,
    pending_runs,
    state_key,
    unprocessed_runs,
)
from flows.store.s3 import StoreConfig, check_store, make_client, translate
from flows.store.upload import SHA256_META, StoreResult, discard_spool, list_run_objects, upload_run

__all__ = [
    "ARTICLES",
    "EVENTS",
    "SHA256_META",
    "SPILL_DIR",
    "ArchivedRun",
    "Keys",
    "Manifest",
    "ManifestEntry",
    "ObjectKind",
    "RunCounts",
    "RunPaths",
    "StoreConfig",
    "StoreResult",
    "build_manifest",
    "cache_root",
    "check_run_id",
    "check_store",
    "default_spool_root",
    "discard_spool",
    "fetch_verified",
    "get_bytes",
    "list_run_objects",
    "make_client",
    "pending_runs",
    "sha256_file",
    "site_runs",
    "state_key",
    "translate",
    "unprocessed_runs",
    "upload_run",
    "write_manifest",
]
