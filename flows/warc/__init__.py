"""WARC as the source of truth: the digest index of what the archive holds, torn-tail repair,
and CDXJ indexes. Read by the spider (revisits, conditional requests) and by every later stage."""

from flows.warc.captures import (
    WARC_READ_ERRORS,
    CaptureEntry,
    CaptureIndex,
    RecordCounts,
    RecordType,
    Ref,
    read_entries,
    write_compacted,
    write_entries,
    write_run_index,
)
from flows.warc.cdxj import index_warcs, merge_indexes
from flows.warc.gzjson import dump_gzjson, load_gzjson
from flows.warc.links import css_urls, html_urls, srcset_urls
from flows.warc.repair import OPEN_SUFFIX, repair_dir

__all__ = [
    "OPEN_SUFFIX",
    "WARC_READ_ERRORS",
    "CaptureEntry",
    "CaptureIndex",
    "RecordCounts",
    "RecordType",
    "Ref",
    "css_urls",
    "dump_gzjson",
    "html_urls",
    "index_warcs",
    "load_gzjson",
    "merge_indexes",
    "read_entries",
    "repair_dir",
    "srcset_urls",
    "write_compacted",
    "write_entries",
    "write_run_index",
]
