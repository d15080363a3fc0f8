"""The replica's HTTP server: stdlib ``ThreadingHTTPServer`` on 127.0.0.1, HTTP/1.1 keep-alive
(``handler`` answers each request).

Time: ``ReplicaServer.set_day(d)`` moves a running replica to day ``d`` (a new ``Site`` and
``Router``, swapped under a lock, so render caches start empty; requests in flight finish on the
old day). A replica in another process can be moved by the opt-in admin endpoint
(``admin=True``, ``--admin``; see ``handler``).
"""

from __future__ import annotations

import errno
import signal
import threading
from types import FrameType, TracebackType

from flows.errors import InfraError
from infra.replica.behaviour import Behaviour
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
        cache_size: int = 256,
        admin: bool = False,
    ) -> None:
        if host not in (LOOPBACK, "localhost"):
            raise ValueError(f"the replica binds to {LOOPBACK} only, not {host!r}")
        self.host = LOOPBACK
        self.requested_port = port
        self.site = site if site is not None else Site(articles=articles, seed=seed, day=day)
        self.router = Router(self.site, cache_size)
        self.behaviour = behaviour if behaviour is not None else Behaviour()
        self.access_log = access_log
        self.admin = admin
        self._cache_size = cache_size
        self._day_lock = threading.Lock()
        self._httpd: ReplicaHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> ReplicaHTTPServer:
        """Bind the socket (InfraError if the port is taken) without serving yet."""
        if self._httpd is None:
            try:
                self._httpd = ReplicaHTTPServer(
                    (self.host, self.requested_port),
                    self.router,
                    self.behaviour,
                    self.access_log,
                    self if self.admin else None,
                )
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise InfraError(
                        f"port {self.requested_port} on {self.host} is taken; "
                        "stop what uses it or pass --port"
                    ) from exc
                raise InfraError(
                    f"cannot listen on {self.host}:{self.requested_port}: {exc.strerror}"
                ) from exc
        return self._httpd

    def start(self) -> ReplicaServer:
        httpd = self.bind()
        if self._thread is None:
            self._thread = threading.Thread(
                target=httpd.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"replica-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    @property
    def day(self) -> int:
        return self.site.day

    def set_day(self, day: int) -> None:
        """Serve the site as of ``day`` from now on (thread-safe; render caches start empty)."""
        if day < 0:
            raise ValueError("the replica's day starts at 0")
        with self._day_lock:
            site = self.site.at_day(day)
            router = Router(site, self._cache_size)
            self.site, self.router = site, router
            if self._httpd is not None:
                self._httpd.router = router

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the replica server is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._httpd is not None:
            if self._thread is not None:
                self._httpd.shutdown()
                self._thread.join()
            self._httpd.server_close()
        self._httpd, self._thread = None, None

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
) -> None:
    """Serve the replica in the foreground until SIGINT or SIGTERM; InfraError if the port is taken.

    Prints ``replica: serving N articles at http://127.0.0.1:P/`` once listening (``announce``).
    ``admin`` turns on ``POST /__replica__/day?d=N`` (loopback only). ``faults`` is a fault spec
    (``infra.replica.faults``).
    """
    server = ReplicaServer(
        articles, seed, day, port=port, host=host, access_log=access_log, admin=admin
    )
    if faults:
        server.behaviour = FaultBehaviour.parse(faults, day_of=lambda: server.day)
    httpd = server.bind()
    if announce:
        print(f"replica: serving {articles} articles at {server.base_url}/", flush=True)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main else None
    try:
        httpd.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, _Terminate):
        pass
    finally:
        httpd.server_close()
        if main:
            signal.signal(signal.SIGTERM, previous)
