"""Crawl-level fidelity over real HTTP: a small fixture site with redirects, errors, binaries,
a gzip sitemap, a 304 and a duplicate payload, crawled by the real spider and recorder."""

from __future__ import annotations

import gzip
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.orchestrate.crawl import run_crawl
from flows.sites import load_profile
from flows.store.runs import RunPaths
from spiders.warcspool import payload_digest

pytestmark = pytest.mark.e2e
Found = dict[str, list[tuple[str, int, Any]]]  # URI -> (record type, status, warcio record)
PNG = bytes(range(256)) * 4 + b"\x89PNG\r\n\x1a\n\x00\xff"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
PAGE = b"<html><head><title>A</title></head><body><p>same body</p></body></html>"
PATHS = ["/2020/01/a/", "/2020/01/dup/", "/2020/01/q/?x=1&y=2", "/2020/01/hop1/", "/2020/01/gone/"]
PATHS += [
    "/2020/01/chunked/",
    "/2020/01/err/",
    "/2020/01/notmod/",
    "/files/pic.png",
    "/files/doc.pdf",
]


def sitemap(base: str) -> bytes:
    urls = "".join(f"<url><loc>{base}{p.replace('&', '&amp;')}</loc></url>" for p in PATHS)
    xml = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    return gzip.compress(xml.encode(), mtime=0)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def do_GET(self) -> None:
        base = f"http://{self.headers['Host']}"
        html = [("Content-Type", "text/html; charset=UTF-8")]
        match self.path:
            case "/robots.txt":
                self.send(200, f"User-agent: *\nSitemap: {base}/sitemap.xml.gz\n".encode(), [])
            case "/sitemap.xml.gz":
                self.send(200, sitemap(base), [("Content-Type", "application/x-gzip")])
            case "/2020/01/a/" | "/2020/01/dup/" | "/2020/01/q/?x=1&y=2":
                gz = gzip.compress(PAGE, mtime=0)
                extra = [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
                extra += [("Vary", "Cookie"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
                self.send(200, gz, html + extra)
            case "/2020/01/chunked/":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for part in (b"first part, ", b"second part"):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
            case "/2020/01/hop1/":
                self.send(301, b"", [("Location", f"{base}/2020/01/hop2/")])
            case "/2020/01/hop2/":
                self.send(302, b"", [("Location", f"{base}/2020/01/final/")])
            case "/2020/01/final/":
                self.send(200, b"<html><body>final</body></html>", html)
            case "/2020/01/gone/":
                self.send(404, b"<html>not found</html>", html)
            case "/2020/01/err/":
                self.send(503, b"<html>down</html>", html)
            case "/2020/01/notmod/":
                self.send(304, b"", [("ETag", '"v1"')])
            case "/files/pic.png":
                self.send(200, PNG, [("Content-Type", "image/png")])
            case "/files/doc.pdf":
                self.send(200, PDF, [("Content-Type", "application/pdf")])
            case _:
                self.send(404, b"", [])


@pytest.fixture(scope="module")
def fixture_site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


PROFILE = """name = "fixture"
base_url = "{base}"
[discovery]
robots_txt = true
sitemaps = ["/sitemap.xml.gz"]
feeds = []
listings = []
article_pattern = '^/(2020/|files/)'
[politeness]
obey_robots = true
download_delay = 0.0
concurrent_requests = 1
autothrottle = false
user_agent = "newsvault-test"
"""


@pytest.fixture(scope="module")
def fixture_crawl(fixture_site: str, tmp_path_factory: pytest.TempPathFactory) -> Found:
    profiles = tmp_path_factory.mktemp("profiles")
    (profiles / "fixture.toml").write_text(PROFILE.format(base=fixture_site), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("NEWSVAULT_PROFILES", str(profiles))
    try:
        profile = load_profile("fixture")
        run = RunPaths.create(tmp_path_factory.mktemp("spool"), "fixture")
        result = run_crawl(profile, run, logging.getLogger("test.fixture"))
    finally:
        mp.undo()
    found: Found = {}
    for path in result.warc_files:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type in ("response", "revisit", "request"):
                    uri = rec.rec_headers["WARC-Target-URI"].removeprefix(fixture_site)
                    status = 0
                    if rec.rec_type != "request":
                        status = int(rec.http_headers.get_statuscode() or 0)
                    found.setdefault(uri, []).append((rec.rec_type, status, rec))
                    rec.body = rec.raw_stream.read()  # the payload as stored: not decoded
    return found


def types(found: Found, uri: str) -> Counter[str]:
    return Counter(kind for kind, _, _ in found.get(uri, []))


def test_redirect_chain_errors_robots_and_sitemap_recorded(fixture_crawl: Found) -> None:
    for uri, status in [
        ("/robots.txt", 200),
        ("/sitemap.xml.gz", 200),
        ("/2020/01/hop1/", 301),
        ("/2020/01/hop2/", 302),
        ("/2020/01/final/", 200),
        ("/2020/01/gone/", 404),
    ]:
        statuses = [s for kind, s, _ in fixture_crawl[uri] if kind == "response"]
        assert statuses == [status], (uri, fixture_crawl.get(uri))
        assert types(fixture_crawl, uri)["request"] == 1
    # 5xx is retried (RETRY_TIMES = 2): every attempt is recorded
    # (the identical error pages of the retries are revisits of the first)
    attempts = [(k, s) for k, s, _ in fixture_crawl["/2020/01/err/"] if k != "request"]
    assert attempts == [("response", 503), ("revisit", 503), ("revisit", 503)]


def test_query_string_in_request_line(fixture_crawl: Found) -> None:
    [request] = [r for k, _, r in fixture_crawl["/2020/01/q/?x=1&y=2"] if k == "request"]
    assert request.http_headers.protocol == "GET"
    assert request.http_headers.statusline.startswith("/2020/01/q/?x=1&y=2")


def test_binaries_and_gzip_sitemap_byte_for_byte(fixture_crawl: Found, fixture_site: str) -> None:
    for uri, body in [
        ("/files/pic.png", PNG),
        ("/files/doc.pdf", PDF),
        ("/sitemap.xml.gz", sitemap(fixture_site)),
    ]:
        [(kind, _, rec)] = [x for x in fixture_crawl[uri] if x[0] != "request"]
        assert kind == "response" and rec.body == body, uri
        assert rec.rec_headers["WARC-Payload-Digest"] == payload_digest(body)


def test_content_encoded_body_kept_and_duplicates_become_revisits(fixture_crawl: Found) -> None:
    pages = ["/2020/01/a/", "/2020/01/dup/", "/2020/01/q/?x=1&y=2"]
    kinds = Counter(k for p in pages for k, _, _ in fixture_crawl[p] if k != "request")
    assert kinds == {"response": 1, "revisit": 2}
    [original] = [r for p in pages for k, _, r in fixture_crawl[p] if k == "response"]
    assert original.body == gzip.compress(PAGE, mtime=0)  # still gzip, as received
    assert original.http_headers.get_header("Content-Encoding") == "gzip"
    assert original.http_headers.get_header("Transfer-Encoding") is None
    for page in pages:
        for kind, _, rec in fixture_crawl[page]:
            if kind == "revisit":
                assert rec.rec_headers["WARC-Refers-To"] == original.rec_headers["WARC-Record-ID"]
                values = [v for n, v in rec.http_headers.headers if n == "Vary"]
                assert values == ["Accept-Encoding", "Cookie"]


def test_chunked_body_is_dechunked_without_transfer_encoding(fixture_crawl: Found) -> None:
    [(kind, _, rec)] = [x for x in fixture_crawl["/2020/01/chunked/"] if x[0] != "request"]
    assert kind == "response" and rec.body == b"first part, second part"
    assert rec.http_headers.get_header("Transfer-Encoding") is None


def test_304_is_a_server_not_modified_revisit(fixture_crawl: Found) -> None:
    [(kind, status, rec)] = [x for x in fixture_crawl["/2020/01/notmod/"] if x[0] != "request"]
    assert kind == "revisit" and status == 304
    assert rec.rec_headers["WARC-Profile"].endswith("/revisit/server-not-modified")


def test_ip_address_and_warcinfo_id(fixture_crawl: Found) -> None:
    for records in fixture_crawl.values():
        for kind, _, rec in records:
            if kind != "request":
                assert rec.rec_headers["WARC-IP-Address"] == "127.0.0.1"
                assert rec.rec_headers["WARC-Warcinfo-ID"]
