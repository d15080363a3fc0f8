"""Text deeper than the HTML parser's depth limit (issue 14): libxml2 stops reading a page at 256
nested elements and drops the rest. Such a page is archived as it came, cleaned as far as the
parser read it, and listed in the run's document failures with its WARC record, never dropped
without a word."""

from __future__ import annotations

import gzip
from pathlib import Path

from flows.derive.process import clean_warc
from flows.sites import load_profile
from tests.helpers import HTML, documents_warc, shared_dir

BASE = "http://127.0.0.1:8765"
PROFILE = load_profile("replica")
NESTED = 100_000
DEEP_TEXT = "The deepest paragraph of this article names the minister who signed it."


def _deep(page: bytes) -> bytes:
    """The page with 100,000 nested elements holding article text after its first paragraph."""
    cut = page.index(b"</p>") + len(b"</p>")
    deep = b"<div>" * NESTED + f"<p>{DEEP_TEXT}</p>".encode() + b"</div>" * NESTED
    return page[:cut] + deep + page[cut:]


def _archive(tmp: Path, pages: list[tuple[str, bytes]]) -> Path:
    return documents_warc(tmp, [(url, HTML, body) for url, body in pages])


def test_text_past_the_parsers_depth_limit_is_reported_with_its_record(tmp_path: Path) -> None:
    (first, *_) = sorted((shared_dir() / "extraction-dev" / "html").glob("*.html.gz"))
    page = gzip.decompress(first.read_bytes())
    deep_url, intact_url, only_url = (f"{BASE}/2017/07/{name}/" for name in ("deep", "ok", "only"))
    only_deep = b"<html><body>" + _deep(b"<p></p>") + b"</body></html>"
    path = _archive(tmp_path, [(deep_url, _deep(page)), (intact_url, page), (only_url, only_deep)])
    result = clean_warc(path, PROFILE, "r", str)
    cleaned = {r["url"]: str(dict(r).get("text", "")) for r in result.raw}  # not spilled: full
    failures = dict(result.failures)
    assert set(cleaned) == {deep_url, intact_url}  # cleaned as far as it was read, and archived
    assert DEEP_TEXT not in cleaned[deep_url]  # what the parser never read ...
    assert "depth limit" in failures[deep_url]  # ... is said, with the record to read it from
    assert "WARC record <urn:uuid:" in failures[deep_url] and path.name in failures[deep_url]
    assert "depth limit" in failures[only_url]  # no article at all: the reason says why
    assert intact_url not in failures
