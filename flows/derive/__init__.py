"""Derive: from a run's WARC files to what the run archives. ``process`` cleans the article
responses and reads the listing; ``derive`` reconciles them with the site state into versions,
aliases and deletions; ``articles`` is the contract of ``articles.jsonl.gz``."""

from flows.derive.articles import read_jsonl_gz, write_jsonl_gz
from flows.derive.process import FileResult, clean_warc, merge_results, process_warcs
from flows.derive.run import Derived, derive

__all__ = [
    "Derived",
    "FileResult",
    "clean_warc",
    "derive",
    "merge_results",
    "process_warcs",
    "read_jsonl_gz",
    "write_jsonl_gz",
]
