"""Bad input through the real command line (`newsvault clean`): one test per case, each with a
status in the JSON output, the documented exit code and no traceback."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import NEWSVAULT

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "clean"
SEED = (FIXTURES / "seed.html").read_bytes()
TAGDIV = "tagdiv-newspaper"


def run_clean(tmp_path: Path, data: bytes, *args: str) -> tuple[int, dict[str, Any], str]:
    page = tmp_path / "page.html"
    page.write_bytes(data)
    proc = subprocess.run(
        [NEWSVAULT, "clean", str(page), "--url", "https://fort-russ.com/x/", *args],
        capture_output=True,
        timeout=120,
        check=False,
    )
    stderr = proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    return proc.returncode, out, stderr


def test_empty_file(tmp_path: Path) -> None:
    code, out, _ = run_clean(tmp_path, b"")
    assert (code, out["status"]) == (1, "empty")


def test_whitespace_only_file(tmp_path: Path) -> None:
    code, out, _ = run_clean(tmp_path, b" \n\t\r\n ")
    assert (code, out["status"]) == (1, "empty")


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >>",
        b'{"title": "not a page", "items": [1, 2, 3]}',
        b"Just a plain text file.\nNo markup here at all.\n",
    ],
    ids=["png", "pdf", "json", "text"],
)
def test_not_html(tmp_path: Path, data: bytes) -> None:
    code, out, _ = run_clean(tmp_path, data)
    assert (code, out["status"]) == (1, "not_html")
    assert "not HTML" in out["error"]


def test_page_with_no_article(tmp_path: Path) -> None:
    code, out, _ = run_clean(
        tmp_path, (FIXTURES / "listing.html").read_bytes(), "--site", "replica"
    )
    assert (code, out["status"]) == (1, "no_article")
    code, out, _ = run_clean(tmp_path, b"<html><body><nav><a href='/'>Home</a></nav></body>")
    assert (code, out["status"]) == (1, "no_article")


def test_broken_markup(tmp_path: Path) -> None:
    broken = SEED.replace(b"</p>", b"").replace(b"</div>", b"", 5)[: len(SEED) * 3 // 4]
    code, out, _ = run_clean(tmp_path, broken, "--site", "replica")
    assert (code, out["status"]) == (0, "ok")
    assert out["paragraphs"][0].startswith("The Iranian Defense Minister")
    code, out, _ = run_clean(tmp_path, b"<<<>>><div<p></</html><p")
    assert (code, out["status"]) == (1, "no_article")


def test_wrong_charset(tmp_path: Path) -> None:
    # cp1252 bytes under a UTF-8 declaration, and UTF-8 bytes under an ISO-8859-1 one
    body = "<p>Café owners in Zürich serve crème brûlée under the old façades of the town.</p>"
    for raw in (
        f'<html><head><meta charset="utf-8"></head><body class="single"><div '
        f'class="td-post-content">{body}</div></body></html>'.encode("cp1252"),
        f'<html><head><meta charset="iso-8859-1"></head><body class="single"><div '
        f'class="td-post-content">{body}</div></body></html>'.encode(),
    ):
        code, out, _ = run_clean(tmp_path, raw, "--site", "replica")
        assert (code, out["status"]) == (0, "ok")
        assert "crème brûlée" in out["text"] and "façades" in out["text"], out["text"]


def test_missing_charset(tmp_path: Path) -> None:
    code, out, _ = run_clean(
        tmp_path, (FIXTURES / "latin1_no_charset.html").read_bytes(), "--site", "replica"
    )
    assert (code, out["status"], out["encoding"]) == (0, "ok", "cp1252")
    assert "crème brûlée" in out["text"]


def test_charset_from_the_http_header(tmp_path: Path) -> None:
    """``--charset`` is the HTTP header's: the page cleans as in the pipeline, where the header
    comes before ``<meta charset>`` and detection."""
    from flows.clean import clean_html

    raw = '<html><body class="single"><div class="td-post-content"><p>Привет, мир!</p></div>'
    page = raw.encode("cp1251")  # no <meta charset>: too short to detect, the header says it
    code, out, _ = run_clean(tmp_path, page, "--site", "replica", "--charset", "windows-1251")
    assert (code, out["status"], out["encoding"]) == (0, "ok", "cp1251")
    pipeline = clean_html(page, "https://fort-russ.com/x/", theme=TAGDIV, encoding="windows-1251")
    assert out["text"] == pipeline.text == "Привет, мир!"
    code, out, _ = run_clean(tmp_path, page, "--site", "replica")
    assert code == 0 and out["text"] != "Привет, мир!"


def test_text_format_failure_goes_to_stderr(tmp_path: Path) -> None:
    code, out, stderr = run_clean(tmp_path, b"", "--format", "text")
    assert code == 1 and out == {} and "empty" in stderr


def test_unreadable_file_is_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [NEWSVAULT, "clean", str(tmp_path / "missing.html")],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2 and b"Traceback" not in proc.stderr
    assert b"cannot read" in proc.stderr
