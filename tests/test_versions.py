"""Versions, aliases, near-duplicates, deletions and the state fold, on plain records."""

from __future__ import annotations

import gzip
import itertools
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.derive.articles import ArticleRecord, content_hash, fingerprint
from flows.derive.deletions import redirect_kind
from flows.derive.versions import (
    NEAR_DUPLICATE_BITS,
    NearDuplicateIndex,
    hamming,
    paragraph_diff,
    reconcile,
)
from flows.state.fold import SiteState

TEXT = "\n".join(
    [
        "The Iranian Defense Minister and his Iraqi counterpart signed a defense agreement today.",
        "The agreement covers training, border security and the exchange of intelligence.",
        "Both ministers stressed the importance of deeper cooperation between the two armies.",
    ]
)


def record(post: int, text: str = TEXT, title: str = "Title", url: str = "") -> ArticleRecord:
    """The fields reconciling reads; the rest of the contract is not needed here."""
    url = url or f"http://site/2017/07/post-{post}/"
    fields: dict[str, Any] = {
        "id": f"s:wp:{post}",
        "url": url,
        "canonical_url": url,
        "title": title,
        "text": text,
        "content_hash": content_hash(text),
        "simhash": fingerprint(text),
        "version": 1,
        "previous_version": None,
        "changed_fields": [],
        "diff": None,
        "near_duplicate_of": None,
        "aliases": [],
        "provenance": {
            "fetched_at": "2026-01-01T00:00:00Z",
            "warc_key": "k.warc.gz",
            "warc_record_id": "<urn:uuid:x>",
            "http_status": 200,
        },
    }
    return cast("ArticleRecord", fields)


def no_previous(entry: object) -> str | None:
    return None


def state_with(*records: ArticleRecord) -> SiteState:
    state = SiteState("s")
    state.apply_run("20260101T000000Z-aaaaaa", "runs/1/articles.jsonl.gz", records, [])
    return state


def test_new_then_unchanged_then_new_version_with_diff() -> None:
    state = SiteState("s")
    first = reconcile(state, [record(1)], no_previous)
    assert first.new == 1 and first.records[0]["version"] == 1
    state.apply_run("r1", "runs/r1/articles.jsonl.gz", first.records, [])

    again = reconcile(state, [record(1)], no_previous)
    assert again.records == [] and len(again.unchanged) == 1

    edited = TEXT.replace("signed a defense agreement", "signed a broad defense agreement")
    edited += "\nUPDATE: the parliament ratified the agreement on Monday."
    changed = reconcile(state, [record(1, edited)], lambda entry: TEXT)
    [rec] = changed.records
    assert rec["version"] == 2 and rec["changed_fields"] == ["text"]
    assert rec["previous_version"] == "runs/r1/articles.jsonl.gz#s:wp:1@1"
    assert rec["diff"] is not None
    ops = {op["op"] for op in rec["diff"]}
    assert ops == {"replace", "insert"} or ops == {"replace"}
    assert any("UPDATE:" in " ".join(op["new"]) for op in rec["diff"])
    retitled = reconcile(state, [record(1, title="Corrected title")], lambda entry: TEXT)
    assert retitled.records[0]["changed_fields"] == ["title"]
    assert retitled.records[0]["diff"] == []


def test_same_text_under_another_id_is_an_alias() -> None:
    state = state_with(record(1))
    result = reconcile(state, [record(2, url="http://site/2017/07/copy/")], no_previous)
    assert result.records == [] and result.aliases[0]["article_id"] == "s:wp:1"
    state.apply_run("r2", "k", [], result.aliases)
    assert state.articles["s:wp:1"].aliases == ["http://site/2017/07/copy/"]


def test_near_duplicate_is_flagged_not_merged() -> None:
    from infra.replica.content import Site

    long_text = "\n".join(Site(articles=5, seed=1).seed_article.paragraphs)
    state = state_with(record(1, long_text))
    near = long_text + "\nThis article was first published by Al Mayadeen."
    result = reconcile(state, [record(3, near)], no_previous)
    [rec] = result.records
    assert rec["near_duplicate_of"] == "s:wp:1" and result.near_duplicates == 1
    other = "Football results from the Russian premier league, and the weather in Moscow."
    assert reconcile(state, [record(4, other)], no_previous).records[0]["near_duplicate_of"] is None


def test_threshold_separates_copies_from_distinct_articles() -> None:
    from infra.replica.content import Site

    site = Site(articles=120, seed=7)
    texts = ["\n".join(a.paragraphs) for a in site.iter_articles()]
    distinct = [hamming(fingerprint(a), fingerprint(b)) for a, b in itertools.pairwise(texts)]
    copies = [hamming(fingerprint(t), fingerprint(t + "\nUPDATE: corrected.")) for t in texts]
    assert max(copies) <= NEAR_DUPLICATE_BITS < min(distinct)


def test_paragraph_diff_lists_only_changes() -> None:
    assert paragraph_diff("a\nb\nc", "a\nb\nc") == []
    assert paragraph_diff("a\nb\nc", "a\nB\nc") == [
        {"op": "replace", "old_index": 1, "new_index": 1, "old": ["b"], "new": ["B"]}
    ]
    assert paragraph_diff("a\nb", "a\nb\nc")[0]["op"] == "insert"


def test_state_round_trip_and_deterministic_bytes() -> None:
    state = state_with(record(1), record(2, "Another text entirely about something else."))
    state.apply_run(
        "r2",
        "k2",
        [],
        [
            {
                "kind": "deleted",
                "article_id": "s:wp:2",
                "how": "http_410",
                "time": "t",
                "run_id": "r2",
                "evidence": {},
            }
        ],
    )
    raw = state.to_bytes()
    assert raw == state.to_bytes() and raw[4:8] == b"\0\0\0\0"
    again = SiteState.from_bytes(raw)
    assert again.to_bytes() == raw
    assert again.articles["s:wp:2"].deleted == {
        "how": "http_410",
        "time": "t",
        "run_id": "r2",
        "evidence": {},
    }
    assert set(again.live_articles()) == {"s:wp:1"}


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not gzip",
        gzip.compress(b"[]"),
        gzip.compress(b'{"schema": "other"}'),
        gzip.compress(b'{"schema": "newsvault.state/1", "site": "s"}'),
    ],
)
def test_corrupt_state_is_a_value_error(raw: bytes) -> None:
    with pytest.raises(ValueError):
        SiteState.from_bytes(raw)


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("/", "redirect_home"),
        ("http://site/", "redirect_home"),
        ("/category/world/", "redirect_listing"),
        ("/page/2/", "redirect_listing"),
        ("/2017/07/new-slug/", None),
        ("http://elsewhere.example/", None),
    ],
)
def test_redirect_kinds(location: str, kind: str | None) -> None:
    assert redirect_kind("http://site/2017/07/old-slug/", location) == kind


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=40),
    st.integers(0, 2**64 - 1),
    st.lists(st.integers(0, 63), max_size=12),
)
def test_near_duplicate_index_finds_what_comparing_all_pairs_finds(
    stored: list[int], probe: int, flips: list[int]
) -> None:
    """Band lookup is exact: the answer of a scan, with probes a few bits off a stored one."""
    for bit in flips:
        stored.append(probe ^ (1 << bit))  # a near copy, 0..12 bits away
    index = NearDuplicateIndex()
    ids = [f"a{i:03d}" for i in range(len(stored))]
    for article_id, value in zip(ids, stored, strict=True):
        index.add(article_id, f"{value:016x}")
    query = f"{probe:016x}"
    scan = sorted(
        (hamming(query, f"{v:016x}"), i)
        for i, v in zip(ids, stored, strict=True)
        if i != "a000" and hamming(query, f"{v:016x}") <= NEAR_DUPLICATE_BITS
    )
    found = index.nearest(query, exclude="a000")
    assert found == ((scan[0][1], scan[0][0]) if scan else None)


def test_near_duplicate_index_does_not_compare_every_pair() -> None:
    """Unrelated SimHashes share few buckets (an all-zero band once put every article in one)."""
    import random

    rng = random.Random(7)
    index = NearDuplicateIndex()
    for i in range(4000):
        index.add(f"a{i}", f"{rng.getrandbits(64):016x}")
    largest = max(len(bucket) for bucket in index._buckets.values())
    assert largest < 4000 / 32
