"""One page rendered in headless Chromium, live or replayed from pywb, the same way both times.

Debian's ``chromium`` driven by Playwright (``executable_path``: Playwright never downloads a
browser here). A fixed 1280x800 viewport at scale 1, a fresh browser context per rendering (no
cache, no cookies), and what is frozen or blocked, the same in both renderings so that what
differs is what the archive got wrong:

- requests out of the crawl's scope (ad, tracker and analytics hosts, and every host neither the
  site's nor a ``[requisites] hosts``) are blocked and counted as excluded by policy: the archive
  never holds them, so live they would only differ (house ads rotate, trackers time out);
- CSS animations and transitions are off, the caret hidden, ``prefers-reduced-motion`` set, and
  the screenshot taken with Playwright's ``animations="disabled"``;
- the clock is fixed at the capture's time (Playwright's clock), so a script printing "today"
  prints the same date live and replayed (pywb's wombat dates replay from the capture as well);
- the screenshot waits for the network to go idle, web fonts and every image;
- a request cancelled before any response (``net::ERR_ABORTED``: a lazy-load script replacing
  an image's placeholder while it loads) is no resource and counts neither good nor bad.

Nothing of the page's own content is hidden: a region that differs, differs in the scores.
Replayed, a request to anywhere but the replay server is blocked and counted (it must be none).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.errors import InfraError
from flows.qa.measures import Fetch, in_scope
from flows.sites import SiteProfile

VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--hide-scrollbars",
    "--font-render-hinting=none",
]
FREEZE_CSS = (
    "*,*::before,*::after{animation:none!important;transition:none!important;"
    "caret-color:transparent!important;scroll-behavior:auto!important}"
)
NAVIGATION_MS = 90_000  # generous: a loaded 2-CPU machine renders slowly, and that is no fault
IDLE_MS = 30_000
_WAIT_FOR_MEDIA = """async () => {
  await document.fonts.ready;
  const pending = [...document.images].filter(i => !i.complete);
  await Promise.all(pending.map(i => new Promise(r => { i.onload = i.onerror = r; })));
  return true;
}"""


def chromium_path() -> Path:
    """Debian's chromium (``NEWSVAULT_CHROMIUM`` elsewhere); missing, one line saying how."""
    path = Path(os.environ.get("NEWSVAULT_CHROMIUM", "/usr/bin/chromium"))
    if not path.is_file():
        raise InfraError(
            f"replay QA needs Chromium at {path}: run `make chromium` (or `apt-get install "
            "chromium` as root), or point NEWSVAULT_CHROMIUM at a Chromium binary"
        )
    return path


@dataclass
class Rendering:
    url: str  # what was opened
    status: int = 0  # the page's own response (0: none)
    screenshot: bytes = b""  # PNG of the first viewport
    text: str = ""
    fetches: list[Fetch] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # requests that left the replay server
    error: str = ""


@dataclass(frozen=True)
class Replay:
    """Where pywb serves the archive: ``{origin}/{collection}/{timestamp}/{url}``."""

    origin: str
    collection: str

    def url(self, timestamp: str, url: str) -> str:
        return f"{self.origin}/{self.collection}/{timestamp}/{url}"

    def original(self, url: str) -> str | None:
        """The site's URL inside a replay URL; None for pywb's own files (``/static/``)."""
        prefix = f"{self.origin}/{self.collection}/"
        if not url.startswith(prefix):
            return None
        found = re.match(r"\d{1,14}(?:[a-z]{2}_)?/(.+)$", url[len(prefix) :], re.DOTALL)
        return found.group(1) if found else None


def capture_time(timestamp: str) -> datetime:
    return datetime.strptime(timestamp.ljust(14, "0")[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


class Renderer:
    """One Chromium for many renderings (a context each)."""

    def __init__(self, profile: SiteProfile, replay: Replay) -> None:
        self.profile = profile
        self.replay = replay
        self._pw: Any = None
        self._browser: Any = None

    def __enter__(self) -> Renderer:
        from playwright.sync_api import sync_playwright

        executable = chromium_path()
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=str(executable), args=CHROMIUM_ARGS
            )
        except Exception as exc:
            self._pw.stop()
            raise InfraError(
                f"Chromium at {executable} did not start ({str(exc).splitlines()[0]}): "
                "reinstall it with `make chromium`"
            ) from exc
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._browser.close()
        finally:
            self._pw.stop()

    def live(self, url: str, timestamp: str) -> Rendering:
        return self._render(url, timestamp, replayed=False)

    def replayed(self, url: str, timestamp: str) -> Rendering:
        return self._render(self.replay.url(timestamp, url), timestamp, replayed=True)

    @contextmanager
    def _context(self, timestamp: str) -> Iterator[Any]:
        context = self._browser.new_context(
            viewport=VIEWPORT,
            device_scale_factor=1,
            reduced_motion="reduce",
            locale="en-US",
            timezone_id="UTC",
            service_workers="block",
        )
        try:
            context.clock.set_fixed_time(capture_time(timestamp))
            context.add_init_script(
                "document.addEventListener('DOMContentLoaded', () => {"
                f"const s = document.createElement('style'); s.textContent = {FREEZE_CSS!r};"
                "document.documentElement.appendChild(s); });"
            )
            yield context
        finally:
            context.close()

    def _render(self, url: str, timestamp: str, *, replayed: bool) -> Rendering:
        out = Rendering(url)
        seen: dict[int, Fetch] = {}
        with self._context(timestamp) as context:
            page = context.new_page()

            def route(route: Any) -> None:
                target = route.request.url
                if replayed and not target.startswith(self.replay.origin + "/"):
                    out.left.append(target)
                    route.abort("blockedbyclient")
                    return
                original = self.replay.original(target) if replayed else target
                if original is not None and not in_scope(self.profile, original):
                    route.abort("blockedbyclient")
                    return
                route.continue_()

            def record(request: Any, status: int) -> None:
                if request.is_navigation_request() and request.frame == page.main_frame:
                    return  # the page itself, not one of its resources
                original = self.replay.original(request.url) if replayed else request.url
                if original is not None and original.startswith(("http://", "https://")):
                    seen[id(request)] = Fetch(original, status, in_scope(self.profile, original))

            def failed(request: Any) -> None:
                """A failure, unless cancelled (``ERR_ABORTED``): then the response it had
                counts (a 404 stylesheet Chromium refuses is still a 404), and one that had
                none is no resource (a lazy-load script swapping an image's ``src`` mid-flight
                cancels the placeholder's request)."""
                if "ERR_ABORTED" not in str(request.failure or ""):
                    record(request, 0)

            context.route("**/*", route)
            page.on("response", lambda r: record(r.request, r.status))
            page.on("requestfailed", lambda r: failed(r))
            try:
                response = page.goto(url, wait_until="load", timeout=NAVIGATION_MS)
                out.status = response.status if response is not None else 0
                self._settle(page)
                out.text = str(page.evaluate("() => document.body ? document.body.innerText : ''"))
                out.screenshot = page.screenshot(animations="disabled", caret="hide", scale="css")
            except Exception as exc:  # noqa: BLE001 (one page that will not render is reported)
                out.error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        out.fetches = list(seen.values())
        return out

    @staticmethod
    def _settle(page: Any) -> None:
        """Network idle, fonts and images loaded; a page that never settles is taken as is."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            page.wait_for_load_state("networkidle", timeout=IDLE_MS)
        except PlaywrightTimeout:
            pass
        try:
            page.wait_for_function(_WAIT_FOR_MEDIA, timeout=IDLE_MS)
        except PlaywrightTimeout:
            pass
