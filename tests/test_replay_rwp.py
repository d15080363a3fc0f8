"""Every capture replays in ReplayWeb.page from an exported WACZ: two runs of a replica (the
second the default incremental one: conditional GETs answered 304), `newsvault export wacz` of
the site and of the second run alone, opened in headless Chromium through ReplayWeb.page (the
pinned npm package's ui.js and sw.js, served on 127.0.0.1), watching every request of the
browser context, the service worker's included; and what ReplayWeb.page makes of the package's
signature."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.sync_api import BrowserContext, Frame, Request, sync_playwright

from flows.evidence import Signer
from flows.replay.pywb import running_pywb, write_config
from infra.local.control import LocalStack
from infra.local.replaywebpage import MissingReplayWebPage, ReplayWebPageServer
from infra.replica import SEED_PATH
from infra.replica.server import ReplicaServer
from tests.helpers import (
    CHROMIUM_ARGS,
    REPO,
    chromium_or_skip,
    cli_env,
    fetch,
    free_port,
    newsvault,
    objects,
)

pytestmark = pytest.mark.e2e
PREFIX = "replayrwptest"
SITE = f"{PREFIX}/sites/replica/runs/"
ARTICLES = 12
# Playwright reports a service worker's own requests (its reads of the WACZ, and anything it
# might fetch from the live web) as the context's requests only with this set when it starts.
os.environ["PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS"] = "1"
# ReplayWeb.page's verification records of every collection (IndexedDB "db:<collection>")
VERIFICATION = """async () => {
  const out = {};
  for (const info of await indexedDB.databases()) {
    if (!info.name.startsWith("db:")) continue;
    const db = await new Promise((ok, no) => {
      const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = no; });
    if (db.objectStoreNames.contains("verification")) {
      out[info.name.slice(3)] = await new Promise((ok, no) => {
        const r = db.transaction("verification").objectStore("verification").getAll();
        r.onsuccess = () => ok(r.result); r.onerror = no; });
    }
    db.close();
  }
  return out;
}"""
FETCH = """async (url) => { const r = await fetch(url); return [r.status, await r.text()]; }"""


@dataclass
class Exported:
    replica: ReplicaServer
    runs: list[str]
    archives: dict[str, Path]  # served name -> file
    key: Signer


def der_signed(wacz: Path, out: Path) -> Path:
    """``wacz`` with its signature re-encoded as DER (the same r and s): what RWP makes of it."""
    with zipfile.ZipFile(wacz) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "datapackage-digest.json":
                doc = json.loads(data)
                raw = base64.b64decode(doc["signedData"]["signature"])
                r, s = int.from_bytes(raw[:48]), int.from_bytes(raw[48:])
                der = encode_dss_signature(r, s)
                doc["signedData"]["signature"] = base64.b64encode(der).decode()
                data = json.dumps(doc).encode()
            zout.writestr(info, data)
    return out


@pytest.fixture(scope="module")
def exported(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exported]:
    """Two runs of a replica of its own on day 0 (the second the scheduled way), then signed
    exports of the whole site and of the second run."""
    home = tmp_path_factory.mktemp("replay-rwp")
    key = Signer.generate()
    (home / "key.pem").write_bytes(key.private_pem())
    env = cli_env(stack, home / "spool", NEWSVAULT_S3_PREFIX=PREFIX, NEWSVAULT_HOME=str(home))
    with ReplicaServer(articles=ARTICLES, seed=1) as replica:
        for _ in range(2):
            proc = newsvault("run", "replica", "--base-url", replica.base_url, env=env)
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        runs = sorted({k.split("/")[4] for k in objects(stack, SITE)})
        assert len(runs) == 2
        signing = dict(env, NEWSVAULT_SIGNING_KEY_FILE=str(home / "key.pem"))
        site, second = home / "site.wacz", home / "second.wacz"
        for out, extra in ((site, ()), (second, ("--run", runs[1]))):
            proc = newsvault("export", "wacz", "replica", *extra, "-o", str(out), env=signing)
            assert proc.returncode == 0 and "signed with key" in proc.stdout, proc.stderr[-3000:]
            assert "skipped" not in proc.stderr, proc.stderr
        archives = {"site.wacz": site, "second.wacz": second}
        archives["der.wacz"] = der_signed(site, home / "der.wacz")
        yield Exported(replica, runs, archives, key)


def cdxj(wacz: Path) -> list[tuple[str, dict[str, Any]]]:
    with zipfile.ZipFile(wacz) as zf:
        text = zf.read("indexes/index.cdxj").decode()
    split = (line.split(" ", 2) for line in text.splitlines())
    return [(ts, json.loads(rest)) for _key, ts, rest in split]


@dataclass
class Seen:
    title: str
    text: str
    header_background: str  # a rule of the theme's stylesheet, computed
    featured_width: int  # natural width of the featured image


class Browser:
    """One Chromium context on a ReplayWeb.page server; records every request it makes."""

    def __init__(self, context: BrowserContext, server: ReplayWebPageServer) -> None:
        self.server = server
        self.requests: list[str] = []
        self.from_worker: list[str] = []  # those its service worker made (wabac.js's fetches)
        context.on("request", self._seen)
        self.page = context.new_page()

    def _seen(self, request: Request) -> None:
        self.requests.append(request.url)
        if request.service_worker is not None:
            self.from_worker.append(request.url)

    def outside(self) -> list[str]:
        origin = self.server.origin + "/"
        net = [u for u in self.requests if u.startswith(("http:", "https:", "ws:", "wss:"))]
        return [u for u in net if not u.startswith(origin)]

    def frame(self, test: str, url: str = "") -> Frame:
        """The frame whose URL holds ``test`` (and ends in ``url``), once it exists."""
        for _ in range(900):
            for frame in self.page.frames:
                if test in frame.url and frame.url.endswith(url):
                    return frame
            self.page.wait_for_timeout(200)  # a poll interval while the worker loads the WACZ
        raise AssertionError(f"no frame {test}…{url} in {[f.url for f in self.page.frames]}")

    def load(self, source: str, url: str, ts: str = "") -> Frame:
        """ReplayWeb.page showing ``url`` of ``source`` (at ``ts``, else its latest capture):
        the innermost frame, where the archived page is."""
        self.page.goto(self.server.embed_url(source, url, ts))
        return self.frame("mp_/", url)

    def open(self, source: str, url: str, ts: str = "") -> Seen:
        frame = self.load(source, url, ts)
        frame.wait_for_load_state("load")
        frame.wait_for_function(
            "() => { const i = document.querySelector('.td-post-featured-image img');"
            " return i !== null && i.complete; }"
        )
        background = frame.eval_on_selector(
            ".td-header-top-menu-full", "e => getComputedStyle(e).backgroundColor"
        )
        width = frame.eval_on_selector(".td-post-featured-image img", "e => e.naturalWidth")
        return Seen(frame.title(), frame.inner_text("body"), str(background), int(width))

    def app(self) -> Frame:
        """ReplayWeb.page's own frame (controlled by its service worker)."""
        return self.frame(self.server.origin + "/replay/?")


@pytest.fixture(scope="module")
def browser(exported: Exported) -> Iterator[Browser]:
    with ReplayWebPageServer(exported.archives) as server, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(chromium_or_skip()), args=CHROMIUM_ARGS)
        try:
            yield Browser(chromium.new_context(), server)
        finally:
            chromium.close()


def words(text: str) -> str:
    return " ".join(text.split())


def test_latest_captures_of_seed_and_rechecked_articles_render(
    exported: Exported, browser: Browser
) -> None:
    replica = exported.replica
    articles = {replica.base_url + a.path: a for a in replica.site.iter_articles()}
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for ts, data in cdxj(exported.archives["site.wacz"]):
        if data["url"] in articles and ts >= latest.get(data["url"], ("", {}))[0]:
            latest[data["url"]] = (ts, data)
    seed = replica.base_url + SEED_PATH
    rechecked = sorted(u for u, (_ts, d) in latest.items() if d["filename"] == "rechecks.warc.gz")
    assert seed in rechecked and len(rechecked) == ARTICLES  # the second run's 304s are latest
    for url in (seed, next(u for u in rechecked if u != seed)):
        for ts in ("", latest[url][0]):  # the default view, and the re-check's own time
            seen = browser.open("site.wacz", url, ts)
            assert articles[url].title in seen.title, (url, ts, seen.title)
            assert words(articles[url].paragraphs[0])[:80] in words(seen.text), (url, ts)
            assert seen.header_background == "rgb(0, 0, 0)"  # the theme's style.css applied
            assert seen.featured_width > 0
    assert browser.outside() == []
    # the worker's own requests were watched too: it read the package by ranges
    assert any(u.endswith("/archives/site.wacz") for u in browser.from_worker)


def test_second_run_alone_replays_every_page(exported: Exported, browser: Browser) -> None:
    """Its WACZ holds its own WARC file, copies of the records its revisits and its pages'
    requisites need, and none of the first run's files."""
    second = exported.archives["second.wacz"]
    with zipfile.ZipFile(second) as zf:
        names = zf.namelist()
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()[1:]]
    assert not any(exported.runs[0] in name for name in names)
    check = subprocess.run(  # py-wacz: every resource's hash, and the signature's date
        [str(REPO / ".venv-pywb" / "bin" / "wacz"), "validate", "-f", str(second)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
    assert {"archive/originals.warc.gz", "archive/rechecks.warc.gz"} <= set(names)
    replica = exported.replica
    titles = {replica.base_url + a.path: a.title for a in replica.site.iter_articles()}
    assert sorted(p["url"] for p in pages) == sorted(titles)  # each re-checked once
    seed = replica.base_url + SEED_PATH
    seen = browser.open("second.wacz", seed)
    assert titles[seed] in seen.title and seen.header_background == "rgb(0, 0, 0)"
    assert seen.featured_width > 0
    app, coll = browser.app(), browser.frame("mp_/", seed).url.split("/replay/w/")[1].split("/")[0]
    for page in pages:
        ts = datetime.strptime(page["ts"], "%Y-%m-%dT%H:%M:%SZ").strftime("%Y%m%d%H%M%S")
        status, body = app.evaluate(FETCH, f"/replay/w/{coll}/{ts}mp_/{page['url']}")
        assert status == 200 and titles[page["url"]] in body, page
    assert browser.outside() == []


def test_pywb_replays_the_packages_304_rechecks_at_their_own_time(
    exported: Exported, tmp_path: Path
) -> None:
    """The restated 304s serve pywb too (the one-run package, unpacked)."""
    replica = exported.replica
    titles = {replica.base_url + a.path: a.title for a in replica.site.iter_articles()}
    coll = tmp_path / "coll"
    with zipfile.ZipFile(exported.archives["second.wacz"]) as zf:
        zf.extractall(coll)
    rechecks = [
        (ts, d["url"]) for ts, d in cdxj(exported.archives["second.wacz"])
        if d["filename"] == "rechecks.warc.gz"
    ]  # fmt: skip
    assert sorted(url for _ts, url in rechecks) == sorted(titles)
    write_config(
        tmp_path / "coll", "w", tmp_path / "coll" / "archive", tmp_path / "coll" / "indexes"
    )
    port = free_port()
    with running_pywb(tmp_path / "coll", "w", port):
        for ts, url in rechecks:
            reply = httpx.get(f"http://127.0.0.1:{port}/w/{ts}id_/{url}", timeout=30)
            assert reply.status_code == 200 and titles[url] in reply.text, url
            when = datetime.strptime(reply.headers["memento-datetime"], "%a, %d %b %Y %H:%M:%S GMT")
            assert when.strftime("%Y%m%d%H%M%S") == ts  # the re-check's own time


def test_replaywebpage_shows_the_package_signed_and_checks_its_signature(
    exported: Exported, browser: Browser
) -> None:
    """RWP shows the signer's public key; its check (WebCrypto ECDSA) holds for our raw r||s
    signature and fails for the same signature as DER."""
    seed = exported.replica.base_url + SEED_PATH
    spki = exported.key.public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    ours = base64.b64encode(spki).decode()
    results: dict[str, dict[str, Any]] = {}
    for source in ("site.wacz", "der.wacz"):
        coll = browser.load(source, seed).url.split("/replay/w/")[1].split("/")[0]
        shown = browser.app().locator("rwp-embed-receipt .show-key")
        shown.wait_for(state="attached")
        assert shown.text_content() == ours  # "Observer Public Key"
        found = {r["id"]: r for r in browser.app().evaluate(VERIFICATION)[coll]}
        assert found["publicKey"]["expected"] == ours
        results[source] = found["signature"]
    assert results["site.wacz"]["matched"] is True
    assert results["der.wacz"]["matched"] is False


def test_server_answers_ranges_with_the_types_a_service_worker_needs(tmp_path: Path) -> None:
    wacz = tmp_path / "a.wacz"
    wacz.write_bytes(bytes(range(256)) * 4)
    with ReplayWebPageServer({"a.wacz": wacz}) as server:
        port = int(server.origin.rsplit(":", 1)[1])
        worker = fetch(port, "/replay/sw.js")
        assert worker.status == 200 and worker.header("Content-Type") == "application/javascript"
        part = fetch(port, "/archives/a.wacz", {"Range": "bytes=10-19"})
        assert (part.status, part.body) == (206, bytes(range(10, 20)))
        assert part.header("Content-Range") == "bytes 10-19/1024"
        tail = fetch(port, "/archives/a.wacz", {"Range": "bytes=-4"})
        assert tail.body == bytes(range(252, 256))
        assert fetch(port, "/archives/a.wacz", {"Range": "bytes=2000-"}).status == 416
        assert fetch(port, "/archives/other.wacz").status == 404
        page = fetch(port, '/embed.html?source=a.wacz&url=http://x/"><script>').text
        assert 'source="/archives/a.wacz"' in page and "<script>" not in page.split("<body")[1]


def test_a_missing_npm_install_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(MissingReplayWebPage, match="make install"):
        ReplayWebPageServer({}, root=tmp_path)
