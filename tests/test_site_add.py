"""`newsvault site add` on the replica and on a WordPress site served from real pages (the
extraction dev set's WordPress pages, read at test time, listed by a gzipped sitemap named only
in robots.txt): the profile it writes loads, is polite, and crawls the site with no edit.

Real components: the replica over HTTP, a local HTTP server of real pages, `newsvault`
subprocesses, the session's SeaweedFS and Prefect server for the crawl.
"""

from __future__ import annotations

import gzip
import json
import threading
import tomllib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from flows.sites import load_profile_file
from infra.local.control import LocalStack
from infra.replica import ReplicaServer
from tests.helpers import cli_env, newsvault, objects, shared_dir

pytestmark = pytest.mark.e2e
PAGES = 8


def wordpress_pages() -> dict[str, bytes]:
    """path -> page: the first WordPress pages of the dev set with an entry-content body."""
    found: dict[str, bytes] = {}
    for path in sorted((shared_dir() / "extraction-dev" / "html").glob("*.html.gz")):
        html = gzip.decompress(path.read_bytes())
        if b'class="entry-content' in html and b"wp-content" in html:
            slug = path.name.removesuffix(".html.gz").replace(".", "-").lower()
            found[f"/2022/03/{slug}/"] = html
        if len(found) == PAGES:
            return found
    pytest.fail("the extraction dev set has too few WordPress pages")


class WordPressSite:
    def __init__(self, pages: dict[str, bytes]) -> None:
        self.pages = pages
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, kind, body = site.respond(self.path)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def respond(self, path: str) -> tuple[int, str, bytes]:
        base = self.base_url
        if path == "/robots.txt":
            text = f"User-agent: *\nDisallow: /wp-admin/\nSitemap: {base}/post-sitemap.xml.gz\n"
            return 200, "text/plain", text.encode()
        if path == "/post-sitemap.xml.gz":
            urls = "".join(
                f"<url><loc>{base}{p}</loc><lastmod>2022-03-01T10:00:00+00:00</lastmod></url>"
                for p in self.pages
            )
            xml = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
            return 200, "application/x-gzip", gzip.compress(xml.encode())
        if path == "/wp-json/":
            return 200, "application/json", json.dumps({"name": "Dev Blog"}).encode()
        if path == "/":
            links = "".join(f'<a href="{p}">{p}</a>' for p in self.pages)
            head = '<meta property="og:site_name" content="Dev Blog">'
            return (
                200,
                "text/html",
                f"<html><head>{head}</head><body>{links}</body></html>".encode(),
            )
        if path in self.pages:
            return 200, "text/html; charset=utf-8", self.pages[path]
        return 404, "text/html", b"<html><body>Not found</body></html>"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def wordpress() -> Iterator[WordPressSite]:
    site = WordPressSite(wordpress_pages())
    yield site
    site.close()


def add(tmp_path: Path, url: str, name: str, env: dict[str, str]) -> dict[str, object]:
    proc = newsvault("site", "add", url, "--name", name, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    path = tmp_path / "profiles" / f"{name}.toml"
    profile = load_profile_file(path)  # loads as written
    assert profile.politeness.concurrent_requests == 1 and profile.politeness.autothrottle
    assert profile.politeness.download_delay >= 1 and "+https://" in profile.politeness.user_agent
    return tomllib.loads(path.read_text())


def env_for(stack: LocalStack, tmp_path: Path) -> dict[str, str]:
    (tmp_path / "profiles").mkdir(exist_ok=True)
    return cli_env(
        stack,
        tmp_path / "spool",
        NEWSVAULT_PROFILES=str(tmp_path / "profiles"),
        NEWSVAULT_S3_PREFIX=f"siteadd-{tmp_path.name}",
    )


def test_site_add_on_the_replica(stack: LocalStack, tmp_path: Path) -> None:
    with ReplicaServer(articles=10, seed=3) as replica:
        written = add(tmp_path, replica.base_url, "myreplica", env_for(stack, tmp_path))
    assert written["extract"] == {
        "theme": "tagdiv-newspaper",
        "content_selector": "",
        "site_names": ["Fort Russ"],
    }
    discovery = written["discovery"]
    assert isinstance(discovery, dict) and discovery["sitemaps"] == ["/sitemap_index.xml"]
    assert discovery["feeds"] == ["/feed/"] and discovery["article_pattern"].startswith(r"^/\d{4}")


def test_site_add_on_a_wordpress_site_then_crawl(
    stack: LocalStack, tmp_path: Path, wordpress: WordPressSite
) -> None:
    env = env_for(stack, tmp_path)
    written = add(tmp_path, wordpress.base_url, "devblog", env)
    assert written["extract"] == {
        "theme": "",
        "content_selector": "div.entry-content",
        "site_names": ["Dev Blog"],
    }
    discovery = written["discovery"]
    assert isinstance(discovery, dict) and discovery["sitemaps"] == ["/post-sitemap.xml.gz"]
    check = newsvault("site", "check", "devblog", "--pages", "2", env=env, timeout=300)
    assert check.returncode == 0 and "2 of 2 article pages cleaned" in check.stdout, check.stdout
    summary = run(env)
    assert summary["health"] == "ok" and summary["new_articles"] == PAGES, summary
    assert any(k.endswith("articles.jsonl.gz") for k in objects(stack, env["NEWSVAULT_S3_PREFIX"]))
    # A post taken down (gone from the gzipped sitemap, 404): deleted by disappearance.
    wordpress.pages.pop(sorted(wordpress.pages)[0])
    summary = run(env)
    assert summary["health"] == "ok" and summary["deletions"] == 1, summary
    assert summary["unchanged"] == PAGES - 1, summary


def run(env: dict[str, str]) -> dict[str, object]:
    proc = newsvault("run", "devblog", env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "fetch failed" not in proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    summary: dict[str, object] = json.loads("\n".join(lines[start:]))
    return summary
