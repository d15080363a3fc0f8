"""WACZ 1.1.1 export of a verified mirror: one file that ReplayWeb.page and pywb can open.

Layout: ``archive/*.warc.gz`` (stored, not deflated, so readers can seek into them): the
recorded WARC files of the included runs byte for byte, plus ``originals.warc.gz`` (copies of
the records their revisits need from runs left out) and ``rechecks.warc.gz`` (304 re-checks
restated for ReplayWeb.page), see ``flows.replay.waczindex``; ``indexes/index.cdxj`` (sorted),
``pages/pages.jsonl``
(one entry per archived article page, titles from the runs' ``articles.jsonl.gz``),
``datapackage.json`` (SHA-256 and size of every resource) and ``datapackage-digest.json``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from flows.errors import ConfigError
from flows.evidence import WaczSigner, wacz_signed_data
from flows.replay.mirror import Mirror
from flows.replay.waczindex import ORIGINALS, Packed, pack_index

WACZ_VERSION = "1.1.1"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Exported:
    path: Path
    warcs: int
    pages: int
    bytes: int
    packed: Packed


def _hash(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, "sha256:" + digest.hexdigest()


def page_entries(articles: list[Path]) -> Iterator[dict[str, Any]]:
    """One pages.jsonl entry per article record (url, ts, title), first capture of each."""
    seen: set[tuple[str, str]] = set()
    for path in articles:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                record = json.loads(line)
                ts = str(record.get("provenance", {}).get("fetched_at") or "")
                key = (str(record["url"]), ts)
                if key in seen:
                    continue
                seen.add(key)
                yield {"url": key[0], "ts": ts, "title": record.get("title") or ""}


def _selected(mirror: Mirror, run_id: str | None) -> tuple[list[Path], list[Path]]:
    """The recorded indexes and WARC files of the runs to export."""
    recorded = mirror.recorded or dict(zip(mirror.runs, mirror.indexes, strict=False))
    if run_id is None:
        return list(recorded.values()), mirror.warcs
    if run_id not in recorded or not mirror.run_warcs.get(run_id):
        raise ConfigError(
            f"run {run_id} of {mirror.site}: no readable WARC file; nothing to export"
        )
    return [recorded[run_id]], mirror.run_warcs[run_id]


def run_page_entries(articles: list[Path], lines: list[bytes]) -> Iterator[dict[str, Any]]:
    """One pages.jsonl entry per capture of an article page among ``lines`` (a run's index):
    an unchanged article is in no run's articles but the first, yet the run captured it."""
    titles = {entry["url"]: entry["title"] for entry in page_entries(articles)}
    for line in lines:
        _key, ts, rest = line.split(b" ", 2)
        data = json.loads(rest)
        url = str(data.get("url", ""))
        own = data.get("filename") != ORIGINALS  # copied in for its revisits, not captured
        if own and url in titles and str(data.get("status")) == "200":
            when = datetime.strptime(ts.decode(), "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")
            yield {"url": url, "ts": when, "title": titles[url]}


def export_wacz(
    mirror: Mirror,
    out: Path,
    *,
    title: str,
    signer: WaczSigner | None = None,
    run_id: str | None = None,
) -> Exported:
    """Write ``out`` from the mirror's WARCs, indexes and articles (of every run, or of
    ``run_id`` with the originals its revisits need); with ``signer``, its
    ``datapackage-digest.json`` carries a signature (wacz-auth 0.1.0: anonymous with the
    archive's key, or a domain's from its signing server)."""
    indexes, warcs = _selected(mirror, run_id)
    if not warcs:
        raise ConfigError(f"nothing to export for {mirror.site}: no readable WARC file")
    resources: list[dict[str, Any]] = []
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(out.name + ".tmp")
    with tempfile.TemporaryDirectory(prefix="nv-wacz-") as tmp:
        work = Path(tmp)
        site_indexes = list(mirror.recorded.values()) or mirror.indexes
        packed = pack_index(indexes, site_indexes, mirror.archive_dir, work)
        index = work / "index.cdxj"
        index.write_bytes(b"".join(packed.lines))
        pages = work / "pages.jsonl"
        count = 0
        with open(pages, "w", encoding="utf-8") as fh:
            header = {"format": "json-pages-1.0", "id": "pages", "title": "Article pages"}
            fh.write(json.dumps(header) + "\n")
            entries = (
                page_entries(mirror.articles)
                if run_id is None
                else run_page_entries(mirror.articles, packed.lines)
            )
            for entry in entries:
                fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
                count += 1
        members = [(p, f"archive/{p.name}") for p in [*warcs, *packed.extra_warcs]]
        members += [(index, "indexes/index.cdxj"), (pages, "pages/pages.jsonl")]
        with zipfile.ZipFile(tmp_out, "w", compression=zipfile.ZIP_STORED) as zf:
            for path, name in members:
                size, digest = _hash(path)
                zf.write(path, name, compress_type=zipfile.ZIP_STORED)
                resources.append(
                    {"name": Path(name).name.lower(), "path": name, "hash": digest, "bytes": size}
                )
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            software = f"newsvault {version('newsvault')}"
            package = {
                "profile": "data-package",
                "wacz_version": WACZ_VERSION,
                "title": title,
                "created": created,
                "software": software,
                "resources": resources,
            }
            data = json.dumps(package, indent=1).encode("utf-8")
            zf.writestr("datapackage.json", data)
            digest_doc: dict[str, Any] = {
                "path": "datapackage.json",
                "hash": "sha256:" + hashlib.sha256(data).hexdigest(),
            }
            if signer is not None:
                digest_doc["signedData"] = wacz_signed_data(
                    signer, digest_doc["hash"], created, software
                )
            zf.writestr("datapackage-digest.json", json.dumps(digest_doc, indent=1))
    tmp_out.replace(out)
    return Exported(out, len(warcs), count, out.stat().st_size, packed)
