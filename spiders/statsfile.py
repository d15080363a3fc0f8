"""Extension that writes the crawl's stats as JSON, for the flow that ran the subprocess.

The final stats go to ``NEWSVAULT_STATS_FILE`` when the spider closes. With
``NEWSVAULT_PROGRESS_FILE`` set, the running stats are also written there every
``NEWSVAULT_PROGRESS_INTERVAL`` seconds (the flow turns them into a progress artifact).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet import task


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, default=str, sort_keys=True, indent=1), encoding="utf-8")
    os.replace(tmp, path)


class StatsFile:
    def __init__(
        self,
        path: Path,
        stats: Any,
        progress: Path | None = None,
        interval: float = 5.0,
    ) -> None:
        self.path = path
        self.stats = stats
        self.progress = progress
        self.interval = interval
        self._loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFile:
        path = crawler.settings.get("NEWSVAULT_STATS_FILE")
        if not path:
            raise NotConfigured("NEWSVAULT_STATS_FILE is not set")
        progress = crawler.settings.get("NEWSVAULT_PROGRESS_FILE")
        ext = cls(
            Path(path),
            crawler.stats,
            Path(progress) if progress else None,
            crawler.settings.getfloat("NEWSVAULT_PROGRESS_INTERVAL", 5.0),
        )
        crawler.signals.connect(ext.opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.write, signal=signals.spider_closed)
        return ext

    def opened(self, spider: Spider) -> None:
        if self.progress is not None and self.interval > 0:
            self._loop = task.LoopingCall(self.write_progress)
            self._loop.start(self.interval, now=True)

    def write_progress(self) -> None:
        if self.progress is not None:
            _write_json(self.progress, dict(self.stats.get_stats()))

    def write(self, spider: Spider, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        stats = dict(self.stats.get_stats())
        stats["finish_reason"] = reason
        _write_json(self.path, stats)
