"""Reading a site's archived runs back from S3: run ids, manifests, verified downloads.

Every object is checked against its run's manifest (size and SHA-256) as it streams to disk; a
file that was verified once keeps a ``.sha256`` sidecar, so later reads of an immutable object
reuse it without downloading or hashing again. Problems with one run or object (no manifest,
mismatching checksum) are returned by name, never raised for the whole site: callers skip what is
bad and report it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from flows.errors import ConfigError, StoreVerifyError
from flows.store.manifest import Manifest, ManifestEntry, ObjectKind
from flows.store.runs import MANIFEST, RUN_ID_RE, SiteKeys
from flows.store.s3 import Store
from flows.warc import write_compacted

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchivedRun:
    run_id: str
    manifest: Manifest

    def objects(self, kind: ObjectKind) -> list[ManifestEntry]:
        return [o for o in self.manifest.get("objects", []) if o.get("kind") == kind]

    def one(self, kind: ObjectKind) -> ManifestEntry | None:
        found = self.objects(kind)
        return found[0] if found else None


@dataclass
class SiteRuns:
    """A site's runs in S3, oldest first, and the runs that could not be read."""

    site: str
    runs: list[ArchivedRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)  # every run id listed, manifests read or not


def cache_root() -> Path:
    return Path(os.environ.get("NEWSVAULT_HOME", ".newsvault")).resolve() / "cache"


def _get_json(store: Store, key: str) -> dict[str, Any] | None:
    body = store.get(key)
    if body is None:
        return None
    data = json.loads(body)
    return data if isinstance(data, dict) else None


def site_runs(
    store: Store,
    site: str,
    *,
    only: str | None = None,
    after: str | None = None,
    last: int | None = None,
) -> SiteRuns:
    """The site's runs with their manifests. Unknown site or run: ``ConfigError``.

    A site archived hourly holds thousands of runs: ``after`` (run ids greater than it) and
    ``last`` (the newest N) limit which manifests are read; ``ids`` always lists them all."""
    keys = SiteKeys(store.config.prefix, site)
    ids = [name for name in store.list_dirs(keys.runs) if RUN_ID_RE.match(name)]
    if not ids:
        raise ConfigError(f"no archived runs of site {site!r} in {store.config.where}")
    result = SiteRuns(site, ids=list(ids))
    if only is not None:
        if only not in ids:
            raise ConfigError(f"run {only!r} of site {site!r} is not in {store.config.where}")
        ids = [only]
    if after is not None:
        ids = [i for i in ids if i > after]
    if last is not None:
        ids = ids[-last:] if last > 0 else []
    for run_id in ids:
        try:
            manifest = _get_json(store, keys.run(run_id).manifest)
        except ValueError:
            manifest = None
        if manifest is None:
            result.problems.append(
                f"run {run_id}: {MANIFEST} is missing or unreadable (incomplete upload); skipped"
            )
            continue
        result.runs.append(ArchivedRun(run_id, cast("Manifest", manifest)))  # as written
    return result


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def is_verified(path: Path, size: int, sha256: str) -> bool:
    sidecar = _sidecar(path)
    return (
        path.is_file()
        and path.stat().st_size == size
        and sidecar.is_file()
        and sidecar.read_text(encoding="ascii").strip() == sha256
    )


def fetch_verified(store: Store, entry: ManifestEntry, dest: Path) -> Path:
    """Download one manifest object to ``dest`` unless already verified there.

    Raises ``StoreVerifyError`` naming the object when its size or SHA-256 does not match the
    manifest (nothing is left at ``dest`` then)."""
    key, size, sha256 = str(entry["key"]), int(entry["size"]), str(entry["sha256"])
    if is_verified(dest, size, sha256):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        with open(part, "wb") as fh:
            got, digest = store.download(key, fh)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    if got != size or digest != sha256:
        part.unlink(missing_ok=True)
        _sidecar(dest).unlink(missing_ok=True)
        raise StoreVerifyError(
            f"{key}: {got} bytes, sha256 {digest[:12]}… do not match its manifest "
            f"({size} bytes, {sha256[:12]}…)"
        )
    os.replace(part, dest)
    _sidecar(dest).write_text(sha256 + "\n", encoding="ascii")
    return dest


def load_prior_captures(
    store: Store,
    site: str,
    out: Path,
    *,
    exclude: str | None = None,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = log,
) -> int:
    """Write the compacted union of the site's archived digest indexes to ``out``.

    Per-run indexes are immutable, so each is downloaded once into the local cache. Runs without
    a readable index are named in a warning (their payloads are simply not deduplicated).
    Returns the number of entries written; with no earlier runs nothing is written and 0 is
    returned."""
    try:
        runs = site_runs(store, site)
    except ConfigError:
        return 0  # the site's first run
    for problem in runs.problems:
        logger.warning("digest index: %s", problem)
    sources: list[Path] = []
    for run in runs.runs:
        if run.run_id == exclude:
            continue
        entry = run.one("captures")
        if entry is None:
            logger.warning("digest index: run %s has none (archived before them)", run.run_id)
            continue
        dest = cache_root() / site / run.run_id / "captures.jsonl.gz"
        try:
            sources.append(fetch_verified(store, entry, dest))
        except StoreVerifyError as exc:
            logger.warning("digest index of run %s skipped: %s", run.run_id, exc)
    if not sources:
        return 0
    return write_compacted(sources, out)
