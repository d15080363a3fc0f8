"""One HTTP exchange with the replica: how a request becomes bytes on the wire.

The handler writes every byte itself (status line, headers, body), so a ``Behaviour`` can inject
faults (truncated or slow bodies, resets, 5xx bursts). Per response: ``Content-Type`` with
charset, ``Content-Length``, ``Date``, ``Server``, a strong ``ETag`` from the body's SHA-256,
``Last-Modified``, ``Vary: Accept-Encoding`` on text types; articles add two ``Link`` and two
``Set-Cookie`` headers. ``If-None-Match`` / ``If-Modified-Since`` give 304; text types (HTML, XML,
CSS, scripts) are gzipped when asked, deterministically (mtime 0); images and fonts never are.
Gzip'd bodies and digests come from the router's ``caches.Caches``.

A server with ``cdn=True`` is the image CDN's host: it answers ``Router.resolve_cdn`` only.

With ``admin`` (``ReplicaServer(admin=True)``), ``POST /__replica__/day?d=N`` from loopback sets
the day and ``GET /__replica__/day`` reports it; without it these paths are ordinary 404s.
"""

from __future__ import annotations

import re
import socketserver
import sys
from dataclasses import replace
from email.message import Message
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from infra.replica.behaviour import Behaviour, Request
from infra.replica.response import Response
from infra.replica.routes import Router, epoch

LOOPBACK = "127.0.0.1"
SERVER_NAME = "nginx"
ADMIN_DAY_PATH = "/__replica__/day"
MAX_DAY = 100_000
_HOST_RE = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
_COMPRESSIBLE = ("text/", "application/javascript", "application/rss+xml", "application/xml")


def compressible(content_type: str) -> bool:
    """Whether a response of this media type is gzipped when the client asks (text only)."""
    return content_type.startswith(_COMPRESSIBLE)


def _accepts_gzip(header: str | None) -> bool:
    if not header:
        return False
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() not in ("gzip", "x-gzip", "*"):
            continue
        q = params.strip()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    bare = etag.strip('"').removesuffix("-gzip")
    for tag in header.split(","):
        value = tag.strip().removeprefix("W/").strip('"').removesuffix("-gzip")
        if value == bare:
            return True
    return False


def _not_modified(headers: Message, etag: str, response: Response) -> bool:
    inm = headers.get("If-None-Match")
    if inm is not None:
        return _etag_matches(inm, etag)
    ims = headers.get("If-Modified-Since")
    if ims is None or response.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return epoch(response.last_modified) <= epoch(since)


class _DaySetter(Protocol):
    def set_day(self, day: int) -> None: ...

    @property
    def day(self) -> int: ...


class ReplicaHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        router: Router,
        behaviour: Behaviour,
        access_log: bool,
        admin: _DaySetter | None = None,
        cdn: bool = False,
    ) -> None:
        self.router = router
        self.cdn = cdn
        self.behaviour = behaviour
        self.access_log = access_log
        self.admin = admin
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up (timeouts, refused oversized bodies, fault injection) is normal.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a DNS lookup; not needed here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    sys_version = ""
    timeout = 60
    server: ReplicaHTTPServer

    def do_GET(self) -> None:
        self._serve(head_only=False)

    def do_HEAD(self) -> None:
        self._serve(head_only=True)

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > 0:
            self.rfile.read(min(length, 1 << 16))
        if not self._admin():
            self._serve(head_only=False)

    def _admin(self) -> bool:
        """Answer the admin endpoint if it is on and asked for; False to serve normally."""
        admin = self.server.admin
        parts = urlsplit(self.path)
        if admin is None or parts.path != ADMIN_DAY_PATH:
            return False
        if self.client_address[0] not in (LOOPBACK, "::1"):
            self._plain(403, "admin is loopback only\n")
        elif self.command == "GET":
            self._plain(200, f"{admin.day}\n")
        elif self.command != "POST":
            self._plain(405, "use GET or POST\n")
        else:
            value = dict(parse_qsl(parts.query)).get("d", "")
            if not value.isdigit() or int(value) > MAX_DAY:
                self._plain(400, f"d must be a day number 0..{MAX_DAY}\n")
            else:
                admin.set_day(int(value))
                self._plain(200, f"{admin.day}\n")
        return True

    def _plain(self, status: int, text: str) -> None:
        body = text.encode()
        lines = [
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
            f"Date: {self.date_time_string()}",
            f"Server: {SERVER_NAME}",
            "Content-Type: text/plain; charset=utf-8",
            f"Content-Length: {len(body)}",
            "Cache-Control: no-store",
        ]
        if self.close_connection:
            lines.append("Connection: close")
        self.log_request(status, len(body))
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self.wfile.flush()

    def _base(self) -> str:
        host = self.headers.get("Host", "")
        if not _HOST_RE.match(host):
            host = f"{LOOPBACK}:{self.server.server_port}"
        return f"http://{host}"

    def _serve(self, head_only: bool) -> None:
        if self.command == "GET" and self._admin():
            return
        request = Request(self.command, self.path, self.headers, self._base())
        srv = self.server
        router = srv.router
        if srv.cdn:
            found = router.resolve_cdn(self.path)
        else:
            found = router.resolve(self.path, request.base)
        response = srv.behaviour.respond(request, found)
        body = response.body
        text = compressible(response.content_type)
        encoded = text and bool(body) and _accepts_gzip(self.headers.get("Accept-Encoding"))
        if encoded:
            body = router.caches.gzip(body)
        etag = f'"{router.caches.digest(response.body)}{"-gzip" if encoded else ""}"'
        headers: list[tuple[str, str]] = []
        status = response.status
        if status == 200 and _not_modified(self.headers, etag, response):
            response, status, body = replace(response, body=b""), 304, b""
        if status != 304:
            headers.append(("Content-Type", response.content_type))
            headers.append(("Content-Length", str(len(body))))
            if encoded:
                headers.append(("Content-Encoding", "gzip"))
        if text:
            headers.append(("Vary", "Accept-Encoding"))
        if status in (200, 304):
            headers.append(("ETag", etag))
            if response.last_modified is not None:
                stamp = formatdate(epoch(response.last_modified), usegmt=True)
                headers.append(("Last-Modified", stamp))
        headers.extend(response.headers)
        if self.close_connection:
            headers.append(("Connection", "close"))
        reason = HTTPStatus(status).phrase
        lines = [
            f"HTTP/1.1 {status} {reason}",
            f"Date: {self.date_time_string()}",
            f"Server: {SERVER_NAME}",
        ] + [f"{k}: {v}" for k, v in headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.log_request(status, len(body))
        srv.behaviour.send(request, self.wfile, head, b"" if head_only else body)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        if self.server.access_log:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")
