"""Run identity, the local spool layout and every S3 key of the archive.

A run id is fixed when the run starts (UTC time plus a random suffix); every key in S3 is derived
from (prefix, site, run id, file name), so a retried upload writes the same keys and can never
duplicate an object. This module is the only place that spells a key.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.errors import ConfigError

RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")
_SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")
_SITE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

MANIFEST = "manifest.json"
ARTICLES = "articles.jsonl.gz"
EVENTS = "events.jsonl.gz"
STATS = "crawl-stats.json"
CRAWL_LOG = "crawl.log"
CAPTURES = "captures.jsonl.gz"  # this run's digest index (flows.warc.captures)
CDXJ = "index.cdxj"  # this run's sorted CDXJ index of its WARC files
TEMPLATE = "template.json.gz"  # the site template statistics after this run (flows.clean.template)
PRIOR_CAPTURES = "prior-captures.jsonl.gz"  # earlier runs' captures, compacted (not uploaded)
SPILL_DIR = "spill"  # article records spilled while processing (flows.derive.spill); not uploaded
LOCK = "lock.json"  # a site's lease object (flows.state.lock)


def new_run_id(now: datetime | None = None) -> str:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def check_run_id(run_id: str) -> str:
    if not RUN_ID_RE.match(run_id):
        raise ConfigError(f"run id {run_id!r} is not of the form 20260101T000000Z-abcdef")
    return run_id


def safe_name(name: str) -> str:
    """A single path segment that cannot climb out of its prefix."""
    if not _SAFE_NAME_RE.match(name) or ".." in name:
        raise ConfigError(f"unsafe object name {name!r}")
    return name


def default_spool_root() -> Path:
    home = Path(os.environ.get("NEWSVAULT_HOME", ".newsvault"))
    return Path(os.environ.get("NEWSVAULT_SPOOL", str(home / "spool"))).resolve()


@dataclass(frozen=True)
class RunPaths:
    """Where one run lives in the local spool."""

    root: Path
    site: str
    run_id: str

    @property
    def dir(self) -> Path:
        return self.root / self.site / self.run_id

    @property
    def warc_dir(self) -> Path:
        return self.dir / "warc"

    @property
    def manifest(self) -> Path:
        return self.dir / MANIFEST

    @property
    def articles(self) -> Path:
        return self.dir / ARTICLES

    @property
    def stats(self) -> Path:
        return self.dir / STATS

    @property
    def crawl_log(self) -> Path:
        return self.dir / CRAWL_LOG

    @property
    def captures(self) -> Path:
        return self.dir / CAPTURES

    @property
    def cdxj(self) -> Path:
        return self.dir / CDXJ

    @property
    def events(self) -> Path:
        return self.dir / EVENTS

    @property
    def template(self) -> Path:
        return self.dir / TEMPLATE

    @property
    def prior_captures(self) -> Path:
        return self.dir / PRIOR_CAPTURES

    def state_log_bytes(self) -> int:
        """Bytes of the outputs a later state load folds in (``flows.state.checkpoint``)."""
        paths = (self.articles, self.events, self.captures, self.template)
        return sum(p.stat().st_size for p in paths if p.is_file())

    def warc_files(self) -> list[Path]:
        """Closed WARC files only (``.open`` files are still being written or were torn)."""
        if not self.warc_dir.is_dir():
            return []
        return sorted(self.warc_dir.glob("*.warc.gz"))

    @classmethod
    def create(cls, root: Path, site: str, run_id: str | None = None) -> RunPaths:
        if not _SITE_RE.match(site):
            raise ConfigError(f"site name {site!r} is not a valid profile name")
        paths = cls(root, site, check_run_id(run_id or new_run_id()))
        paths.warc_dir.mkdir(parents=True, exist_ok=True)
        return paths


def _spooled_runs(root: Path, site: str, processed: bool) -> list[RunPaths]:
    site_dir = root / site
    if not site_dir.is_dir():
        return []
    return [
        RunPaths(root, site, d.name)
        for d in sorted(site_dir.iterdir())
        if d.is_dir() and RUN_ID_RE.match(d.name) and (d / MANIFEST).is_file() == processed
    ]


def pending_runs(root: Path, site: str) -> list[RunPaths]:
    """Runs of a site whose processing finished (manifest written) but which are still spooled."""
    return _spooled_runs(root, site, processed=True)


def unprocessed_runs(root: Path, site: str) -> list[RunPaths]:
    """Runs of a site left in the spool without a manifest: their crawl (or the whole flow) was
    killed before processing. The next run repairs, processes and stores them."""
    return _spooled_runs(root, site, processed=False)


@dataclass(frozen=True)
class SiteKeys:
    """A site's keys outside its runs: ``{prefix}sites/{site}/...``."""

    prefix: str
    site: str

    @property
    def root(self) -> str:
        return f"{self.prefix}sites/{self.site}/"

    @property
    def runs(self) -> str:
        """The prefix every run of the site lives under (one ``{run_id}/`` level below)."""
        return self.root + "runs/"

    def run(self, run_id: str) -> Keys:
        return Keys(self.prefix, self.site, run_id)

    @property
    def lock(self) -> str:
        """The lease object of ``flows.state.lock`` (beside ``state/``, not in it)."""
        return self.root + LOCK

    @property
    def index(self) -> str:
        """The site's merged CDXJ index (``newsvault index``)."""
        return self.root + CDXJ

    def state(self, name: str) -> str:
        """The site's state objects (mutable, unlike everything under runs/)."""
        return f"{self.root}state/{safe_name(name)}"

    def derived(self, cleaner_version: str, run_id: str) -> str:
        """Where a reprocessing with another cleaner writes a run's re-derived outputs."""
        return f"{self.root}derived/{cleaner_version}/runs/{run_id}/"


@dataclass(frozen=True)
class Keys:
    """Deterministic S3 keys of one run: ``{prefix}sites/{site}/runs/{run_id}/...``."""

    prefix: str
    site: str
    run_id: str

    @property
    def run_prefix(self) -> str:
        return f"{SiteKeys(self.prefix, self.site).runs}{self.run_id}/"

    def warc(self, filename: str) -> str:
        return f"{self.run_prefix}warc/{safe_name(filename)}"

    @property
    def articles(self) -> str:
        return self.run_prefix + ARTICLES

    @property
    def manifest(self) -> str:
        return manifest_key(self.run_prefix)

    @property
    def stats(self) -> str:
        return self.run_prefix + STATS

    @property
    def captures(self) -> str:
        return self.run_prefix + CAPTURES

    @property
    def cdxj(self) -> str:
        return self.run_prefix + CDXJ

    @property
    def events(self) -> str:
        return self.run_prefix + EVENTS

    @property
    def template(self) -> str:
        return self.run_prefix + TEMPLATE


def manifest_key(run_prefix: str) -> str:
    """A run's manifest, from the ``run_prefix`` its manifest records."""
    return run_prefix + MANIFEST


def state_key(prefix: str, site: str, name: str) -> str:
    """Keys of a site's state objects (mutable, unlike everything under runs/)."""
    return SiteKeys(prefix, site).state(name)


QUARANTINE_DIR = "quarantine"  # per site: spooled runs that could not be processed, kept
RECOVERY_ATTEMPTS = "recovery-attempts"  # in a spooled run: how often recovering it failed


def count_recovery_failure(run: RunPaths) -> int:
    """One more failed attempt at processing a spooled run; returns how many there were."""
    path = run.dir / RECOVERY_ATTEMPTS
    try:
        attempts = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        attempts = 0
    attempts += 1
    path.write_text(f"{attempts}\n")
    return attempts


def quarantine_run(run: RunPaths, reason: str) -> Path:
    """Move a spooled run that cannot be processed out of the next runs' way (kept, with the
    reason beside it, in ``{root}/{site}/quarantine/{run_id}``); returns where it went."""
    target = run.root / run.site / QUARANTINE_DIR / run.run_id
    target.parent.mkdir(parents=True, exist_ok=True)
    run.dir.rename(target)
    (target / "QUARANTINED").write_text(reason + "\n")
    return target
