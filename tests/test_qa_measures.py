"""Replay QA's measures as pure functions: pixelmatch's count (checked against the PyPI port on
drawn images), text match, what is in scope, resource counts, the sample of a run's pages, the
health problems and the one line when Chromium is missing."""

from __future__ import annotations

import base64
import io
import json
import os
import random
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from pixelmatch.contrib.PIL import pixelmatch

from flows.errors import InfraError
from flows.qa import (
    Fetch,
    Page,
    PageScore,
    QAResult,
    Rendering,
    Replay,
    Resources,
    choose,
    chromium_path,
    compare,
    in_scope,
    pages_of,
    pictures_markdown,
    problems,
    rows,
    sample_run,
    score_page,
    summary,
    text_match,
)
from flows.qa.report import THUMB_WIDTH
from flows.sites import Health, load_profile
from tests.helpers import NEWSVAULT, REPO, one_error_line

BASE = "http://127.0.0.1:8765"


def _noisy(seed: int, size: tuple[int, int], translucent: bool) -> tuple[Image.Image, Image.Image]:
    """Two images: text-like strokes (anti-aliased edges) and random pixels, the second
    changed in places."""
    rng = random.Random(seed)
    one = Image.new("RGBA", size, (255, 255, 255, 255))
    draw = ImageDraw.Draw(one)
    for _ in range(6):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.line((x, y, x + rng.randrange(-20, 20), y + rng.randrange(-20, 20)), fill="black")
        draw.text((rng.randrange(size[0]), rng.randrange(size[1])), "Ab", fill=(20, 40, 200))
    pixels = one.load()
    assert pixels is not None
    for _ in range(size[0] * size[1] // 10):
        alpha = rng.choice([255, 255, 120]) if translucent else 255
        pixels[rng.randrange(size[0]), rng.randrange(size[1])] = (
            rng.randrange(256), rng.randrange(256), rng.randrange(256), alpha
        )  # fmt: skip
    two = one.copy()
    ImageDraw.Draw(two).rectangle((5, 5, 15, 12), fill=(250, 10, 10, 255))
    out = two.load()
    assert out is not None
    for _ in range(size[0] * size[1] // 20):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        pixel = out[x, y]
        assert isinstance(pixel, tuple)
        out[x, y] = (int(pixel[0]) ^ rng.choice([8, 64, 128]), *pixel[1:])
    return one, two


@given(st.integers(0, 10_000), st.booleans())
def test_pixel_count_is_pixelmatchs(seed: int, translucent: bool) -> None:
    one, two = _noisy(seed, (48, 36), translucent)
    diff = compare(one, two)
    assert diff.differing == pixelmatch(one, two, threshold=0.1)
    assert diff.pixels == 48 * 36
    assert 0 < diff.match < 1
    assert diff.diff.size == one.size


def test_identical_screenshots_match_fully_and_a_shorter_one_differs_below() -> None:
    one = Image.new("RGB", (64, 40), (240, 240, 240))
    ImageDraw.Draw(one).rectangle((0, 0, 63, 39), outline="black")
    assert compare(one, one.copy()).match == 1.0
    short = one.crop((0, 0, 64, 20))  # a page cut short: the rest is white, unlike the live
    result = compare(one, short)
    assert result.pixels == 64 * 40 and result.differing > 0


def test_text_match_is_one_minus_levenshtein_over_the_longer_text() -> None:
    assert text_match("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert text_match("same  text\nhere", "same text here") == 1.0  # reflow is no difference
    assert text_match("", "") == 1.0
    assert text_match("abc", "") == 0.0


def test_scope_is_the_crawls_site_and_requisite_hosts_less_excluded() -> None:
    profile = load_profile("replica", BASE)
    assert in_scope(profile, BASE + "/wp-content/themes/Newspaper/style.css?ver=9.2.2")
    assert in_scope(profile, "http://127.0.0.2:8765/127.0.0.1/wp-content/uploads/a.jpg")
    assert not in_scope(profile, "https://s.pubmine.com/head.js")  # excluded by policy
    assert not in_scope(profile, "https://stats.wp.com/e-201950.js")
    assert not in_scope(profile, "https://elsewhere.example/x.js")  # never fetched
    assert not in_scope(profile, "data:image/png;base64,AAAA")
    assert not in_scope(profile, "http://[::1/x")  # malformed


def test_resources_split_good_and_bad_in_scope_and_excluded() -> None:
    counted = Resources.of(
        [
            Fetch(BASE + "/a.css", 200, True),
            Fetch(BASE + "/b", 301, True),
            Fetch(BASE + "/gone.css", 404, True),
            Fetch(BASE + "/x.js", 0, True),  # no response
            Fetch("https://s.pubmine.com/head.js", 0, False),
        ]
    )
    assert (counted.good, counted.bad, counted.excluded_bad) == (2, 2, 1)
    assert counted.bad_urls == (BASE + "/gone.css", BASE + "/x.js")


def test_replay_urls_unwrap_to_the_sites() -> None:
    replay = Replay("http://127.0.0.1:9000", "replica")
    assert replay.url("20260101000000", BASE + "/") == (
        "http://127.0.0.1:9000/replica/20260101000000/" + BASE + "/"
    )
    wrapped = "http://127.0.0.1:9000/replica/20260101000000cs_/" + BASE + "/s.css?ver=1"
    assert replay.original(wrapped) == BASE + "/s.css?ver=1"
    assert replay.original("http://127.0.0.1:9000/static/wombat.js") is None


def _line(url: str, ts: str, status: int = 200, mime: str = "text/html") -> str:
    key = "surt"
    return f"{key} {ts} " + json.dumps({"url": url, "status": str(status), "mime": mime})


LINES = [
    _line(BASE + "/", "20260101000001"),
    _line(BASE + "/page/2/", "20260101000002"),
    _line(BASE + "/category/europe/", "20260101000003", mime="warc/revisit"),  # same payload
    _line(BASE + "/feed/", "20260101000004", mime="application/rss+xml"),
    _line(BASE + "/robots.txt", "20260101000005", mime="text/plain"),
    _line(BASE + "/2020/01/gone/", "20260101000006", status=404),
    _line(BASE + "/2020/01/one/amp/", "20260101000007"),
    _line(BASE + "/wp-content/themes/Newspaper/style.css", "20260101000008", mime="text/css"),
    *[_line(BASE + f"/2020/01/article-{n}/", f"202601010001{n:02d}") for n in range(30)],
    _line(BASE + "/2020/01/article-3/", "20260101000200", mime="warc/revisit"),  # a 304, resolved
]


def test_the_sample_is_home_a_listing_and_articles_the_same_for_a_run_id() -> None:
    profile = load_profile("replica", BASE)
    pages = pages_of(profile, LINES)
    kinds = {p.url.removeprefix(BASE): p.kind for p in pages.values()}
    assert kinds["/"] == "home" and kinds["/page/2/"] == kinds["/category/europe/"] == "listing"
    assert "/feed/" not in kinds and "/2020/01/gone/" not in kinds
    assert "/2020/01/one/amp/" not in kinds
    assert pages[BASE + "/2020/01/article-3/"].timestamp == "20260101000200"  # the latest
    chosen = choose(pages, "20260101T000000Z-aaaa", 12)
    assert [p.kind for p in chosen[:2]] == ["home", "listing"]
    assert len(chosen) == 12 and all(p.kind == "article" for p in chosen[2:])
    shuffled = list(reversed(LINES))  # crawl order does not matter
    assert choose(pages_of(profile, shuffled), "20260101T000000Z-aaaa", 12) == chosen
    other = choose(pages, "20260101T010000Z-bbbb", 12)
    assert {p.url for p in other} != {p.url for p in chosen}  # another run, another sample
    assert len(choose(pages, "r", 100)) == len(pages)  # never more than there are


def _score(url: str, shot: float | None, text: float | None, bad: int = 0) -> PageScore:
    return PageScore(
        page=Page(url, "article", "20260101000000"),
        replay_url="http://127.0.0.1:8080/replica/20260101000000/" + url,
        screenshot_match=shot,
        text_match=text,
        live=Resources(good=10),
        replay=Resources(good=10 - bad, bad=bad, bad_urls=(BASE + "/s.css",) if bad else ()),
        left=(),
    )


def test_health_names_the_pages_that_cross_a_threshold() -> None:
    result = QAResult("replica", "run")
    result.pages = [
        _score(BASE + "/good/", 0.99, 1.0),
        _score(BASE + "/broken/", 0.42, 0.97, bad=1),
        _score(BASE + "/unmeasured/", None, None),  # the live page did not render
    ]
    found = problems(result, Health())
    assert len(found) == 2
    assert BASE + "/broken/" in found[0] and "screenshot match 0.9" in found[0]
    assert "in-scope resource" in found[1] and BASE + "/broken/" in found[1]
    assert not any("/good/" in p or "/unmeasured/" in p for p in found)
    assert problems(result, Health(min_screenshot_match=0.4, max_bad_resources=1)) == []
    assert rows(result)[0]["page"] == BASE + "/broken/"  # worst first
    assert "3 pages sampled, 2 measured" in summary(result)
    assert "50% with no bad in-scope resource" in summary(result)


def test_missing_chromium_is_one_line_saying_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEWSVAULT_CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(InfraError, match=r"make chromium.*apt-get install") as caught:
        chromium_path()
    assert "\n" not in str(caught.value)


def test_a_run_that_captured_few_pages_is_filled_from_earlier_runs(tmp_path: Path) -> None:
    profile = load_profile("replica", BASE)
    (tmp_path / "20260101T000000Z-aaaaaa.cdxj").write_text("\n".join(LINES) + "\n")
    later = [
        _line(BASE + "/", "20260102000001"),
        _line(BASE + "/2020/01/article-7/", "20260102000002"),
    ]
    (tmp_path / "20260102T000000Z-bbbbbb.cdxj").write_text("\n".join(later) + "\n")
    (tmp_path / "20260103T000000Z-cccccc.cdxj").write_text(_line(BASE + "/x/", "20260103000000"))
    chosen = sample_run(profile, tmp_path, "20260102T000000Z-bbbbbb", 10)
    assert [p.timestamp for p in chosen[:2]] == ["20260102000001", "20260102000002"]  # its own
    assert len(chosen) == 10 and len({p.url for p in chosen}) == 10
    assert all(p.timestamp < "20260102" for p in chosen[2:])  # earlier runs, never a later one


def _png(color: tuple[int, int, int], size: tuple[int, int] = (80, 50)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


PAGE = Page(BASE + "/2020/01/one/", "article", "20260101000000")
LINK = "http://127.0.0.1:8080/replica/20260101000000/" + PAGE.url


def test_a_page_that_does_not_render_live_is_not_measured_and_a_broken_replay_scores_zero(
    tmp_path: Path,
) -> None:
    good = Rendering(PAGE.url, 200, _png((255, 255, 255)), "text")
    down = Rendering(PAGE.url, error="TimeoutError: page.goto: Timeout 90000ms exceeded")
    unmeasured = score_page(PAGE, down, good, LINK, tmp_path / "a")
    assert not unmeasured.measured and unmeasured.error.startswith("live: TimeoutError")
    gone = Rendering(LINK, 404, _png((255, 255, 255)), "Not Found")
    broken = score_page(PAGE, good, gone, LINK, tmp_path / "b")
    assert (broken.screenshot_match, broken.text_match) == (0.0, 0.0)
    assert broken.error == "replay: replay answered 404"
    result = QAResult("replica", "run", [unmeasured, broken])
    assert len(problems(result, Health())) == 2  # broken named under both scores, not the other
    assert all(PAGE.url in p for p in problems(result, Health()))


def test_requests_leaving_replay_are_a_problem_and_pictures_are_embedded(tmp_path: Path) -> None:
    live = Rendering(PAGE.url, 200, _png((255, 255, 255)), "same text")
    replayed = Rendering(
        LINK,
        200,
        _png((250, 250, 250)),  # under pixelmatch's threshold: no difference
        "same text",
        left=["https://s.pubmine.com/head.js"],
    )
    scored = score_page(PAGE, live, replayed, LINK, tmp_path / "00")
    assert (scored.screenshot_match, scored.text_match) == (1.0, 1.0)
    assert scored.pictures is not None and all(p.is_file() for p in scored.pictures)
    result = QAResult("replica", "run", [scored], pictures_dir=tmp_path)
    found = problems(result, Health())
    assert len(found) == 1 and "requested other servers than the replay server" in found[0]
    markdown = pictures_markdown(result)
    encoded = re.search(r"\(data:image/jpeg;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert encoded is not None and f"({LINK})" in markdown
    with Image.open(io.BytesIO(base64.b64decode(encoded.group(1)))) as picture:
        assert picture.format == "JPEG" and picture.width == 3 * THUMB_WIDTH + 16


def test_newsvault_qa_without_chromium_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "NEWSVAULT_CHROMIUM": str(tmp_path / "none"), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [NEWSVAULT, "qa", "replica"], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode != 0
    assert one_error_line(proc).endswith(
        "run `make chromium` (or `apt-get install chromium` as root), or point "
        "NEWSVAULT_CHROMIUM at a Chromium binary"
    )
