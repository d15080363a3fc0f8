"""A verified local mirror of a site's archive: what replay (pywb) and WACZ export read.

Layout under ``.newsvault/replay/{site}/`` (``NEWSVAULT_HOME`` moves it)::

    archive/{warc name}          WARC files, each verified against its manifest (size, SHA-256)
                                 and read through once (every gzip member complete, digests pass)
    indexes/{run_id}.cdxj        each run's CDXJ index, less the lines of any WARC left out, its
                                 304 re-checks pointing at the captures they confirmed
                                 (``flows.replay.revisits``): what pywb reads
    recorded/{run_id}.cdxj       the same lines as recorded (what WACZ export starts from)
    articles/{run_id}.jsonl.gz   each run's articles (titles for WACZ pages)

Incremental: verified files keep a ``.sha256`` sidecar and are not downloaded again. A bad input
(no manifest, checksum mismatch, truncated or corrupt WARC) is named in ``problems`` and left out;
it never stops the rest of the site from being mirrored.
"""

from __future__ import annotations

import os
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from flows.errors import NewsvaultError
from flows.replay.revisits import Resolved, resolve_not_modified
from flows.store import ArchivedRun, Store, fetch_verified, site_runs
from flows.warc import WARC_READ_ERRORS, index_warcs, merge_indexes

_CHUNK = 1024 * 1024
_CHECKED = ".checked"


def replay_root() -> Path:
    return Path(os.environ.get("NEWSVAULT_HOME", ".newsvault")).resolve() / "replay"


@dataclass
class Mirror:
    site: str
    dir: Path
    runs: list[str] = field(default_factory=list)
    warcs: list[Path] = field(default_factory=list)
    indexes: list[Path] = field(default_factory=list)
    recorded: dict[str, Path] = field(default_factory=dict)  # run id -> its recorded index
    run_warcs: dict[str, list[Path]] = field(default_factory=dict)
    articles: list[Path] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    not_modified: Resolved = field(default_factory=lambda: Resolved(0, 0))

    @property
    def archive_dir(self) -> Path:
        return self.dir / "archive"

    @property
    def index_dir(self) -> Path:
        return self.dir / "indexes"


def check_warc(path: Path) -> str | None:
    """None when every gzip member is complete and every record reads with passing digests;
    otherwise what is wrong with it."""
    try:
        with open(path, "rb") as fh:
            pending = b""
            while True:
                member = zlib.decompressobj(zlib.MAX_WBITS | 16)
                data = pending or fh.read(_CHUNK)
                if not data:
                    break
                while True:
                    member.decompress(data)
                    if member.eof:
                        pending = member.unused_data
                        break
                    data = fh.read(_CHUNK)
                    if not data:
                        return "truncated: its last gzip member is incomplete"
        with open(path, "rb") as fh:
            for record in ArchiveIterator(fh, check_digests=True):
                if record.format != "warc":
                    return f"not a WARC record at offset {fh.tell()}"
                record.content_stream().read()
                if record.digest_checker.passed is False:
                    return "digest mismatch: " + "; ".join(map(str, record.digest_checker.problems))
    except WARC_READ_ERRORS as exc:
        return f"corrupt: {exc}"
    return None


def _checked(path: Path) -> bool:
    return path.with_name(path.name + _CHECKED).is_file()


def _mirror_run(store: Store, run: ArchivedRun, mirror: Mirror, *, articles: bool) -> None:
    good: list[Path] = []
    bad: set[str] = set()
    for entry in run.objects("warc"):
        name = Path(str(entry["key"])).name
        dest = mirror.archive_dir / name
        try:
            fetch_verified(store, entry, dest)
        except NewsvaultError as exc:
            mirror.problems.append(f"run {run.run_id}: WARC {name} skipped: {exc}")
            bad.add(name)
            continue
        if not _checked(dest):
            problem = check_warc(dest)
            if problem:
                mirror.problems.append(f"run {run.run_id}: WARC {name} skipped: {problem}")
                bad.add(name)
                continue
            dest.with_name(dest.name + _CHECKED).touch()
        good.append(dest)
    if not good:
        mirror.problems.append(f"run {run.run_id}: no readable WARC file; run skipped")
        return
    index = mirror.index_dir / f"{run.run_id}.cdxj"
    cdxj = run.one("cdxj")
    source = mirror.dir / "cache" / f"{run.run_id}.cdxj"
    try:
        if cdxj is None:
            raise FileNotFoundError("no index.cdxj in its manifest")
        fetch_verified(store, cdxj, source)
    except (NewsvaultError, FileNotFoundError) as exc:
        mirror.problems.append(f"run {run.run_id}: index rebuilt from its WARCs ({exc})")
        index_warcs(good, source)
    recorded = mirror.dir / "recorded" / f"{run.run_id}.cdxj"
    recorded.parent.mkdir(exist_ok=True)
    merge_indexes([source], recorded, drop_files=bad)
    shutil.copyfile(recorded, index)
    mirror.runs.append(run.run_id)
    mirror.recorded[run.run_id] = recorded
    mirror.run_warcs[run.run_id] = good
    mirror.warcs += good
    mirror.indexes.append(index)
    listed = run.one("articles")
    if articles and listed is not None:
        try:
            path = mirror.dir / "articles" / f"{run.run_id}.jsonl.gz"
            mirror.articles.append(fetch_verified(store, listed, path))
        except NewsvaultError as exc:
            mirror.problems.append(f"run {run.run_id}: articles skipped: {exc}")


def mirror_site(
    store: Store,
    site: str,
    *,
    run_id: str | None = None,
    root: Path | None = None,
    articles: bool = False,
    until: str | None = None,
) -> Mirror:
    """Bring the local mirror of ``site`` (or of one run, or of the runs up to ``until``: what
    a one-run package may need) up to date with S3."""
    runs = site_runs(store, site, only=run_id)
    mirror = Mirror(site, (root or replay_root()) / site)
    mirror.problems += runs.problems
    mirror.archive_dir.mkdir(parents=True, exist_ok=True)
    mirror.index_dir.mkdir(parents=True, exist_ok=True)
    for run in runs.runs:
        if until is None or run.run_id <= until:  # run ids sort by their start
            _mirror_run(store, run, mirror, articles=articles)
    # indexes of runs no longer good must not point pywb at their files
    if run_id is None and until is None:
        for stale in set(mirror.index_dir.glob("*.cdxj")) - set(mirror.indexes):
            stale.unlink()
    mirror.not_modified = resolve_not_modified(mirror.index_dir.glob("*.cdxj"))
    if mirror.not_modified.dropped:
        mirror.problems.append(
            f"{mirror.not_modified.dropped} 304 re-check(s) left out of replay: the capture they "
            "confirmed is not in the mirror"
        )
    return mirror
