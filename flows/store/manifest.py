"""The run manifest: every object of a run with its size and SHA-256, the counts, the versions.

Written into the spool when processing ends and uploaded last, so a manifest in S3 means the run
is complete; it is also what the store step uploads and verifies from.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.store.runs import Keys, RunPaths

MANIFEST_SCHEMA = "newsvault.manifest/1"
_CHUNK = 1024 * 1024


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ObjectEntry:
    kind: str  # "warc" | "articles" | "stats" | "captures" | "cdxj" | "events"
    key: str
    local_name: str  # path relative to the run directory
    size: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "local_name": self.local_name,
            "size": self.size,
            "sha256": self.sha256,
        }


def _entry(run: RunPaths, kind: str, key: str, path: Path) -> ObjectEntry:
    return ObjectEntry(
        kind, key, str(path.relative_to(run.dir)), path.stat().st_size, sha256_file(path)
    )


def build_manifest(
    run: RunPaths,
    keys: Keys,
    *,
    base_url: str,
    started_at: datetime,
    counts: dict[str, Any],
    crawl: dict[str, Any],
    cleaner_version: str,
) -> dict[str, Any]:
    objects = [_entry(run, "warc", keys.warc(p.name), p) for p in run.warc_files()]
    if run.articles.is_file():
        objects.append(_entry(run, "articles", keys.articles, run.articles))
    if run.stats.is_file():
        objects.append(_entry(run, "stats", keys.stats, run.stats))
    if run.captures.is_file():
        objects.append(_entry(run, "captures", keys.captures, run.captures))
    if run.cdxj.is_file():
        objects.append(_entry(run, "cdxj", keys.cdxj, run.cdxj))
    if run.events.is_file():
        objects.append(_entry(run, "events", keys.events, run.events))
    return {
        "schema": MANIFEST_SCHEMA,
        "site": run.site,
        "run_id": run.run_id,
        "run_prefix": keys.run_prefix,
        "base_url": base_url,
        "started_at": started_at.astimezone(UTC).isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "cleaner_version": cleaner_version,
        "counts": counts,
        "crawl": crawl,
        "objects": [o.as_dict() for o in objects],
        "bytes": sum(o.size for o in objects),
    }


def write_manifest(run: RunPaths, manifest: dict[str, Any]) -> Path:
    tmp = run.manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, run.manifest)
    return run.manifest


def read_manifest(run: RunPaths) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(run.manifest.read_text(encoding="utf-8"))
    return data
