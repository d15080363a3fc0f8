"""Article records: the contract of ``articles.jsonl.gz`` (``ArticleRecord``, published as
flows/derive/schema/article.schema.json; tests/test_contracts.py checks that the two agree).

Records are built from a cleaned page plus its WARC provenance and serialised deterministically
(sorted keys, gzip with a fixed mtime), so reprocessing the same WARCs with the same cleaner
reproduces the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import struct
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, TypedDict, TypeVar, final

from simhash import Simhash

from flows.clean import CleanedArticle

SCHEMA_VERSION: Final = "1.0"
SCHEMA_DIR = Path(__file__).with_name("schema")  # article, events and manifest .schema.json
SCHEMA_PATH = SCHEMA_DIR / "article.schema.json"
_WORD_RE = re.compile(r"\w+", re.UNICODE)

ChangedField = Literal["title", "text"]


class DiffOp(TypedDict):
    """One changed run of paragraphs (``difflib`` opcodes other than ``equal``)."""

    op: Literal["replace", "delete", "insert"]
    old_index: int
    new_index: int
    old: list[str]
    new: list[str]


class RecordProvenance(TypedDict):
    """Where a record came from: its WARC response record, and the extractor that cleaned it."""

    warc_key: str
    warc_offset: int
    warc_length: int
    warc_record_id: str
    payload_digest: str
    fetched_at: str
    http_status: int
    run_id: str
    extractor: str
    extractor_version: str


class CoreRecord(TypedDict):
    """The fields of a record that merge, reconcile, derive, the state fold and the run report
    read or set: all a record keeps in memory while spilled (``flows.derive.spill``)."""

    id: str
    url: str
    canonical_url: str
    content_hash: str
    title: str | None
    simhash: str
    aliases: list[str]
    provenance: RecordProvenance
    version: int
    previous_version: str | None
    changed_fields: list[ChangedField]
    diff: list[DiffOp] | None
    near_duplicate_of: str | None
    published: str | None
    word_count: int


class ArticleQuality(TypedDict):
    """How far the extraction can be trusted (``flows.clean.quality``): 0..1, and the reasons
    that lowered the score (none when it is 1)."""

    score: float
    reasons: list[str]


class _Since030(TypedDict, total=False):
    """Fields written since cleaner 0.3.0: optional, so records archived before stay valid (a
    ``total=False`` base rather than ``NotRequired``, which postponed annotations hide from
    ``__required_keys__`` on Python 3.11)."""

    quality: ArticleQuality


@final  # lets ``"_spill_ref" in record`` tell it from a spilled record
class ArticleRecord(CoreRecord, _Since030):
    """One version of one article: a line of ``articles.jsonl.gz``."""

    schema_version: Literal["1.0"]
    site: str
    post_id: int | None
    authors: list[str]
    translator: str | None
    original_source: str | None
    modified: str | None
    categories: list[str]
    tags: list[str]
    language: str | None
    featured_image: str | None
    text: str
    duplicate_of: str | None


R = TypeVar("R", bound=CoreRecord)


@dataclass(frozen=True)
class Provenance:
    warc_key: str
    warc_offset: int
    warc_length: int
    warc_record_id: str
    payload_digest: str
    fetched_at: str
    http_status: int
    run_id: str


def article_id(site: str, post_id: int | None, canonical_url: str) -> str:
    """Stable id: the WordPress post id where the page reveals it, else the canonical URL."""
    if post_id is not None:
        return f"{site}:wp:{post_id}"
    digest = hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:24]
    return f"{site}:url:{digest}"


def content_hash(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint(text: str) -> str:
    """64-bit SimHash of word 3-shingles, as 16 hex digits (near-duplicate detection)."""
    words = [w.lower() for w in _WORD_RE.findall(text)]
    shingles = [" ".join(words[i : i + 3]) for i in range(max(len(words) - 2, 1))] or [""]
    return f"{Simhash(shingles, f=64).value:016x}"


def build_record(
    site: str,
    url: str,
    article: CleanedArticle,
    provenance: Provenance,
    canonical: str | None = None,
) -> ArticleRecord:
    canonical = canonical or article.canonical_url or url
    return {
        "schema_version": SCHEMA_VERSION,
        "id": article_id(site, article.post_id, canonical),
        "site": site,
        "url": url,
        "canonical_url": canonical,
        "post_id": article.post_id,
        "title": article.title,
        "authors": list(article.authors),
        "translator": article.translator,
        "original_source": article.original_source,
        "published": article.published,
        "modified": article.modified,
        "categories": list(article.categories),
        "tags": list(article.tags),
        "language": article.language,
        "featured_image": article.featured_image,
        "text": article.text,
        "word_count": len(_WORD_RE.findall(article.text)),
        "content_hash": content_hash(article.text),
        "simhash": fingerprint(article.text),
        "version": 1,
        "previous_version": None,
        "changed_fields": [],
        "diff": None,
        "duplicate_of": None,
        "near_duplicate_of": None,
        "aliases": [],
        "quality": {"score": article.quality, "reasons": list(article.quality_reasons)},
        "provenance": {
            "warc_key": provenance.warc_key,
            "warc_offset": provenance.warc_offset,
            "warc_length": provenance.warc_length,
            "warc_record_id": provenance.warc_record_id,
            "payload_digest": provenance.payload_digest,
            "fetched_at": provenance.fetched_at,
            "http_status": provenance.http_status,
            "run_id": provenance.run_id,
            "extractor": article.extractor,
            "extractor_version": article.extractor_version,
        },
    }


def merge_duplicates(records: Iterable[R]) -> list[R]:
    """One record per (id, content): a second URL with the same text becomes an alias."""
    merged: dict[tuple[str, str], R] = {}
    for record in records:
        key = (record["id"], record["content_hash"])
        first = merged.get(key)
        if first is None:
            merged[key] = record
        elif record["url"] != first["url"] and record["url"] not in first["aliases"]:
            first["aliases"] = sorted([*first["aliases"], record["url"]])
    return sorted(merged.values(), key=lambda r: (r["id"], r["provenance"]["fetched_at"]))


def dumps(record: Mapping[str, object]) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_GZIP_HEADER = gzip.compress(b"", compresslevel=6, mtime=0)[:10]  # no name, no time: reproducible


def write_jsonl_gz(path: Path, records: Iterable[Mapping[str, object]]) -> int:
    """Stream records to a gzip file, one line each, without holding the whole text: the bytes
    are those of ``gzip.compress(text, 6, mtime=0)`` (reprocessing compares them)."""
    tmp = path.with_name(path.name + ".tmp")
    deflate = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc = size = count = 0
    with open(tmp, "wb") as fh:
        fh.write(_GZIP_HEADER)
        for record in records:
            line = (dumps(record) + "\n").encode("utf-8")
            crc = zlib.crc32(line, crc)
            size += len(line)
            count += 1
            fh.write(deflate.compress(line))
        fh.write(deflate.flush())
        fh.write(struct.pack("<II", crc, size & 0xFFFFFFFF))
    tmp.replace(path)
    return count


def read_jsonl_gz(path: Path) -> list[Any]:
    """The parsed lines, as archived: ``ArticleRecord``s or ``Event``s (the caller says which)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@cache
def schema(name: str = "article") -> dict[str, Any]:
    """A published JSON Schema (``article``, ``events`` or ``manifest``): free-form JSON."""
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text("utf-8"))
    return loaded
