"""Bad input never raises out of the cleaner: real pages from the development set
(``../shared/extraction-dev``, read in place, never copied), mutated (control characters, broken
UTF-8, truncation, deep nesting, one huge line), always give an article or a :class:`CleanError`
with a status. Hypothesis runs derandomized, so every run tries the same examples; a failing
example found once is kept as an ``@example``."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from flows.clean.cleaner import CleanedArticle, CleanError, clean_html
from tests.helpers import shared_dir

STATUSES = {"empty", "not_html", "no_article"}
# A spread of the set: German, English, Spanish, French, Polish pages, WordPress and others.
PAGE_COUNT = 12


@lru_cache(maxsize=1)
def dev_pages() -> tuple[tuple[str, bytes], ...]:
    """Every 50th page of the development set (sorted ids): (url, raw bytes)."""
    root = shared_dir() / "extraction-dev"
    index = json.loads((root / "pages.json").read_text(encoding="utf-8"))
    out = []
    for pid in sorted(index)[:: len(index) // PAGE_COUNT][:PAGE_COUNT]:
        page = index[pid]
        url = page["url"] if page["url"].startswith("http") else f"https://example.org/{pid}"
        out.append((url, gzip.decompress((root / "html" / page["file"]).read_bytes())))
    return tuple(out)


def check(body: bytes | str, url: str = "https://example.org/a") -> str:
    """Clean ``body``; the status it ends in (``ok`` or a CleanError's). Anything else raised
    fails the test."""
    try:
        article = clean_html(body, url)
    except CleanError as exc:
        assert exc.status in STATUSES, exc.status
        return exc.status
    assert isinstance(article, CleanedArticle)
    assert article.text == "\n".join(article.paragraphs)
    assert all(p and p == p.strip() and "\n" not in p for p in article.paragraphs)
    return "ok"


# ----- mutations ------------------------------------------------------------------------------


def insert(body: bytes, at: float, what: bytes) -> bytes:
    k = int(len(body) * at)
    return body[:k] + what + body[k:]


def nest(body: bytes, at: float, depth: int, tag: bytes) -> bytes:
    """``depth`` unclosed ``tag`` elements opened before the rest of the page."""
    k = int(len(body) * at)
    return body[:k] + (b"<" + tag + b">") * depth + body[k:]


CONTROL = st.binary(min_size=1, max_size=40).map(lambda b: bytes(c % 32 for c in b))
BROKEN_UTF8 = st.sampled_from(
    [b"\xff", b"\xfe\xff", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf"]
)
mutation = st.one_of(
    st.tuples(st.just("insert"), st.floats(0, 1), CONTROL | BROKEN_UTF8),
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(b"")),
    st.tuples(st.just("nest"), st.floats(0, 1), st.sampled_from([b"div", b"b", b"p", b"table"])),
    st.tuples(st.just("flip"), st.floats(0, 1), st.binary(min_size=1, max_size=1)),
)


def mutate(body: bytes, steps: list[tuple[str, float, bytes]]) -> bytes:
    for kind, at, arg in steps:
        if kind == "insert":
            body = insert(body, at, arg)
        elif kind == "truncate":
            body = body[: int(len(body) * at)]
        elif kind == "nest":
            body = nest(body, at, 3000, arg)
        else:  # flip one byte
            k = min(int(len(body) * at), max(len(body) - 1, 0))
            body = body[:k] + arg + body[k + 1 :]
    return body


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.integers(0, PAGE_COUNT - 1), st.lists(mutation, min_size=1, max_size=4))
@example(0, [("nest", 0.5, b"div")])
def test_mutated_real_pages_end_in_a_status(
    page: int, steps: list[tuple[str, float, bytes]]
) -> None:
    url, body = dev_pages()[page]
    mutated = mutate(body, steps)
    check(mutated, url)
    check(mutated.decode("utf-8", "surrogateescape"), url)


# ----- the named worst cases ------------------------------------------------------------------

ARTICLE = "<p>" + "The council voted on the new budget after a long debate. " * 12 + "</p>"


def test_every_dev_page_unmutated_ends_in_a_status() -> None:
    assert len(dev_pages()) == PAGE_COUNT
    for url, body in dev_pages():
        check(body, url)


def test_control_characters_everywhere() -> None:
    url, body = dev_pages()[1]
    spiked = b"".join(bytes([c, n % 32]) for n, c in enumerate(body))
    check(spiked, url)
    check("<html><body><article>" + "abc\x00\x01\x0b\x0c\x7f\x1b def " * 200 + "</article>")


def test_broken_utf8_keeps_the_text() -> None:
    body = b"<html><body><article>" + ARTICLE.encode() + b"\xff\xfe\xc3 \xe2\x80" * 50
    assert check(body) == "ok"
    assert check(body.decode("utf-8", "surrogateescape")) == "ok"


@pytest.mark.parametrize("tag", ["div", "b", "span", "table"])
def test_a_hundred_thousand_nested_elements(tag: str) -> None:
    """Deeper than libxml2's limit: what lies below it is lost, the cleaner still answers."""
    deep = f"<{tag}>" * 100_000
    check("<html><body>" + deep + ARTICLE + f"</{tag}>" * 100_000 + "</body></html>")
    check("<html><body><article>" + ARTICLE + deep + "x")
    url, body = dev_pages()[2]
    check(insert(body, 0.5, deep.encode()), url)


def test_a_ten_megabyte_single_line() -> None:
    line = "word " * 2_000_000
    assert check("<html><body><article><p>" + line + "</p>" + ARTICLE + "</article>") == "ok"
    check("<html><body><p>" + "x" * 10_000_000 + "</p></body></html>")
    url, body = dev_pages()[3]
    check(body.replace(b"\n", b" ").replace(b"\r", b" ") + b"<!--" + b"y" * 10_000_000, url)
