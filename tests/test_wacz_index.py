"""The WACZ index (flows.replay.waczindex): 304 re-checks restated for ReplayWeb.page, and a
one-run package carrying the records its revisits and its pages' requisites need, copied byte for
byte. WARCs written with warcio as the spider writes them, indexed by cdxj-indexer."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from flows.replay import Mirror, export_wacz
from flows.warc import index_warcs

SITE = "http://127.0.0.1:9"
PAGE, STYLE, FONT, GONE = (f"{SITE}/a/", f"{SITE}/s.css", f"{SITE}/f.woff", f"{SITE}/gone/")
BODIES = {
    PAGE: (b'<html><link rel="stylesheet" href="/s.css"><title>A</title></html>', "text/html"),
    STYLE: (b"@font-face { src: url(f.woff) }", "text/css"),
    FONT: (b"wOFF", "font/woff"),
}
T0, T1 = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"
NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


def write_runs(archive: Path) -> dict[str, str]:
    """run1: the page, its stylesheet and font; run2: a 304 re-check of the page and one of a
    page whose original is nowhere. Returns the record ids of run1's responses by URL."""
    ids: dict[str, str] = {}
    with open(archive / "run1-0.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, (body, mime) in BODIES.items():
            http = StatusAndHeaders("200 OK", [("Content-Type", mime)], "HTTP/1.1")
            rec = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": T0},
            )  # fmt: skip
            writer.write_record(rec)
            ids[url] = rec.rec_headers["WARC-Record-ID"]
            ids[url + "#digest"] = rec.rec_headers["WARC-Payload-Digest"]
    with open(archive / "run2-0.warc.gz", "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, digest in ((PAGE, ids[PAGE + "#digest"]), (GONE, "sha1:" + "A" * 32)):
            http = StatusAndHeaders("304 Not Modified", [("ETag", '"x"')], "HTTP/1.1")
            headers = {
                "WARC-Date": T1, "WARC-Profile": NOT_MODIFIED, "WARC-Payload-Digest": digest,
                "WARC-Refers-To-Target-URI": url, "WARC-Refers-To-Date": T0,
                "WARC-Refers-To": ids.get(url, "<urn:uuid:00000000-0000-4000-8000-000000000000>"),
            }  # fmt: skip
            writer.write_record(
                writer.create_warc_record(
                    url, "revisit", http_headers=http, warc_headers_dict=headers
                )
            )
    return ids


def mirror(tmp_path: Path) -> tuple[Mirror, dict[str, str]]:
    root = tmp_path / "mirror"
    (root / "archive").mkdir(parents=True)
    (root / "recorded").mkdir()
    ids = write_runs(root / "archive")
    m = Mirror("replica", root)
    for run in ("run1", "run2"):
        warc = root / "archive" / f"{run}-0.warc.gz"
        index_warcs([warc], root / "recorded" / f"{run}.cdxj")
        m.runs.append(run)
        m.warcs.append(warc)
        m.indexes.append(root / "recorded" / f"{run}.cdxj")
        m.recorded[run] = root / "recorded" / f"{run}.cdxj"
        m.run_warcs[run] = [warc]
    return m, ids


def lines(text: str) -> list[dict[str, str]]:
    out = []
    for line in text.splitlines():
        _key, ts, rest = line.split(" ", 2)
        out.append({"ts": ts, **json.loads(rest)})
    return out


def records(data: bytes) -> list[tuple[int, object]]:
    it = ArchiveIterator(io.BytesIO(data))
    return [(it.get_record_offset(), rec) for rec in it]


def test_a_304_recheck_is_restated_and_one_without_its_original_left_out(tmp_path: Path) -> None:
    m, ids = mirror(tmp_path)
    exported = export_wacz(m, tmp_path / "site.wacz", title="t")
    assert exported.packed.rechecks == 1 and exported.packed.copied == 0
    assert exported.packed.dropped == [f"{GONE} at 20260102000000"]
    with zipfile.ZipFile(exported.path) as zf:
        for run in ("run1", "run2"):  # the recorded files, byte for byte
            warc = m.archive_dir / f"{run}-0.warc.gz"
            assert zf.read(f"archive/{warc.name}") == warc.read_bytes()
        assert "archive/originals.warc.gz" not in zf.namelist()
        found = lines(zf.read("indexes/index.cdxj").decode())
        restated = zf.read("archive/rechecks.warc.gz")
    assert not any(line["url"] == GONE for line in found)
    recheck = next(line for line in found if line["url"] == PAGE and line["ts"] == "20260102000000")
    assert (recheck["filename"], recheck["status"]) == ("rechecks.warc.gz", "200")
    [(offset, record)] = records(restated)
    assert offset == int(recheck["offset"])
    headers = record.rec_headers  # type: ignore[attr-defined]
    assert record.rec_type == "revisit" and headers["Content-Length"] == "0"  # type: ignore[attr-defined]
    assert headers["WARC-Date"] == T1 and headers["WARC-Profile"] == NOT_MODIFIED
    assert (headers["WARC-Refers-To-Target-URI"], headers["WARC-Refers-To-Date"]) == (PAGE, T0)
    assert headers["WARC-Refers-To"] == ids[PAGE]
    recorded = next(r for _o, r in records((m.archive_dir / "run2-0.warc.gz").read_bytes()))
    assert headers["WARC-Concurrent-To"] == recorded.rec_headers["WARC-Record-ID"]  # type: ignore[attr-defined]


def test_one_run_carries_the_originals_and_requisites_it_needs(tmp_path: Path) -> None:
    m, _ids = mirror(tmp_path)
    exported = export_wacz(m, tmp_path / "run2.wacz", title="t", run_id="run2")
    assert exported.packed.copied == 3  # the page its 304 confirmed, the stylesheet, the font
    with zipfile.ZipFile(exported.path) as zf:
        assert sorted(n for n in zf.namelist() if n.startswith("archive/")) == [
            "archive/originals.warc.gz",
            "archive/rechecks.warc.gz",
            "archive/run2-0.warc.gz",
        ]
        copies = zf.read("archive/originals.warc.gz")
        found = lines(zf.read("indexes/index.cdxj").decode())
    source = (m.archive_dir / "run1-0.warc.gz").read_bytes()
    by_url = {line["url"]: line for line in lines(m.recorded["run1"].read_text())}
    for url in (PAGE, STYLE, FONT):
        line = next(
            ln for ln in found if ln["url"] == url and ln["filename"] == "originals.warc.gz"
        )
        start, size = int(line["offset"]), int(line["length"])
        at, length = int(by_url[url]["offset"]), int(by_url[url]["length"])
        assert copies[start : start + size] == source[at : at + length]  # byte for byte
    assert not any(line["filename"] == "run1-0.warc.gz" for line in found)
