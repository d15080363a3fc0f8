"""304 re-checks in replay indexes: each points at the capture it confirmed (flows.replay.revisits).

WARCs are written with warcio as the spider writes them (a response, then server-not-modified
revisits carrying its payload digest), indexed by cdxj-indexer, then resolved.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from flows.replay.revisits import Resolved, resolve_not_modified
from flows.warc import index_warcs

NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
URL = "http://127.0.0.1:9/2020/01/a/"


def _warc(path: Path, records: list[tuple[str, str, bytes | None, str]]) -> str:
    """(date, kind, body, digest) per record; returns the payload digest of the last response."""
    digest = ""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for date, kind, body, ref_digest in records:
            if kind == "response":
                assert body is not None
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], "HTTP/1.1")
                rec = writer.create_warc_record(
                    URL,
                    "response",
                    payload=io.BytesIO(body),
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": date},
                )
                digest = rec.rec_headers["WARC-Payload-Digest"]
            else:
                http = StatusAndHeaders("304 Not Modified", [("ETag", '"x"')], "HTTP/1.1")
                headers = {"WARC-Date": date, "WARC-Profile": NOT_MODIFIED}
                if ref_digest:
                    headers["WARC-Payload-Digest"] = ref_digest
                    headers["WARC-Refers-To-Target-URI"] = URL
                rec = writer.create_warc_record(
                    URL, "revisit", http_headers=http, warc_headers_dict=headers
                )
            writer.write_record(rec)
    return digest


def _lines(path: Path) -> list[dict[str, object]]:
    out = []
    for line in path.read_bytes().splitlines():
        _key, ts, rest = line.split(b" ", 2)
        out.append({"ts": ts.decode(), **json.loads(rest)})
    return out


def test_304_lines_point_at_the_capture_they_confirmed(tmp_path: Path) -> None:
    first = tmp_path / "run1.warc.gz"
    digest = _warc(first, [("2026-01-01T00:00:00Z", "response", b"<title>A</title>", "")])
    second = tmp_path / "run2.warc.gz"
    _warc(
        second,
        [
            ("2026-01-01T01:00:00Z", "revisit", None, digest),
            ("2026-01-01T02:00:00Z", "revisit", None, "sha1:UNKNOWNUNKNOWNUNKNOWNUNKNOWN2345"),
        ],
    )
    idx = tmp_path / "idx"
    idx.mkdir()
    index_warcs([first], idx / "run1.cdxj")
    index_warcs([second], idx / "run2.cdxj")
    before = (idx / "run1.cdxj").read_bytes()
    assert [d["status"] for d in _lines(idx / "run2.cdxj")] == ["304", "304"]

    result = resolve_not_modified(idx.glob("*.cdxj"))

    assert (result.resolved, result.dropped) == (1, 1)
    assert (idx / "run1.cdxj").read_bytes() == before
    [original] = _lines(idx / "run1.cdxj")
    [confirmed] = _lines(idx / "run2.cdxj")
    assert confirmed["ts"] == "20260101010000"  # the re-check keeps its own time in the TimeMap
    for field in ("filename", "offset", "length", "status", "mime", "digest"):
        assert confirmed[field] == original[field]
    assert confirmed["status"] == "200" and confirmed["filename"] == "run1.warc.gz"
    # idempotent: nothing left to resolve
    assert resolve_not_modified(idx.glob("*.cdxj")) == Resolved(0, 0)


def test_a_304_of_a_304_and_one_in_the_same_run_resolve(tmp_path: Path) -> None:
    warc = tmp_path / "run.warc.gz"
    digest = _warc(warc, [("2026-01-01T00:00:00Z", "response", b"<p>x</p>", "")])
    later = tmp_path / "later.warc.gz"
    _warc(
        later,
        [
            ("2026-01-02T00:00:00Z", "revisit", None, digest),
            ("2026-01-03T00:00:00Z", "revisit", None, digest),
        ],
    )
    index_warcs([warc, later], tmp_path / "all.cdxj")
    assert resolve_not_modified([tmp_path / "all.cdxj"]).resolved == 2
    lines = _lines(tmp_path / "all.cdxj")
    assert [str(d["ts"])[:8] for d in lines] == ["20260101", "20260102", "20260103"]
    assert {(str(d["filename"]), str(d["status"])) for d in lines} == {("run.warc.gz", "200")}


def test_a_304_without_digest_is_left_out(tmp_path: Path) -> None:
    warc = tmp_path / "run.warc.gz"
    _warc(warc, [("2026-01-01T00:00:00Z", "revisit", None, "")])
    index_warcs([warc], tmp_path / "one.cdxj")
    assert resolve_not_modified([tmp_path / "one.cdxj"]).dropped == 1
    assert (tmp_path / "one.cdxj").read_bytes() == b""


def test_indexes_without_304s_are_untouched(tmp_path: Path) -> None:
    warc = tmp_path / "run.warc.gz"
    _warc(warc, [("2026-01-01T00:00:00Z", "response", b"x", "")])
    index_warcs([warc], tmp_path / "i.cdxj")
    stat = (tmp_path / "i.cdxj").stat()
    assert resolve_not_modified([tmp_path / "i.cdxj"]).resolved == 0
    assert (tmp_path / "i.cdxj").stat().st_mtime_ns == stat.st_mtime_ns
