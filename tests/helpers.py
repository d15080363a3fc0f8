"""Helpers shared by the test modules (fixtures stay in conftest.py): the shared folder, the CLI
and S3 of a local stack, hand-made spooled runs, free ports and listening sockets, HTTP requests
to the replica, waiting for a condition, and the pinned WARC spool of the golden tests. Test
modules import from here, never from each other."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import importlib.util
import itertools
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html
import pytest
from lxml import etree

from flows.derive.articles import write_jsonl_gz
from flows.orchestrate.crawl import CrawlResult
from flows.qa import CHROMIUM_ARGS as QA_CHROMIUM_ARGS
from flows.sites import SiteProfile
from flows.store.manifest import build_manifest, write_manifest
from flows.store.runs import Keys, RunPaths
from flows.store.s3 import Store, StoreConfig, make_client
from infra.local import control as local
from infra.local.control import LocalStack, Ports
from infra.replica import Behaviour, ReplicaServer, Request
from infra.replica.response import Response
from spiders.warcspool import Exchange, WarcSpool

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[1]
NEWSVAULT = str(Path(sys.executable).with_name("newsvault"))


# ---- the shared folder (seed article, extraction dev set) ---------------------------------------


def shared_dir() -> Path:
    """The project's shared folder (seed article, extraction dev set): $NEWSVAULT_SHARED, else
    ``../shared`` beside the repository, else /work/shared (CI may clone elsewhere)."""
    candidates = [
        os.environ.get("NEWSVAULT_SHARED", ""),
        str(REPO.parent / "shared"),
        "/work/shared",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "seed").is_dir():
            return Path(candidate)
    pytest.fail("the shared folder (seed/, extraction-dev/) was not found: set NEWSVAULT_SHARED")


def dev_set_dir() -> Path:
    """The shared extraction development set (``extraction-dev``); fails the test, saying what
    to set, when it is missing."""
    dev = shared_dir() / "extraction-dev"
    if not (dev / "pages.json").is_file():
        pytest.fail(f"development set missing: {dev}; set NEWSVAULT_SHARED")
    return dev


def bench_module(name: str) -> ModuleType:
    """``bench/<name>.py`` imported as a module (bench/ is scripts, not a package), so tests
    score exactly as the benchmark does."""
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def shared_file(relative: str) -> Path:
    path = shared_dir() / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing from the shared folder; set NEWSVAULT_SHARED")
    return path


# ---- the session's crawl, and runs made by hand from it ----------------------------------------


@dataclass(frozen=True)
class Crawled:
    """What the session fixture ``crawled`` holds: one real crawl of the replica."""

    profile: SiteProfile
    run: RunPaths
    result: CrawlResult


def seal_test_run(run: RunPaths, prefix: str) -> None:
    """Write the manifest of a hand-made spooled run, as processing would (for store tests)."""
    keys = Keys(prefix, run.site, run.run_id)
    manifest = build_manifest(
        run,
        keys,
        base_url="http://x",
        started_at=datetime.now(UTC),
        counts={
            "responses": 0,
            "responses_by_status": {},
            "article_pages": 0,
            "articles": 0,
            "aliases": 0,
            "extraction_failures": 0,
            "new_articles": 0,
            "new_versions": 0,
            "unchanged": 0,
            "near_duplicates": 0,
            "deletions": 0,
            "restored": 0,
            "records": {"response": 0, "revisit": 0},
            "cdxj_lines": 0,
        },
        crawl={},
        cleaner_version="test",
    )
    write_manifest(run, manifest)


def spooled_run(
    crawled: Crawled, spool: Path, run_id: str, prefix: str, warcs: int | None = None
) -> RunPaths:
    """A run that was processed but never stored (as if S3 had been down): the crawl's WARC
    files (the first ``warcs`` of them, or all), no articles, a manifest."""
    run = RunPaths.create(spool, "replica", run_id)
    for warc in crawled.result.warc_files[:warcs]:
        shutil.copy(warc, run.warc_dir / warc.name)
    write_jsonl_gz(run.articles, [])
    seal_test_run(run, prefix)
    return run


# ---- the CLI and S3 of a local stack -----------------------------------------------------------


def shell_env() -> dict[str, str]:
    """The caller's environment without any S3, Prefect or newsvault setting: a new shell."""
    prefixes = ("AWS_", "NEWSVAULT_", "PREFECT_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def stack_home_env(stack: LocalStack) -> dict[str, str]:
    """What `newsvault up`/`down` need to start or stop ``stack`` (its home and ports) in a
    new shell."""
    env = shell_env()
    env.update(
        NEWSVAULT_HOME=str(stack.home),
        NEWSVAULT_S3_PORT=str(stack.s3_port),
        NEWSVAULT_PREFECT_PORT=str(stack.prefect_port),
    )
    return env


def cli_env(stack: LocalStack, spool: Path, **extra: str) -> dict[str, str]:
    """The environment of a `newsvault` command against ``stack``, nothing of the caller's."""
    env = shell_env()
    env.update(local.env_vars(stack))
    env.update(
        NEWSVAULT_HOME=str(stack.home),
        NEWSVAULT_SPOOL=str(spool),
        PREFECT_API_URL=stack.prefect_api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    env.update(extra)
    return env


def newsvault(
    *args: str, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NEWSVAULT, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


# Prefect's events worker may log while the interpreter exits, after newsvault's error line.
_EXIT_LOG = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| \w+ +\| EventsWorker - ")


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The last line of stderr (but for Prefect's events worker draining at exit), which must
    be newsvault's one-line error."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    while lines and _EXIT_LOG.match(lines[-1]):
        lines.pop()
    assert lines, proc.stdout[-3000:]
    assert lines[-1].startswith("newsvault: error: "), proc.stderr[-3000:]
    return lines[-1]


def store_config(stack: LocalStack) -> StoreConfig:
    return StoreConfig.from_env(cli_env(stack, Path("/nonexistent")))


def s3(stack: LocalStack) -> S3Client:
    key, secret = local.credentials(stack)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", key)  # boto3 reads credentials from here only
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", secret)
    return make_client(store_config(stack))


def store(stack: LocalStack) -> Store:
    """The ``Store`` the CLI would use on the stack (its client: ``s3(stack)``)."""
    return Store(store_config(stack), s3(stack))


def objects(stack: LocalStack, prefix: str) -> dict[str, int]:
    """Key -> size of every object under ``prefix`` in the stack's bucket."""
    client = s3(stack)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=prefix)
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def get(stack: LocalStack, key: str, range_: str | None = None) -> bytes:
    client = s3(stack)
    if range_:
        return client.get_object(Bucket=stack.bucket, Key=key, Range=range_)["Body"].read()
    return client.get_object(Bucket=stack.bucket, Key=key)["Body"].read()


# ---- ports, stacks and listening sockets -------------------------------------------------------


def free_port() -> int:
    """A port nothing listens on now (the OS's pick), for a server a test starts."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pick_stack(home: Path) -> LocalStack:
    """A local stack whose every port (all SeaweedFS ports, shifted together, and Prefect) is
    free, so tests never meet a developer's stack or each other's."""
    rng = random.Random()  # ports only: no assertion depends on them
    for _ in range(200):
        s3_port = rng.randrange(20000, 30000)
        ports = Ports.for_s3_port(s3_port)
        if all(local.port_is_free(p) for p in ports.as_dict().values()):
            prefect_port = rng.randrange(40000, 45000)
            if prefect_port not in ports.as_dict().values() and local.port_is_free(prefect_port):
                return LocalStack(home=home, s3_port=s3_port, prefect_port=prefect_port)
    raise RuntimeError("no free port range found")


def tcp_listeners(inodes: set[str] | None = None) -> list[tuple[str, int]]:
    """(address, port) of the listening TCP sockets in /proc/net (those with one of ``inodes``
    when given)."""
    found: list[tuple[str, int]] = []
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            local_addr, state, inode = cols[1], cols[3], cols[9]
            if state != "0A" or (inodes is not None and inode not in inodes):  # 0A = LISTEN
                continue
            hex_ip, hex_port = local_addr.split(":")
            raw = bytes.fromhex(hex_ip)
            if family == socket.AF_INET6:
                raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
            else:
                raw = raw[::-1]
            found.append((socket.inet_ntop(family, raw), int(hex_port, 16)))
    return found


# ---- HTTP to the replica -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    msg: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.msg.get(name)

    def all(self, name: str) -> list[str]:
        return self.msg.get_all(name) or []

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def fetch(
    port: int, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> Reply:
    """One request to 127.0.0.1:``port``, on its own connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.msg, resp.read())
    finally:
        conn.close()


def xpath_elements(node: etree._Element, path: str) -> list[etree._Element]:
    """The elements an XPath selects (fails on a result of another kind)."""
    found = node.xpath(path)
    assert isinstance(found, list), (path, found)
    return [e for e in found if isinstance(e, etree._Element)]


class Gate(Behaviour):
    """A replica behaviour: article pages after the first ``after`` wait until the test opens
    the gate, so a crawl cannot finish, nor a run holding a lock or a concurrency slot end,
    before the test has done its part, however fast or slow the machine. Give the crawl a
    DOWNLOAD_TIMEOUT longer than the wait."""

    def __init__(self, after: int = 0) -> None:
        self.open, self.after, self.served = threading.Event(), after, 0
        self._count = threading.Lock()

    def respond(self, request: Request, response: Response) -> Response:
        if request.target.startswith("/20"):
            with self._count:
                self.served += 1
                waits = self.served > self.after
            if waits:
                self.open.wait(timeout=600)
        return response


@contextlib.contextmanager
def replica_process(*args: str) -> Iterator[tuple[int, str, subprocess.Popen[str]]]:
    """``python -m infra.replica`` on a free port: (port, its first line, the process); killed
    on exit if the test did not stop it."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.replica", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        yield port, proc.stdout.readline().strip(), proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---- waiting for a condition -------------------------------------------------------------------


def writers_into(directory: Path) -> list[int]:
    """The processes holding a file of ``directory`` open: a killed crawl's WARC writer process
    goes on writing what it was sent, then exits (``spiders.memberwriter``)."""
    found = []
    for fd_dir in Path("/proc").glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            for fd in fd_dir.iterdir():
                with contextlib.suppress(OSError):
                    if Path(os.readlink(fd)).parent == directory:
                        found.append(int(fd_dir.parent.name))
                        break
    return found


def wait_for(
    what: str, check: Callable[[], T | None], timeout: float = 180, every: float = 1.0
) -> T:
    """``check()``'s first truthy answer, asked every ``every`` seconds; fails after ``timeout``
    (a bound against hanging, not a measurement: tests wait for conditions, never for time)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def warcio_check(path: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """``warcio check`` of one file (returncode 0: every digest verified)."""
    return subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *flags, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


# ---- the pinned WARC spool of the golden tests (tests/golden) ----------------------------------

WHEN = datetime(2017, 7, 23, 14, 32, 5, 123456, tzinfo=UTC)
BODY = gzip.compress(b"<html><body><p>caf\xc3\xa9</p></body></html>", mtime=0)


def pinned_spool(
    directory: Path, max_size: int = 10_000_000, *, background: bool = False
) -> WarcSpool:
    """A spool with a pinned clock and record ids counting from 1: the same bytes every time."""
    counter = itertools.count(1)
    return WarcSpool(
        directory,
        "replica-20170723T143205Z-abcdef",
        {"software": "newsvault/test", "format": "WARC File Format 1.1", "robots": "obey"},
        max_size=max_size,
        clock=lambda: WHEN,
        new_id=lambda: f"<urn:uuid:00000000-0000-4000-8000-{next(counter):012d}>",
        background=background,
    )


def exchange(url: str = "http://127.0.0.1:8765/page/2/?utm_source=x&b=1") -> Exchange:
    return Exchange(
        url=url,
        method=b"GET",
        request_target=b"/page/2/?utm_source=x&b=1",
        request_headers=(
            (b"Host", b"127.0.0.1:8765"),
            (b"Accept-Encoding", b"gzip, deflate"),
            (b"User-Agent", b"newsvault/test"),
        ),
        request_body=b"",
        status=200,
        response_headers=(
            (b"Content-Type", b"text/html; charset=UTF-8"),
            (b"Content-Encoding", b"gzip"),
            (b"Transfer-Encoding", b"chunked"),
            (b"Set-Cookie", b"a=1; Path=/"),
            (b"Set-Cookie", b"b=2; Path=/"),
            (b"Link", b'<http://127.0.0.1:8765/wp-json/>; rel="https://api.w.org/"'),
            (b"Link", b"<http://127.0.0.1:8765/?p=9131>; rel=shortlink"),
            (b"X-Caf\xc3\xa9", b"d\xe9j\xe0 vu"),
        ),
        response_body=BODY,
        fetched_at=WHEN,
        ip_address="127.0.0.1",
    )


HTML = "text/html; charset=UTF-8"


def documents_warc(
    directory: Path, documents: list[tuple[str, str, bytes]], *, gzipped: bool = False
) -> Path:
    """The documents (url, content type, body) as response records of one pinned WARC file;
    ``gzipped`` sends the bodies with Content-Encoding gzip, as sites do."""
    spool = pinned_spool(directory)
    for url, kind, body in documents:
        headers: tuple[tuple[bytes, bytes], ...] = ((b"Content-Type", kind.encode()),)
        if gzipped:
            headers += ((b"Content-Encoding", b"gzip"),)
            body = gzip.compress(body, mtime=0)
        target = urlsplit(url)._replace(scheme="", netloc="").geturl() or "/"
        spool.write_exchange(
            replace(
                exchange(url),
                request_target=target.encode(),
                response_headers=headers,
                response_body=body,
            )
        )
    (path,) = spool.close()
    return path


@contextlib.contextmanager
def replay_serve(
    env: dict[str, str], site: str = "replica"
) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``newsvault replay serve SITE`` on a free port, once it says where it listens: (port,
    process); stopped with SIGTERM at the end if still running (a SIGKILL would leave its pywb
    child behind), killed only if that fails."""
    port = free_port()
    proc = subprocess.Popen(
        [NEWSVAULT, "replay", "serve", site, "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    assert f"http://127.0.0.1:{port}/{site}/" in line, line + proc.stderr.read()
    try:
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def decompressed(path: Path) -> bytes:
    return gzip.decompress(path.read_bytes())


# ---- the Prefect API of a local stack -----------------------------------------------------------


def prefect_api(stack: LocalStack, method: str, path: str, body: Any = None) -> Any:
    """One Prefect API call, retried as Prefect's own client retries it: a loaded server answers
    429/502/503 for a while (seen in CI: 503 on create_flow_run with the machine at load 9)."""
    for attempt in range(6):
        response = httpx.request(method, stack.prefect_api_url + path, json=body, timeout=30)
        if response.status_code not in (429, 502, 503) or attempt == 5:
            break
        time.sleep(2**attempt)
    response.raise_for_status()
    return response.json() if response.content else None


def run_report(stack: LocalStack, run_id: str, site: str = "replica") -> str:
    """The markdown of the run report artifact of one archive run."""
    found = prefect_api(
        stack,
        "POST",
        "/artifacts/filter",
        {"artifacts": {"key": {"any_": [f"{site}-run-report"]}}},
    )
    reports = [a["data"] for a in found if run_id in (a.get("data") or "")]
    assert reports, "no run report artifact for " + run_id
    return str(reports[0])


# ---- a headless browser (Debian's chromium, driven by Playwright; never a downloaded browser) --

CHROMIUM = Path(os.environ.get("NEWSVAULT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = QA_CHROMIUM_ARGS  # headless, no sandbox, nothing fetched in the background


def chromium_or_skip() -> Path:
    """The system chromium. `make install` installs it, so its absence fails the test (a skip
    would hide a replay that was never looked at)."""
    if not CHROMIUM.is_file():
        pytest.fail(f"no {CHROMIUM}: `make chromium` installs Debian's chromium")
    return CHROMIUM


# ---- the replica's page requisites, found from HTML and CSS independently of the spider --------

# url("..."), url('...'), url(...); @import "..." or @import url(...)
CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""")
CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]*)"|'([^']*)')""")
REQUISITE_RELS = {"stylesheet", "icon", "apple-touch-icon", "preload", "shortcut"}


@dataclass(frozen=True)
class AssetReply:
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def fetch_url(url: str, headers: dict[str, str] | None = None) -> AssetReply:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=30)
    try:
        conn.request("GET", target, headers=headers or {})
        resp = conn.getresponse()
        return AssetReply(resp.status, resp.msg, resp.read())
    finally:
        conn.close()


def css_refs(text: str, base_url: str) -> list[str]:
    found = ["".join(groups) for groups in CSS_URL.findall(text) + CSS_IMPORT.findall(text)]
    return [urljoin(base_url, u) for u in found if u and not u.startswith("data:")]


def srcset_urls(value: str) -> list[str]:
    return [item.split()[0] for item in value.split(",") if item.strip()]


def _elements(doc: lxml.html.HtmlElement, path: str) -> list[lxml.html.HtmlElement]:
    found = doc.xpath(path)
    assert isinstance(found, list)
    return [e for e in found if isinstance(e, lxml.html.HtmlElement)]


def _strings(doc: lxml.html.HtmlElement, path: str) -> list[str]:
    found = doc.xpath(path)
    assert isinstance(found, list)
    return [str(s) for s in found]


def page_refs(html: bytes, page_url: str) -> list[str]:
    """Everything a browser loads for the page: links, scripts, images, CSS in the page."""
    doc = lxml.html.fromstring(html)
    refs: list[str] = []
    for link in _elements(doc, "//link[@href]"):
        if REQUISITE_RELS & set((link.get("rel") or "").lower().split()):
            refs.append(link.get("href") or "")
    refs += _strings(doc, "//script/@src")
    for img in _elements(doc, "//img | //source"):
        refs += [img.get(attr) or "" for attr in ("src", "data-src") if img.get(attr)]
        for attr in ("srcset", "data-srcset"):
            refs += srcset_urls(img.get(attr) or "")
    out = [urljoin(page_url, r) for r in refs if r and not r.startswith("data:")]
    for style in _strings(doc, "//style/text()") + _strings(doc, "//@style"):
        out += css_refs(style, page_url)
    return out


@dataclass
class Requisites:
    served: dict[str, AssetReply]  # in scope: the site's and the CDN's hosts
    external: set[str]  # hosts referenced and never fetched


def requisites(server: ReplicaServer, path: str) -> Requisites:
    """Fetch a page, then every in-scope requisite, following stylesheets recursively."""
    assert server.cdn_url is not None
    scope = {urlsplit(server.base_url).netloc, urlsplit(server.cdn_url).netloc}
    page_url = server.base_url + path
    page = fetch_url(page_url)
    assert page.status == 200
    todo, served, external = page_refs(page.body, page_url), {}, set()
    while todo:
        url = todo.pop()
        netloc = urlsplit(url).netloc
        if netloc not in scope:
            external.add(urlsplit(url).hostname or "")
            continue
        if url in served:
            continue
        reply = served[url] = fetch_url(url)
        if (reply.header("Content-Type") or "").startswith("text/css"):
            todo += css_refs(reply.body.decode(), url)
    return Requisites(served, external)
