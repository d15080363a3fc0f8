"""ReplayWeb.page on 127.0.0.1: the pinned npm package's own ``ui.js`` and ``sw.js``
(``infra/replaywebpage``, installed by ``make install``), a page embedding one archive through
``<replay-web-page>``, and the archives themselves, with byte ranges (wabac.js reads a WACZ by
ranges) and the MIME types a service worker needs.

Layout served: ``/embed.html?source=NAME&url=URL[&ts=TS]``, ``/ui.js``, ``/replay/sw.js`` (the
worker's scope is ``/replay/``, ReplayWeb.page's default ``replaybase``), ``/archives/NAME``.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs, urlencode, urlsplit

PACKAGE: Final = Path(__file__).resolve().parents[1] / "replaywebpage"
RWP_DIR: Final = PACKAGE / "node_modules" / "replaywebpage"
_RANGE: Final = re.compile(r"bytes=(\d*)-(\d*)$")
_CHUNK: Final = 1024 * 1024
_EMBED: Final = """<!doctype html>
<html><head><meta charset="utf-8"><title>newsvault archive</title>
<script src="/ui.js"></script></head>
<body style="margin:0"><replay-web-page style="height:100vh;display:block" source="{source}"
 url="{url}" ts="{ts}" embed="replay-with-info" replaybase="/replay/"></replay-web-page></body>
</html>
"""


class MissingReplayWebPage(RuntimeError):
    """The npm package is not installed (``make install`` runs ``npm ci`` for it)."""


def static_files(root: Path = RWP_DIR) -> dict[str, tuple[Path, str]]:
    """URL path -> (file, MIME type) of ReplayWeb.page's files as the package ships them."""
    files = {
        "/ui.js": (root / "ui.js", "application/javascript"),
        "/replay/sw.js": (root / "sw.js", "application/javascript"),
    }
    missing = [str(path) for path, _mime in files.values() if not path.is_file()]
    if missing:
        raise MissingReplayWebPage(
            f"{missing[0]} is missing: run `make install` (npm ci in {PACKAGE})"
        )
    return files


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        parts = urlsplit(self.path)
        if parts.path == "/embed.html":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            page = _EMBED.format(
                source=html.escape("/archives/" + query.get("source", "")),
                url=html.escape(query.get("url", "")),
                ts=html.escape(query.get("ts", "")),
            ).encode()
            self._send(200, "text/html; charset=utf-8", len(page), [], b"" if head else page)
            return
        found = self.server.files.get(parts.path)
        if found is None:
            self._send(404, "text/plain", 9, [], b"" if head else b"not found")
            return
        path, mime = found
        size = path.stat().st_size
        start, end = 0, size - 1
        status, extra = 200, [("Accept-Ranges", "bytes")]
        if parts.path.startswith("/replay/"):
            extra.append(("Service-Worker-Allowed", "/replay/"))
        match = _RANGE.match(self.headers.get("Range", ""))
        if match and (match[1] or match[2]):
            if match[1]:
                start, end = int(match[1]), min(int(match[2] or end), end)
            else:
                start = max(size - int(match[2]), 0)
            if start > end:
                self._send(416, "text/plain", 0, [("Content-Range", f"bytes */{size}")], b"")
                return
            status = 206
            extra.append(("Content-Range", f"bytes {start}-{end}/{size}"))
        self._send(status, mime, end - start + 1, extra, None)
        if not head:
            with open(path, "rb") as fh:
                fh.seek(start)
                left = end - start + 1
                while left > 0 and (chunk := fh.read(min(_CHUNK, left))):
                    self.wfile.write(chunk)
                    left -= len(chunk)

    def _send(
        self, status: int, mime: str, length: int, extra: list[tuple[str, str]], body: bytes | None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "no-store")
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the browser asks for many ranges."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    files: dict[str, tuple[Path, str]]


class ReplayWebPageServer:
    """Serves ReplayWeb.page and ``archives`` (name -> file) until the ``with`` block ends."""

    def __init__(self, archives: Mapping[str, Path], port: int = 0, root: Path = RWP_DIR) -> None:
        files = static_files(root)
        for name, path in archives.items():
            files["/archives/" + name] = (path, "application/wacz")
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.files = files
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def embed_url(self, source: str, url: str, ts: str = "") -> str:
        """The page showing ``url`` (at ``ts``, else its latest capture) from archive ``source``."""
        return f"{self.origin}/embed.html?" + urlencode({"source": source, "url": url, "ts": ts})

    def __enter__(self) -> ReplayWebPageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
