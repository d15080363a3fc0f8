"""The replica's HTTP server: stdlib ``ThreadingHTTPServer`` on 127.0.0.1, HTTP/1.1 keep-alive
(``handler`` answers each request), and the image CDN's host beside it (``assets.Cdn``: by
default 127.0.0.2 on the same port; ``cdn=None`` serves every image from the site itself).

Time: ``ReplicaServer.set_day(d)`` moves a running replica to day ``d`` (a new ``Site`` and
``Router``, swapped under a lock, so render caches start empty; requests in flight finish on the
old day). ``cache_size`` bounds every per-response cache of the server (``caches``; None: every
response is cached, as a remote site's page cache would). A replica in another process can be
moved by the opt-in admin endpoint (``admin=True``, ``--admin``; see ``handler``).
"""

from __future__ import annotations

import errno
import ipaddress
import signal
import threading
from types import FrameType, TracebackType

from flows.errors import InfraError
from infra.replica.assets import DEFAULT_CDN, Cdn
from infra.replica.behaviour import Behaviour
from infra.replica.caches import DEFAULT_SIZE, Caches
from infra.replica.content import Site
from infra.replica.faults import FaultBehaviour
from infra.replica.handler import LOOPBACK, ReplicaHTTPServer
from infra.replica.routes import Router


class ReplicaServer:
    """The replica on 127.0.0.1 in a background thread; ``port=0`` picks a free port."""

    def __init__(
        self,
        articles: int = 200,
        seed: int = 1,
        day: int = 0,
        *,
        port: int = 0,
        host: str = LOOPBACK,
        site: Site | None = None,
        behaviour: Behaviour | None = None,
        access_log: bool = False,
        cache_size: int | None = DEFAULT_SIZE,
        admin: bool = False,
        cdn: Cdn | None = DEFAULT_CDN,
    ) -> None:
        if host not in (LOOPBACK, "localhost"):
            raise ValueError(f"the replica binds to {LOOPBACK} only, not {host!r}")
        if cdn is not None and not _other_loopback(cdn.host):
            raise ValueError(f"the image CDN needs a loopback address other than {LOOPBACK}")
        self.host = LOOPBACK
        self.requested_port = port
        self.cdn = cdn
        self.site = site if site is not None else Site(articles=articles, seed=seed, day=day)
        self.caches = Caches.sized(cache_size)
        self.router = Router(self.site, self.caches, cdn)
        self.behaviour = behaviour if behaviour is not None else Behaviour()
        self.access_log = access_log
        self.admin = admin
        self._day_lock = threading.Lock()
        self._httpd: ReplicaHTTPServer | None = None
        self._cdn_httpd: ReplicaHTTPServer | None = None
        self._threads: dict[bool, threading.Thread] = {}  # serving threads by "is the CDN"

    def bind(self) -> ReplicaHTTPServer:
        """Bind the sockets (InfraError if a port is taken) without serving yet.

        With ``port=0`` the CDN takes the site's free port on its own address; should that one be
        taken there, both are bound again on another port."""
        if self._httpd is not None:
            return self._httpd
        for attempt in range(8):
            httpd = self._listen(self.host, self.requested_port, "--port", cdn=False)
            if self.cdn is None:
                self._httpd = httpd
                break
            port = self.cdn.port or int(httpd.server_address[1])
            try:
                self._cdn_httpd = self._listen(self.cdn.host, port, "--cdn-port", cdn=True)
            except InfraError:
                httpd.server_close()
                if self.requested_port or self.cdn.port or attempt == 7:
                    raise
                continue
            self._httpd = httpd
            break
        assert self._httpd is not None
        return self._httpd

    def _listen(self, host: str, port: int, flag: str, cdn: bool) -> ReplicaHTTPServer:
        admin = self if self.admin and not cdn else None
        try:
            return ReplicaHTTPServer(
                (host, port), self.router, self.behaviour, self.access_log, admin, cdn
            )
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InfraError(
                    f"port {port} on {host} is taken; stop what uses it or pass {flag}"
                ) from exc
            hint = " (pass --no-cdn to serve images from the site)" if cdn else ""
            raise InfraError(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from exc

    def start(self) -> ReplicaServer:
        """Serve the site and the CDN in background threads."""
        httpd = self.bind()
        if not self._threads:
            self._in_thread(httpd)
            self.start_cdn()
        return self

    def start_cdn(self) -> None:
        """Serve the CDN in a background thread (``serve_forever`` serves the site itself)."""
        self.bind()
        if self._cdn_httpd is not None and True not in self._threads:
            self._in_thread(self._cdn_httpd)

    def _in_thread(self, httpd: ReplicaHTTPServer) -> None:
        thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"replica-{self.port}-{'cdn' if httpd.cdn else 'site'}",
            daemon=True,
        )
        thread.start()
        self._threads[httpd.cdn] = thread

    @property
    def day(self) -> int:
        return self.site.day

    def set_day(self, day: int) -> None:
        """Serve the site as of ``day`` from now on (thread-safe; render caches start empty)."""
        if day < 0:
            raise ValueError("the replica's day starts at 0")
        with self._day_lock:
            site = self.site.at_day(day)
            router = Router(site, self.caches, self.cdn)
            self.site, self.router = site, router
            for httpd in (self._httpd, self._cdn_httpd):
                if httpd is not None:
                    httpd.router = router

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the replica server is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def cdn_url(self) -> str | None:
        """The image CDN's origin (``http://127.0.0.2:P``), None without a CDN."""
        if self._cdn_httpd is None or self.cdn is None:
            return None
        return f"http://{self.cdn.host}:{self._cdn_httpd.server_address[1]}"

    def stop(self) -> None:
        """Stop serving (threads, or what ``serve_forever`` left) and close the sockets."""
        for httpd in (self._httpd, self._cdn_httpd):
            if httpd is not None:
                if httpd.cdn in self._threads:
                    httpd.shutdown()
                httpd.server_close()
        for thread in self._threads.values():
            thread.join()
        self._httpd, self._cdn_httpd, self._threads = None, None, {}

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class _Terminate(BaseException):
    """Raised from the SIGTERM handler to leave ``serve_forever``. A ``BaseException``, as
    ``KeyboardInterrupt`` is: socketserver catches ``Exception`` raised while it starts a handler
    thread, prints it and serves on, so a SIGTERM landing there was lost (seen once in ~8 stops)."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminate


def _other_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback and address.version == 4 and str(address) != LOOPBACK


def serve_forever(
    host: str = LOOPBACK,
    port: int = 8765,
    articles: int = 200,
    seed: int = 1,
    day: int = 0,
    *,
    access_log: bool = False,
    announce: bool = True,
    admin: bool = False,
    faults: str | None = None,
    cdn: Cdn | None = DEFAULT_CDN,
    cache_size: int | None = DEFAULT_SIZE,
) -> None:
    """Serve the replica in the foreground until SIGINT or SIGTERM; InfraError if a port is taken.

    Prints ``replica: serving N articles at http://127.0.0.1:P/ (images also at
    http://127.0.0.2:P/)`` once listening (``announce``). ``admin`` turns on
    ``POST /__replica__/day?d=N`` (loopback only). ``faults`` is a fault spec
    (``infra.replica.faults``); ``cdn`` the image CDN's address (None: no CDN); ``cache_size``
    bounds every per-response cache (None: unbounded).
    """
    server = ReplicaServer(
        articles,
        seed,
        day,
        port=port,
        host=host,
        access_log=access_log,
        admin=admin,
        cdn=cdn,
        cache_size=cache_size,
    )
    if faults:
        server.behaviour = FaultBehaviour.parse(faults, day_of=lambda: server.day)
    httpd = server.bind()
    if announce:
        images = f" (images also at {server.cdn_url}/)" if server.cdn_url else ""
        print(f"replica: serving {articles} articles at {server.base_url}/{images}", flush=True)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main else None
    try:
        server.start_cdn()
        httpd.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, _Terminate):
        pass
    finally:
        server.stop()
        if main:
            signal.signal(signal.SIGTERM, previous)
