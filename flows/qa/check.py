"""Replay QA of one archived run: pywb over the site's mirror, a sample of the run's pages
rendered live and replayed, each page scored (``flows.qa.measures``), pictures kept on disk."""

from __future__ import annotations

import io
import logging
import socket
import statistics
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import Image

from flows.errors import ConfigError, InfraError
from flows.qa.measures import Resources, text_match
from flows.qa.pixels import compare
from flows.qa.render import Renderer, Rendering, Replay, chromium_path
from flows.qa.sample import Page, sample_run
from flows.replay import mirror_site, running_pywb, write_config
from flows.sites import SiteProfile
from flows.store import Store


@dataclass(frozen=True)
class PageScore:
    page: Page
    replay_url: str  # where `newsvault replay serve` shows it (``link_origin``)
    screenshot_match: float | None  # None: not measured (the live page did not render)
    text_match: float | None
    live: Resources
    replay: Resources
    left: tuple[str, ...]  # requests that left the replay server
    error: str = ""  # why a score is missing or zero
    pictures: tuple[Path, Path, Path] | None = None  # live, replay, difference (PNG)

    @property
    def measured(self) -> bool:
        return self.screenshot_match is not None and self.text_match is not None

    @property
    def worst(self) -> float:
        """The lower of the two scores (1 when not measured: nothing to look at)."""
        if self.screenshot_match is None or self.text_match is None:
            return 1.0
        return min(self.screenshot_match, self.text_match)


@dataclass
class QAResult:
    site: str
    run_id: str
    pages: list[PageScore] = field(default_factory=list)
    pictures_dir: Path | None = None

    def _median(self, values: list[float | None]) -> float | None:
        known = [v for v in values if v is not None]
        return statistics.median(known) if known else None

    @property
    def median_screenshot(self) -> float | None:
        return self._median([p.screenshot_match for p in self.pages])

    @property
    def median_text(self) -> float | None:
        return self._median([p.text_match for p in self.pages])

    @property
    def clean_share(self) -> float:
        """Share of measured pages with no bad in-scope resource replayed."""
        measured = [p for p in self.pages if p.measured]
        return sum(p.replay.bad == 0 for p in measured) / len(measured) if measured else 0.0

    @property
    def left(self) -> int:
        return sum(len(p.left) for p in self.pages)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_pywb(stack: ExitStack, directory: Path, collection: str) -> Replay:
    """pywb on a free port; another port when one was taken meanwhile (a race with another
    server, not a fault of the archive)."""
    attempts = 3
    while True:
        port = free_port()
        try:
            stack.enter_context(running_pywb(directory, collection, port))
            return Replay(f"http://127.0.0.1:{port}", collection)
        except InfraError:
            attempts -= 1
            if not attempts:
                raise


def score_page(
    page: Page, live: Rendering, replayed: Rendering, link: str, pictures: Path | None
) -> PageScore:
    """The measures of one page from its two renderings."""
    base = PageScore(
        page=page,
        replay_url=link,
        screenshot_match=None,
        text_match=None,
        live=Resources.of(live.fetches),
        replay=Resources.of(replayed.fetches),
        left=tuple(replayed.left),
    )
    if live.error or not live.screenshot or live.status >= 400:
        why = live.error or f"live page answered {live.status}"
        return replace(base, error="live: " + why)
    if replayed.error or not replayed.screenshot or replayed.status >= 400:
        why = replayed.error or f"replay answered {replayed.status}"
        return replace(base, screenshot_match=0.0, text_match=0.0, error="replay: " + why)
    one = Image.open(io.BytesIO(live.screenshot))
    two = Image.open(io.BytesIO(replayed.screenshot))
    diff = compare(one, two)
    files = None
    if pictures is not None:
        files = (pictures / "live.png", pictures / "replay.png", pictures / "diff.png")
        pictures.mkdir(parents=True, exist_ok=True)
        for img, path in zip((one, two, diff.diff), files, strict=True):
            img.save(path)
    return replace(
        base,
        screenshot_match=diff.match,
        text_match=text_match(live.text, replayed.text),
        pictures=files,
    )


def run_qa(
    profile: SiteProfile,
    mirror_dir: Path,
    archive_dir: Path,
    index_dir: Path,
    run_id: str,
    size: int,
    out: Path,
    link_origin: str,
    log: Callable[[str], None] | None = None,
) -> QAResult:
    """QA of ``run_id`` (its index in ``index_dir``, the site's mirror) over ``size`` pages;
    pictures under ``out/NN/``. Pages are replayed at their capture's time in this run."""
    log = log or logging.getLogger(__name__).info
    chromium_path()  # missing: one line before pywb starts
    pages = sample_run(profile, index_dir, run_id, size)
    result = QAResult(profile.name, run_id, pictures_dir=out)
    write_config(mirror_dir, profile.name, archive_dir, index_dir)
    shown = Replay(link_origin.rstrip("/"), profile.name)
    with ExitStack() as stack:
        served = _start_pywb(stack, mirror_dir, profile.name)
        renderer = stack.enter_context(Renderer(profile, served))
        for number, page in enumerate(pages):
            live = renderer.live(page.url, page.timestamp)
            replayed = renderer.replayed(page.url, page.timestamp)
            link = shown.url(page.timestamp, page.url)
            scored = score_page(page, live, replayed, link, out / f"{number:02d}")
            result.pages.append(scored)
            log(
                f"qa {number + 1}/{len(pages)} {page.kind} {page.url}: screenshot "
                f"{fmt(scored.screenshot_match)}, text {fmt(scored.text_match)}, replay "
                f"{scored.replay.describe()}{'; ' + scored.error if scored.error else ''}"
                + "".join(f"; bad: {url}" for url in scored.replay.bad_urls[:5])
            )
    return result


def fmt(value: float | None) -> str:
    """A score as the table and the log print it."""
    return "n/a" if value is None else f"{value:.3f}"


def qa_archived_run(
    store: Store,
    profile: SiteProfile,
    run_id: str | None,
    size: int,
    log: Callable[[str], None] | None = None,
) -> tuple[QAResult, list[str]]:
    """QA of an archived run (the latest when ``run_id`` is None) over the site's verified
    mirror (every run: a 304 re-check replays the capture an earlier run made); the QA result
    and what the mirror had to leave out. Pictures go to ``$NEWSVAULT_HOME/qa/SITE/RUN/``."""
    chromium_path()  # missing: one line before anything is downloaded
    mirror = mirror_site(store, profile.name)
    if not mirror.runs:
        raise ConfigError(
            f"no archived run of {profile.name} could be mirrored: `newsvault run "
            f"{profile.name}` archives one (`newsvault ls {profile.name}` lists what is there)"
        )
    run = run_id or max(mirror.runs)
    if run not in mirror.runs:
        raise ConfigError(
            f"run {run} of {profile.name} is not in the archive or could not be mirrored: "
            f"`newsvault ls {profile.name}` lists its runs"
        )
    out = mirror.dir.parent.parent / "qa" / profile.name / run
    result = run_qa(
        profile,
        mirror.dir,
        mirror.archive_dir,
        mirror.index_dir,
        run,
        size,
        out,
        profile.qa.replay_url,
        log,
    )
    return result, mirror.problems
