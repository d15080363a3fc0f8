"""Oversized documents (issue 14) are bounded, and what is left out is said: a robots.txt past
RFC 9309's 500 KiB parsing limit (its rules cut, every Sitemap: line still read), an article page
larger than ``[extract] max_page_bytes`` (archived, listed as a failure with its WARC record,
not cleaned), and a huge page's requisites found by the streaming parser whatever their place.
The memory itself is measured in bench (rows M and MR), never asserted here."""

from __future__ import annotations

import gzip
from dataclasses import replace
from pathlib import Path

from flows.derive.process import clean_warc
from flows.sites import load_profile
from flows.warc import html_urls
from spiders.robots import MAX_RULES_BYTES, RobotsRules, rules_part, sitemap_lines
from tests.helpers import HTML, documents_warc, shared_dir

BASE = "http://127.0.0.1:8765"


def test_a_huge_robots_txt_keeps_its_first_rules_and_every_sitemap() -> None:
    rules = "".join(f"Disallow: /private/{i:07d}/\n" for i in range(60_000))  # ~1.6 MB
    body = f"User-agent: *\nDisallow: /early/\n{rules}Disallow: /late/\nSitemap: {BASE}/sm.xml\n"
    kept, cut = rules_part(body)
    assert cut and len(kept.encode()) <= MAX_RULES_BYTES and kept.endswith("\n")
    assert sitemap_lines(body) == [f"{BASE}/sm.xml"]  # past the limit, still read
    robots = RobotsRules("newsvault")
    robots.set("127.0.0.1:8765", kept)
    assert not robots.allows(f"{BASE}/early/x")
    assert robots.allows(f"{BASE}/late/x")  # a rule past the limit is not applied
    assert rules_part("User-agent: *\nDisallow: /a/\n") == ("User-agent: *\nDisallow: /a/\n", False)


def test_requisites_of_a_huge_page_are_found_on_both_sides_of_its_bulk() -> None:
    bulk = b"<p>The minister said the agreement covers training.</p>\n" * 100_000  # ~5.6 MB
    page = (
        b'<html><head><link rel="stylesheet" href="/a.css"></head><body>'
        + bulk
        + b'<img src="/late.jpg"><div style="background:url(/bg.png)"></div>'
        + bulk
        + b"<style>.x{background:url(/last.png)}</style></body></html>"
    )
    assert sorted(html_urls(page, f"{BASE}/2017/07/a/")) == sorted(
        [f"{BASE}/a.css", f"{BASE}/late.jpg", f"{BASE}/bg.png", f"{BASE}/last.png"]
    )


def test_a_page_over_max_page_bytes_is_archived_and_reported_not_cleaned(tmp_path: Path) -> None:
    (first, *_) = sorted((shared_dir() / "extraction-dev" / "html").glob("*.html.gz"))
    page = gzip.decompress(first.read_bytes())
    profile = load_profile("replica")
    small = replace(profile, extract=replace(profile.extract, max_page_bytes=len(page) + 1000))
    big = page.replace(b"</body>", b"<p>padding</p>" * 20_000 + b"</body>")
    pages = [(f"{BASE}/2017/07/{name}/", HTML, body) for name, body in (("big", big), ("ok", page))]
    path = documents_warc(tmp_path, pages)
    result = clean_warc(path, small, "r", str)
    failures = dict(result.failures)
    assert {r["url"] for r in result.raw} == {f"{BASE}/2017/07/ok/"}
    reason = failures[f"{BASE}/2017/07/big/"]
    assert "max_page_bytes" in reason and "WARC record <urn:uuid:" in reason
