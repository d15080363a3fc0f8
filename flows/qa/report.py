"""What replay QA shows people: a table row per sampled page, one summary line for the run
report, the pages that cross the profile's ``[health]`` thresholds, and the worst pages' pictures
(live | replay | difference) as one small JPEG each, embedded in markdown as a ``data:`` URI.

Why embedded: the picture must be viewable from the run's artifacts in the Prefect UI with no
server of ours running and no credentials in a URL (a presigned S3 link carries a signature and
expires; the object store is not public). Three downscaled JPEGs per page keep an artifact at a
few hundred kilobytes; the full-size PNGs stay on disk under the QA folder the log names.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from PIL import Image

from flows.qa.check import PageScore, QAResult, fmt
from flows.qa.measures import grade
from flows.sites import Health

THUMB_WIDTH = 400  # each of the three pictures, in pixels
WORST = 3  # pages whose pictures the artifact shows


def rows(result: QAResult) -> list[dict[str, Any]]:
    """Rows of the QA table artifact, worst page first."""
    return [
        {  # the scores first: the UI's table is wider than a screen
            "screenshot_match": fmt(p.screenshot_match),
            "text_match": fmt(p.text_match),
            "grade": grade(p.worst) if p.measured else "not measured",
            "bad_in_scope_replay": p.replay.bad,
            "kind": p.page.kind,
            "page": p.page.url,
            "bad_in_scope_live": p.live.bad,
            "good_replay": p.replay.good,
            "excluded_replay": p.replay.excluded_good + p.replay.excluded_bad,
            "left_replay_server": len(p.left),
            "replay": p.replay_url,
            "note": p.error or ", ".join(p.replay.bad_urls[:3]),
        }
        for p in sorted(result.pages, key=lambda p: p.worst)
    ]


def summary(result: QAResult) -> str:
    """One line for the run report."""
    measured = sum(p.measured for p in result.pages)
    return (
        f"{len(result.pages)} pages sampled, {measured} measured: median screenshot match "
        f"{fmt(result.median_screenshot)}, median text match {fmt(result.median_text)}, "
        f"{result.clean_share:.0%} with no bad in-scope resource replayed, "
        f"{result.left} requests left the replay server"
    )


def problems(result: QAResult, health: Health) -> list[str]:
    """One problem per threshold crossed, naming its pages; a page that could not be measured
    live is not judged (the live site, not the archive, failed), its replay leaving the server is
    judged all the same."""

    def crossed(pages: list[PageScore], what: str, fix: str) -> list[str]:
        if not pages:
            return []
        names = ", ".join(p.page.url for p in pages[:10])
        more = f" and {len(pages) - 10} more" if len(pages) > 10 else ""
        return [f"replay QA: {len(pages)} page(s) {what}: {names}{more}; {fix}"]

    failing = sorted({url for p in result.pages for url in p.replay.bad_urls})

    measured = [p for p in result.pages if p.measured]
    look = "see the replay QA artifacts (live | replay | difference)"
    return (
        crossed(
            [p for p in measured if (p.screenshot_match or 0) < health.min_screenshot_match],
            f"under screenshot match {health.min_screenshot_match}",
            look,
        )
        + crossed(
            [p for p in measured if (p.text_match or 0) < health.min_text_match],
            f"under text match {health.min_text_match}",
            look,
        )
        + crossed(
            [p for p in measured if p.replay.bad > health.max_bad_resources],
            f"with more than {health.max_bad_resources} in-scope resource(s) failing in replay",
            f"failing: {', '.join(failing[:3])}{' …' if len(failing) > 3 else ''}; check "
            "[requisites] in the profile and the QA table",
        )
        + crossed(
            [p for p in result.pages if p.left],
            "whose replay requested other servers than the replay server",
            "replay must never reach the live web: report it with the QA table",
        )
    )


def _thumb(path: Path) -> Image.Image:
    with Image.open(path) as img:
        rgb = img.convert("RGB")
    height = round(rgb.height * THUMB_WIDTH / rgb.width)
    thumb: Image.Image = rgb.resize((THUMB_WIDTH, height), Image.Resampling.LANCZOS)
    return thumb


def side_by_side(pictures: tuple[Path, Path, Path]) -> bytes:
    """live | replay | difference, downscaled, as one JPEG."""
    thumbs = [_thumb(p) for p in pictures]
    gap = 8
    canvas = Image.new(
        "RGB",
        (sum(t.width for t in thumbs) + gap * 2, max(t.height for t in thumbs)),
        (255, 255, 255),
    )
    x = 0
    for thumb in thumbs:
        canvas.paste(thumb, (x, 0))
        x += thumb.width + gap
    buffer = io.BytesIO()
    canvas.save(buffer, "JPEG", quality=70, optimize=True)
    return buffer.getvalue()


def pictures_markdown(result: QAResult, worst: int = WORST) -> str:
    """The worst measured pages, each as live | replay | difference."""
    lines = [f"# Replay QA of run `{result.run_id}` of **{result.site}**: worst pages", ""]
    lines += [summary(result), ""]
    shown = [p for p in sorted(result.pages, key=lambda p: p.worst) if p.pictures][:worst]
    for p in shown:
        assert p.pictures is not None
        data = base64.b64encode(side_by_side(p.pictures)).decode()
        lines += [
            f"## {p.page.kind}: {p.page.url}",
            "",
            f"screenshot match {fmt(p.screenshot_match)}, text match {fmt(p.text_match)}, "
            f"replay: {p.replay.describe()} ([open the replay]({p.replay_url}))",
            "",
            f"![live | replay | difference of {p.page.url}](data:image/jpeg;base64,{data})",
            "",
            "*live | replay | difference (red: differs, yellow: anti-aliasing)*",
            "",
        ]
    if not shown:
        lines.append("No page could be pictured (see the QA table).")
    if result.pictures_dir is not None:
        lines += ["", f"Full-size pictures: `{result.pictures_dir}` on the machine that ran QA."]
    return "\n".join(lines) + "\n"
