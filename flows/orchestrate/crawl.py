"""Run one crawl in its own ``python -m scrapy crawl`` subprocess.

Twisted's reactor cannot be restarted inside one process, so each crawl gets a fresh
interpreter. Its log is written to the run's ``crawl.log`` and forwarded to the caller's logger
(warnings and errors as such, the engine's progress lines at INFO, the rest at DEBUG so the
Prefect UI is not flooded); its final stats come back through the StatsFile extension.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flows.errors import ConfigError, CrawlError
from flows.sites import SiteProfile
from flows.store import RunPaths, full_disk

_LINE_RE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[(?P<name>[^\]]+)\] "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL): "
)
_LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
_INFO_SOURCES = ("scrapy.core.engine", "scrapy.extensions.logstats", "news", "spiders")
_SECRET_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
EXTRA_SETTINGS_ENV = "NEWSVAULT_SCRAPY_SETTINGS"
_SETTING_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
PROGRESS_FILE = "crawl-progress.json"  # running stats, rewritten by spiders.statsfile
PROGRESS_INTERVAL = 3.0
CRAWL_QUEUE_DIR = "crawl-queue"  # Scrapy JOBDIR: the pending requests, on disk
# The stats worth one INFO line at the end of a crawl (the full dump stays at DEBUG).
SUMMARY_STATS = (
    "downloader/request_count",
    "downloader/response_count",
    "downloader/response_bytes",
    "newsvault/articles_scheduled",
    "newsvault/articles_fetched",
    "newsvault/articles_unchanged_by_lastmod",
    "newsvault/articles_unchanged_identical",
    "newsvault/articles_not_modified",
    "newsvault/articles_gone",
    "newsvault/fetch_failed",
    "newsvault/warc_records",
    "newsvault/warc_revisits",
    "log_count/ERROR",
    "finish_reason",
)
Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]
log = logging.getLogger(__name__)
ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class CrawlResult:
    exit_code: int
    stats: dict[str, Any]
    warc_files: list[Path]

    @property
    def finish_reason(self) -> str:
        return str(self.stats.get("finish_reason", "unknown"))


def crawl_settings(
    profile: SiteProfile, run: RunPaths, warc_max_size: int | None
) -> dict[str, str]:
    politeness = profile.politeness
    settings = {
        "NEWSVAULT_WARC_DIR": str(run.warc_dir),
        "NEWSVAULT_WARC_PREFIX": f"{profile.name}-{run.run_id}",
        "NEWSVAULT_STATS_FILE": str(run.stats),
        "NEWSVAULT_PROGRESS_FILE": str(run.dir / PROGRESS_FILE),
        "NEWSVAULT_PROGRESS_INTERVAL": str(PROGRESS_INTERVAL),
        "NEWSVAULT_ROBOTS_OBEY": str(politeness.obey_robots),
        "USER_AGENT": politeness.user_agent,
        "DOWNLOAD_DELAY": str(politeness.download_delay),
        "CONCURRENT_REQUESTS": str(max(politeness.concurrent_requests, 1)),
        "CONCURRENT_REQUESTS_PER_DOMAIN": str(max(politeness.concurrent_requests, 1)),
        "AUTOTHROTTLE_ENABLED": str(politeness.autothrottle),
        # Scrapy's disk queues: pending requests wait pickled on disk, not in memory, so the
        # crawl's memory stays flat in the site's size (a sitemap can name 100,000 URLs).
        "JOBDIR": str(run.dir / CRAWL_QUEUE_DIR),
        # [budget] wall_time_s: Scrapy's CloseSpider ends the crawl (finish reason
        # closespider_timeout); the spider enforces the other limits (spiders.budget).
        "CLOSESPIDER_TIMEOUT": str(profile.budget.wall_time_s),
    }
    if warc_max_size:
        settings["NEWSVAULT_WARC_MAX_SIZE"] = str(warc_max_size)
    if run.prior_captures.is_file():  # earlier runs' digest index: their payloads become revisits
        settings["NEWSVAULT_PRIOR_CAPTURES"] = str(run.prior_captures)
    return settings


def crawl_command(
    profile: SiteProfile,
    run: RunPaths,
    *,
    max_pages: int | None = None,
    warc_max_size: int | None = None,
    full: bool = False,
) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", f"site={profile.name}"]
    cmd += ["-a", f"base_url={profile.base_url}"]
    if full:
        cmd += ["-a", "full=1"]
    if max_pages:
        cmd += ["-a", f"max_pages={max_pages}"]
    settings = {**crawl_settings(profile, run, warc_max_size), **extra_settings()}
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def extra_settings(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Scrapy settings from ``NEWSVAULT_SCRAPY_SETTINGS`` (a JSON object, e.g.
    ``{"DOWNLOAD_TIMEOUT": 5}``): operators' and tests' overrides of timeouts and limits."""
    raw = (os.environ if env is None else env).get(EXTRA_SETTINGS_ENV, "").strip()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConfigError(f"{EXTRA_SETTINGS_ENV} is not JSON ({exc}); fix or unset it") from exc
    if not isinstance(data, dict) or not all(_SETTING_RE.match(str(k)) for k in data):
        raise ConfigError(f"{EXTRA_SETTINGS_ENV} must be a JSON object of Scrapy SETTING names")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}


def crawl_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The subprocess's environment: our settings module, and no store credentials."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _SECRET_ENV}
    env["SCRAPY_SETTINGS_MODULE"] = "spiders.settings"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def forward_line(
    line: str, logger: logging.Logger | logging.LoggerAdapter[logging.Logger], last_level: int
) -> int:
    """Log one crawl line at a sensible level; returns the level for continuation lines."""
    match = _LINE_RE.match(line)
    if match:
        level = _LEVELS[match["level"]]
        if level == logging.INFO and not match["name"].startswith(_INFO_SOURCES):
            level = logging.DEBUG
        if "Dumping Scrapy stats" in line:
            level = logging.DEBUG
    else:
        level = last_level if last_level >= logging.WARNING else logging.DEBUG
    logger.log(level, "%s", line.rstrip())
    return level


def run_crawl(
    profile: SiteProfile,
    run: RunPaths,
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger],
    *,
    max_pages: int | None = None,
    warc_max_size: int | None = None,
    full: bool = False,
    on_progress: ProgressCallback | None = None,
) -> CrawlResult:
    """Run the crawl; ``on_progress`` gets the running stats every few seconds meanwhile."""
    cmd = crawl_command(profile, run, max_pages=max_pages, warc_max_size=warc_max_size, full=full)
    run.dir.mkdir(parents=True, exist_ok=True)
    logger.info("crawl %s at %s into %s", profile.name, profile.base_url, run.dir)
    try:
        with (
            open(run.crawl_log, "ab", buffering=0) as log_file,  # unbuffered: close never fails
            subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=crawl_env(),
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            ) as proc,
        ):
            assert proc.stdout is not None
            stdout = proc.stdout

            def pump() -> None:
                level, keep = logging.INFO, True
                for line in stdout:
                    keep = keep and _append(log_file, line, logger)
                    level = forward_line(line, logger, level)

            reader = threading.Thread(target=pump, name="crawl-log", daemon=True)
            reader.start()
            try:
                code = _wait(proc, run.dir / PROGRESS_FILE, on_progress)
            except BaseException:  # the run is stopping (SIGTERM, Ctrl-C): so does its crawl
                _stop(proc)
                raise
            reader.join()
    except OSError as exc:
        raise CrawlError(f"cannot start the crawl ({exc}); is the project installed?") from exc
    stats = read_stats(run.stats)
    logger.info("crawl stats: %s", ", ".join(summary_stats(stats)) or "none written")
    result = CrawlResult(code, stats, run.warc_files())
    if code != 0:
        raise CrawlError(
            f"the crawl of {profile.name} exited with code {code}; see {run.crawl_log}; "
            f"what it fetched stays in {run.dir}"
        )
    return result


def summary_stats(stats: dict[str, Any]) -> list[str]:
    return [f"{key}={stats[key]}" for key in SUMMARY_STATS if key in stats]


def _append(log_file: BinaryIO, line: str, logger: Logger) -> bool:
    """Write one line to ``crawl.log``; False once that fails (a full disk): the lines still
    reach the run's log, and the crawl is never blocked on a pipe nobody reads."""
    try:
        log_file.write(line.encode("utf-8"))
    except OSError as exc:
        logger.warning("cannot write %s any more (%s)", log_file.name, exc.strerror or exc)
        return False
    return True


STOP_GRACE = 5.0  # seconds Scrapy gets to close its WARC file before SIGKILL


def _stop(proc: subprocess.Popen[str]) -> None:
    """End the crawl now: what it wrote stays in the spool (a torn tail is cut when the next
    run recovers it)."""
    proc.terminate()
    try:
        proc.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _wait(proc: subprocess.Popen[str], progress: Path, on_progress: ProgressCallback | None) -> int:
    """Wait for the crawl, passing its running stats to ``on_progress`` as they change. A full
    spool disk ends it: Scrapy's own disk queues can stall on one, and nothing more can be
    recorded anyway (the run then names the disk, ``flows.store.space``)."""
    seen = 0.0
    while True:
        try:
            return proc.wait(timeout=PROGRESS_INTERVAL)
        except subprocess.TimeoutExpired:
            pass
        if full_disk([progress.parent]) is not None:
            log.error("the spool's disk is full at %s: the crawl is stopped", progress.parent)
            _stop(proc)
            return proc.wait()
        if on_progress is None:
            continue
        try:
            mtime = progress.stat().st_mtime
        except OSError:
            continue
        if mtime != seen:
            seen = mtime
            stats = read_stats(progress)
            if stats:
                on_progress(stats)


def read_stats(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
