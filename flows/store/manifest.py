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
from typing import Final, Literal, TypedDict

from flows.store.runs import Keys, RunPaths
from flows.warc import RecordCounts

MANIFEST_SCHEMA: Final = "newsvault.manifest/1"
_CHUNK = 1024 * 1024

# The contract of ``manifest.json`` (``Manifest``, published as
# flows/derive/schema/manifest.schema.json beside the other outputs' schemas;
# tests/test_contracts.py checks that the two agree).
ObjectKind = Literal["warc", "articles", "stats", "captures", "cdxj", "events", "template"]


class ManifestEntry(TypedDict):
    kind: ObjectKind
    key: str
    local_name: str  # path relative to the run directory
    size: int
    sha256: str


class RunCounts(TypedDict):
    """``flows.derive.DerivedCounts`` and the counts of the run's indexes."""

    responses: int
    responses_by_status: dict[str, int]
    article_pages: int
    articles: int
    aliases: int
    extraction_failures: int
    new_articles: int
    new_versions: int
    unchanged: int
    near_duplicates: int
    deletions: int
    restored: int
    records: RecordCounts  # of the digest index, by WARC record type
    cdxj_lines: int


class Manifest(TypedDict):
    schema: Literal["newsvault.manifest/1"]
    site: str
    run_id: str
    run_prefix: str
    base_url: str
    started_at: str
    finished_at: str
    cleaner_version: str
    counts: RunCounts
    crawl: dict[str, int | float | str]  # Scrapy's stats (their names are Scrapy's), scalars only
    objects: list[ManifestEntry]
    bytes: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class ObjectEntry:
    kind: ObjectKind
    key: str
    local_name: str  # path relative to the run directory
    size: int
    sha256: str

    def as_dict(self) -> ManifestEntry:
        return {
            "kind": self.kind,
            "key": self.key,
            "local_name": self.local_name,
            "size": self.size,
            "sha256": self.sha256,
        }


def _entry(run: RunPaths, kind: ObjectKind, key: str, path: Path) -> ObjectEntry:
    return ObjectEntry(
        kind, key, str(path.relative_to(run.dir)), path.stat().st_size, sha256_file(path)
    )


def build_manifest(
    run: RunPaths,
    keys: Keys,
    *,
    base_url: str,
    started_at: datetime,
    counts: RunCounts,
    crawl: dict[str, int | float | str],
    cleaner_version: str,
) -> Manifest:
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
    if run.template.is_file():
        objects.append(_entry(run, "template", keys.template, run.template))
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


def write_manifest(run: RunPaths, manifest: Manifest) -> Path:
    tmp = run.manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, run.manifest)
    return run.manifest


def read_manifest(run: RunPaths) -> Manifest:
    data: Manifest = json.loads(run.manifest.read_text(encoding="utf-8"))
    return data
