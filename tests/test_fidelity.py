"""Golden tests for each WARC fidelity point and the revisit rules (pinned clock and ids)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings
from warcio.archiveiterator import ArchiveIterator

from flows.warc.captures import (
    EMPTY_DIGEST,
    CaptureEntry,
    CaptureIndex,
    Ref,
    entries_from_warc,
    read_entries,
    write_compacted,
    write_entries,
)
from spiders.recorder import host_and_target, revisit_for, warcinfo_fields
from spiders.warcspool import (
    IDENTICAL_PAYLOAD,
    SERVER_NOT_MODIFIED,
    RevisitOf,
    payload_digest,
)
from tests.helpers import BODY, exchange, pinned_spool

GOLDEN_REVISITS = Path(__file__).with_name("golden") / "revisits.warc"
URL = "http://127.0.0.1:8765/page/2/?utm_source=x&b=1"
SHA1_B32 = re.compile(r"^sha1:[A-Z2-7]{32}$")


def all_values(rec: object, name: str) -> list[str]:
    headers = rec.http_headers.headers  # type: ignore[attr-defined]
    return [v for k, v in headers if k.lower() == name.lower()]


def records(path: Path) -> list[object]:
    with open(path, "rb") as fh:
        out = []
        for rec in ArchiveIterator(fh):
            rec.payload = rec.content_stream().read()
            out.append(rec)
        return out


def write_revisits(directory: Path) -> Path:
    """A response, an identical payload at another URL, a 304 with and without a history."""
    spool = pinned_spool(directory)
    first, _ = spool.write_exchange(exchange())
    date = "2017-07-23T14:32:05.123456Z"
    same = RevisitOf(IDENTICAL_PAYLOAD, first.record_id, URL, date, payload_digest(BODY))
    spool.write_exchange(exchange("http://127.0.0.1:8765/copy/"), same)
    not_modified = replace(
        exchange(),
        status=304,
        response_headers=((b"ETag", b'"abc-gzip"'), (b"Vary", b"Accept-Encoding")),
        response_body=b"",
    )
    spool.write_exchange(
        not_modified, RevisitOf(SERVER_NOT_MODIFIED, first.record_id, URL, date, same.digest)
    )
    spool.write_exchange(
        replace(not_modified, url="http://127.0.0.1:8765/new/"), RevisitOf(SERVER_NOT_MODIFIED)
    )
    [path] = spool.close()
    return path


def test_revisits_match_golden_bytes(tmp_path: Path) -> None:
    data = gzip.decompress(write_revisits(tmp_path).read_bytes())
    if not GOLDEN_REVISITS.exists():
        GOLDEN_REVISITS.write_bytes(data)
        pytest.fail(f"wrote {GOLDEN_REVISITS}; review it and rerun")
    assert data == GOLDEN_REVISITS.read_bytes()


def test_revisit_fields(tmp_path: Path) -> None:
    recs = records(write_revisits(tmp_path))
    kinds = [r.rec_type for r in recs]  # type: ignore[attr-defined]
    assert kinds == ["warcinfo"] + ["response", "request"] + ["revisit", "request"] * 3
    response, same, not_mod, unknown = (recs[1], recs[3], recs[5], recs[7])
    r_id = response.rec_headers["WARC-Record-ID"]  # type: ignore[attr-defined]
    h = same.rec_headers  # type: ignore[attr-defined]
    assert h["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    assert h["WARC-Refers-To"] == r_id and h["WARC-Refers-To-Target-URI"] == URL
    assert h["WARC-Refers-To-Date"] == response.rec_headers["WARC-Date"]  # type: ignore[attr-defined]
    assert h["WARC-Payload-Digest"] == response.rec_headers["WARC-Payload-Digest"]  # type: ignore[attr-defined]
    # the response headers are kept (multi-valued ones too), the body is not
    assert all_values(same, "Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert same.payload == b""  # type: ignore[attr-defined]
    h = not_mod.rec_headers  # type: ignore[attr-defined]
    assert h["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    assert h["WARC-Refers-To"] == r_id
    assert not_mod.http_headers.statusline == "304 Not Modified"  # type: ignore[attr-defined]
    h = unknown.rec_headers  # type: ignore[attr-defined]
    assert h["WARC-Profile"].endswith("/server-not-modified") and not h["WARC-Refers-To"]


def test_one_digest_algorithm_and_encoding(tmp_path: Path) -> None:
    recs = records(write_revisits(tmp_path))
    for rec in recs:
        headers = rec.rec_headers  # type: ignore[attr-defined]
        for name in ("WARC-Block-Digest", "WARC-Payload-Digest"):
            value = headers[name]
            assert value is None or SHA1_B32.match(value), (name, value)
    response = recs[1]
    assert response.rec_headers["WARC-Payload-Digest"] == payload_digest(BODY)  # type: ignore[attr-defined]
    assert payload_digest(b"") == EMPTY_DIGEST
    raw = base64.b32encode(hashlib.sha1(BODY).digest()).decode()
    assert payload_digest(BODY) == "sha1:" + raw


def test_multi_valued_vary_and_link_in_order(tmp_path: Path) -> None:
    spool = pinned_spool(tmp_path)
    headers = (
        (b"Vary", b"Accept-Encoding"),
        (b"Link", b"<a>; rel=one"),
        (b"Vary", b"Cookie"),
        (b"Link", b"<b>; rel=two"),
    )
    spool.write_exchange(replace(exchange(), response_headers=headers))
    [path] = spool.close()
    [_, resp, _] = records(path)
    assert all_values(resp, "Vary") == ["Accept-Encoding", "Cookie"]
    assert all_values(resp, "Link") == ["<a>; rel=one", "<b>; rel=two"]
    data = gzip.decompress(path.read_bytes())
    assert b"Vary: Accept-Encoding\r\nLink: <a>; rel=one\r\nVary: Cookie\r\n" in data


@pytest.mark.parametrize("status", [200, 301, 404, 503])
def test_status_line_has_reason(tmp_path: Path, status: int) -> None:
    spool = pinned_spool(tmp_path)
    spool.write_exchange(replace(exchange(), status=status))
    [path] = spool.close()
    reason = {200: "OK", 301: "Moved Permanently", 404: "Not Found", 503: "Service Unavailable"}
    assert f"\r\nHTTP/1.1 {status} {reason[status]}\r\n".encode() in gzip.decompress(
        path.read_bytes()
    )


def test_warcinfo_names_software_robots_and_user_agent(tmp_path: Path) -> None:
    settings = Settings(
        {"USER_AGENT": "nv-test/1.0", "NEWSVAULT_ROBOTS_OBEY": True, "NEWSVAULT_WARC_PREFIX": "x"}
    )
    fields = warcinfo_fields(settings)
    assert re.match(
        r"^newsvault/\S+ \(scrapy \S+, warcio \S+; Python 3\.\d+\.\d+\)$", fields["software"]
    )
    assert fields["robots"] == "obey" and fields["http-header-user-agent"] == "nv-test/1.0"
    spool = pinned_spool(tmp_path)
    spool.warcinfo = fields
    spool.write_exchange(exchange())
    [path] = spool.close()
    info = records(path)[0]
    text = info.payload.decode()  # type: ignore[attr-defined]
    assert "software: newsvault/" in text and "robots: obey" in text
    assert "http-header-user-agent: nv-test/1.0" in text


# ---- revisit decisions and the digest index ----------------------------------------------------


def entry(uri: str, date: str, rid: str, digest: str, **kw: Any) -> CaptureEntry:
    return CaptureEntry(
        uri=uri, date=date, id=rid, type="response", status=200, digest=digest, **kw
    )


@pytest.mark.parametrize(
    ("url", "host", "target"),
    [
        ("http://127.0.0.1:8765/a/?b=1", b"127.0.0.1:8765", b"/a/?b=1"),
        ("https://Example.org:443", b"example.org", b"/"),
        ("http://[::1]:8080/x", b"[::1]:8080", b"/x"),
        ("http://[2001:db8::1]/", b"[2001:db8::1]", b"/"),
        ("http://b\u00fccher.de/\u00e4", b"xn--bcher-kva.de", b"/\\xe4"),
    ],
)
def test_request_records_host_and_target_as_sent(url: str, host: bytes, target: bytes) -> None:
    assert host_and_target(url) == (host, target)


def test_revisit_decisions() -> None:
    index = CaptureIndex()
    index.add(entry("http://a/", "2020-01-01T00:00:00Z", "<1>", "sha1:AAA", etag='"e1"'))
    index.add(entry("http://empty/", "2020-01-01T00:00:00Z", "<2>", EMPTY_DIGEST))
    # identical payload elsewhere -> revisit of the earliest response
    rv = revisit_for(index, "http://b/", 200, "sha1:AAA")
    assert rv == RevisitOf(
        IDENTICAL_PAYLOAD, "<1>", "http://a/", "2020-01-01T00:00:00Z", "sha1:AAA"
    )
    # a new payload, or the empty payload: a full response
    assert revisit_for(index, "http://b/", 200, "sha1:BBB") is None
    assert revisit_for(index, "http://c/", 301, EMPTY_DIGEST) is None
    # 304: refers to the URL's latest capture's payload; unknown URL: profile only
    index.add(
        CaptureEntry(
            "http://a/",
            "2020-02-01T00:00:00Z",
            "<3>",
            "revisit",
            200,
            "sha1:AAA",
            refers_to=Ref("<1>", "http://a/", "2020-01-01T00:00:00Z"),
        )
    )
    rv = revisit_for(index, "http://a/", 304, EMPTY_DIGEST)
    assert rv is not None and rv.profile == SERVER_NOT_MODIFIED and rv.record_id == "<1>"
    assert revisit_for(index, "http://z/", 304, EMPTY_DIGEST) == RevisitOf(SERVER_NOT_MODIFIED)
    assert index.latest("http://a/") is not None and index.latest("http://a/").id == "<3>"  # type: ignore[union-attr]


def test_captures_index_from_warc_roundtrips_and_compacts(tmp_path: Path) -> None:
    warc = write_revisits(tmp_path / "w")
    entries = list(entries_from_warc(warc))
    assert [e.type for e in entries] == ["response", "revisit", "revisit", "revisit"]
    assert entries[0].file == warc.name and entries[1].refers_to == Ref(
        entries[0].id, entries[0].uri, entries[0].date
    )
    assert entries[2].etag == '"abc-gzip"' and entries[2].status == 304
    one, two = tmp_path / "one.jsonl.gz", tmp_path / "two.jsonl.gz"
    write_entries(one, entries)
    assert list(read_entries(one)) == entries
    later = [replace(e, date="2018" + e.date[4:], id=e.id + "x") for e in entries]
    write_entries(two, later)
    out = tmp_path / "prior.jsonl.gz"
    write_compacted([one, two], out)
    index = CaptureIndex().load(read_entries(out))
    assert index.original(payload_digest(BODY)) == entries[0]  # earliest response wins
    assert index.latest(URL) == later[2]  # latest capture per URL
    assert len(list(read_entries(out))) < len(entries) * 2
