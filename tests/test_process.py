"""WARC -> article records: provenance, schema, determinism, failures reported not fatal."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any, cast

import jsonschema
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.derive.articles import (
    ArticleRecord,
    article_id,
    fingerprint,
    merge_duplicates,
    read_jsonl_gz,
    schema,
    write_jsonl_gz,
)
from flows.derive.process import iter_captures, process_warcs
from flows.errors import ExtractionError
from flows.store.runs import Keys
from tests.helpers import Crawled


def keys(crawled: Crawled) -> Keys:
    return Keys("", "replica", crawled.run.run_id)


@pytest.mark.e2e
def test_records_valid_and_point_at_their_warc_record(crawled: Crawled) -> None:
    result = process_warcs(
        crawled.result.warc_files, crawled.profile, crawled.run.run_id, keys(crawled).warc
    )
    assert result.article_pages == 40 and len(result.records) == 40 and not result.failures
    by_name = {p.name: p for p in crawled.result.warc_files}
    for record in result.records:
        jsonschema.validate(record, schema())
        prov = record["provenance"]
        data = by_name[Path(prov["warc_key"]).name].read_bytes()
        member = data[prov["warc_offset"] : prov["warc_offset"] + prov["warc_length"]]
        rec = next(iter(ArchiveIterator(io.BytesIO(member))))
        assert rec.rec_headers["WARC-Record-ID"] == prov["warc_record_id"]
        assert rec.rec_headers["WARC-Target-URI"] == record["url"]


@pytest.mark.e2e
def test_reprocessing_is_byte_identical(crawled: Crawled, tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        result = process_warcs(
            crawled.result.warc_files, crawled.profile, crawled.run.run_id, keys(crawled).warc
        )
        write_jsonl_gz(tmp_path / f"{name}.jsonl.gz", result.records)
        outputs.append((tmp_path / f"{name}.jsonl.gz").read_bytes())
    assert outputs[0] == outputs[1]
    assert len(read_jsonl_gz(tmp_path / "a.jsonl.gz")) == 40


@pytest.mark.e2e
def test_unclean_page_is_reported_not_fatal(crawled: Crawled, tmp_path: Path) -> None:
    from dataclasses import replace

    from flows.sites import Extract

    broken = replace(
        crawled.profile, extract=Extract(theme=None, content_selector="div.nothing-here")
    )
    # a profile whose selector no longer matches falls back to generic extraction, still works
    result = process_warcs(crawled.result.warc_files, broken, "r", keys(crawled).warc)
    assert result.records and not result.failures
    # a page that is no article at all is listed with its reason
    loose = replace(
        crawled.profile, discovery=replace(crawled.profile.discovery, article_pattern=r"^/$")
    )
    result = process_warcs(crawled.result.warc_files, loose, "r", keys(crawled).warc)
    assert result.article_pages == 1 and not result.records
    assert result.failures[0][0].endswith("/") and "no article text" in result.failures[0][1]


def test_truncated_warc_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.warc.gz"
    bad.write_bytes(b"this is not a warc file at all")
    with pytest.raises(ExtractionError, match=r"bad\.warc\.gz is not a valid WARC"):
        list(iter_captures(bad))


def test_ids_fingerprints_and_aliases() -> None:
    assert article_id("replica", 9131, "http://x/") == "replica:wp:9131"
    assert article_id("replica", None, "http://x/a/").startswith("replica:url:")
    text = "The Iranian minister signed a bilateral agreement with his Iraqi counterpart today."
    assert fingerprint(text) == fingerprint(text) and len(fingerprint(text)) == 16
    near = text.replace("today", "on Sunday")
    far = "Completely different words about football results and the weather in Moscow this week."

    def distance(a: str, b: str) -> int:
        return bin(int(fingerprint(a), 16) ^ int(fingerprint(b), 16)).count("1")

    assert distance(text, near) < distance(text, far)
    base: dict[str, Any] = {
        "id": "s:wp:1",
        "content_hash": "h",
        "aliases": [],
        "provenance": {"fetched_at": "1"},
    }
    first = cast("ArticleRecord", {**base, "url": "http://a/"})
    merged = merge_duplicates(
        [first, cast("ArticleRecord", {**base, "url": "http://a/?utm_source=x"})]
    )
    assert len(merged) == 1 and merged[0]["aliases"] == ["http://a/?utm_source=x"]


def test_jsonl_is_gzip_with_fixed_mtime(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl.gz"
    write_jsonl_gz(path, [{"b": 1, "a": "é"}])
    raw = path.read_bytes()
    assert raw[4:8] == b"\x00\x00\x00\x00"  # mtime 0: same bytes whenever written
    assert gzip.decompress(raw) == '{"a":"é","b":1}\n'.encode()


def test_jsonl_gz_is_streamed_with_the_one_shot_bytes(tmp_path: Path) -> None:
    """The streaming writer's bytes equal gzip.compress of the whole text (archived runs were
    written that way, and reprocessing compares bytes)."""
    import gzip

    from flows.derive.articles import dumps, read_jsonl_gz, write_jsonl_gz

    records = [{"id": str(i), "text": "Ä paragraph\n" * (i % 40), "n": i} for i in range(3000)]
    path = tmp_path / "a.jsonl.gz"
    assert write_jsonl_gz(path, iter(records)) == len(records)
    whole = "".join(dumps(r) + "\n" for r in records).encode("utf-8")
    assert path.read_bytes() == gzip.compress(whole, compresslevel=6, mtime=0)
    assert read_jsonl_gz(path) == records
    assert write_jsonl_gz(path, []) == 0 and read_jsonl_gz(path) == []
    assert path.read_bytes() == gzip.compress(b"", compresslevel=6, mtime=0)


@pytest.mark.e2e
def test_spilled_texts_come_back_byte_for_byte(crawled: Crawled, tmp_path: Path) -> None:
    """Processing with the records spilled to disk holds light ones, and writes exactly the
    articles.jsonl.gz of processing in memory; a diff against an earlier version reads the
    spilled text."""
    from flows.derive.run import derive
    from flows.derive.spill import CORE, SPILL_REF
    from flows.state.fold import SiteState

    warcs, profile, run_id = crawled.result.warc_files, crawled.profile, crawled.run.run_id
    k = keys(crawled)
    whole = derive(
        process_warcs(warcs, profile, run_id, k.warc),
        SiteState("replica"),
        run_id,
        k,
        lambda _: None,
    )
    spill = tmp_path / "texts"
    spill.mkdir()
    light = derive(
        process_warcs(warcs, profile, run_id, k.warc, spill),
        SiteState("replica"),
        run_id,
        k,
        lambda _: None,
    )
    assert light.records and all(set(r) == CORE | {SPILL_REF} for r in light.records)
    assert sorted(p.name for p in spill.iterdir()) == sorted(w.name + ".spill" for w in warcs)
    write_jsonl_gz(tmp_path / "whole.jsonl.gz", whole.full_records())
    write_jsonl_gz(tmp_path / "light.jsonl.gz", light.full_records())
    assert (tmp_path / "whole.jsonl.gz").read_bytes() == (tmp_path / "light.jsonl.gz").read_bytes()

    # the next run sees an edited text: its diff is made from the spilled text
    state = SiteState("replica")
    state.apply_run(run_id, k.articles, list(whole.full_records()), [])
    target = next(whole.full_records())
    edited_text = target["text"] + "\nA late correction."
    state.articles[target["id"]].content_hash = "changed"
    versioned = derive(
        process_warcs(warcs, profile, run_id, k.warc, spill),
        state,
        run_id,
        k,
        lambda entry: edited_text if entry.id == target["id"] else None,
    )
    [record] = [r for r in versioned.records if r["id"] == target["id"]]
    assert record["version"] == 2 and record["changed_fields"] == ["text"]
    assert record["diff"] == [
        {
            "op": "delete",
            "old_index": len(target["text"].split("\n")),
            "new_index": len(target["text"].split("\n")),
            "old": ["A late correction."],
            "new": [],
        }
    ]


@pytest.mark.e2e
def test_a_damaged_spill_is_named(crawled: Crawled, tmp_path: Path) -> None:
    from flows.derive.spill import Spilled

    k = keys(crawled)
    # the first WARC file holding articles (others may hold only listings and requisites)
    for n, warc in enumerate(crawled.result.warc_files):
        spill = tmp_path / f"texts-{n}"
        spill.mkdir()
        result = process_warcs([warc], crawled.profile, crawled.run.run_id, k.warc, spill)
        if result.records:
            break
    assert result.records
    [spilled] = list(spill.iterdir())
    spilled.write_bytes(spilled.read_bytes()[:10])
    with pytest.raises(ValueError, match=f"spill file {spilled.name} is shorter"):
        list(Spilled(spill).full(result.records))
    with pytest.raises(ValueError, match="no spill dir"):
        Spilled(None).text(result.records[0])
