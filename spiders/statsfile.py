"""Extension that writes the crawl's final stats as JSON, for the flow that ran the subprocess."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured


class StatsFile:
    def __init__(self, path: Path, stats: Any) -> None:
        self.path = path
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsFile:
        path = crawler.settings.get("NEWSVAULT_STATS_FILE")
        if not path:
            raise NotConfigured("NEWSVAULT_STATS_FILE is not set")
        ext = cls(Path(path), crawler.stats)
        crawler.signals.connect(ext.write, signal=signals.spider_closed)
        return ext

    def write(self, spider: Spider, reason: str) -> None:
        stats = dict(self.stats.get_stats())
        stats["finish_reason"] = reason
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats, default=str, sort_keys=True, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
