"""Two archive runs of an unchanged replica: revisits, CDXJ, replay in pywb, WACZ export.

Runs `newsvault run` twice against the session stack under their own S3 prefix (so other
end-to-end tests never see these runs), then reads the archive back the way a user would.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.replay.pywb import running_pywb, write_config
from flows.warc.captures import CaptureEntry, read_entries
from infra.local.control import LocalStack
from infra.replica import SEED_PATH
from infra.replica.server import ReplicaServer
from tests.helpers import (
    NEWSVAULT,
    REPO,
    cli_env,
    free_port,
    get,
    newsvault,
    objects,
    replay_serve,
    wait_for,
    warcio_check,
)

pytestmark = pytest.mark.e2e
PREFIX = "replaytest"
PYWB_VENV = REPO / ".venv-pywb"


def timestamp(warc_date: str) -> str:
    return "".join(c for c in warc_date[:19] if c.isdigit())


class Archive:
    def __init__(self, stack: LocalStack, home: Path) -> None:
        self.stack, self.home = stack, home
        self.env = cli_env(
            stack, home / "spool", NEWSVAULT_S3_PREFIX=PREFIX, NEWSVAULT_HOME=str(home)
        )
        self.runs: list[str] = []

    def manifest(self, run_id: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(
            get(self.stack, f"{PREFIX}/sites/replica/runs/{run_id}/manifest.json")
        )
        return data

    def download(self, run_id: str, kind: str, dest: Path) -> list[Path]:
        paths = []
        for obj in self.manifest(run_id)["objects"]:
            if obj["kind"] == kind:
                path = dest / Path(obj["key"]).name
                path.write_bytes(get(self.stack, obj["key"]))
                paths.append(path)
        return paths

    def captures(self, run_id: str, dest: Path) -> list[CaptureEntry]:
        [path] = self.download(run_id, "captures", dest)
        return list(read_entries(path))


@pytest.fixture(scope="module")
def archive(
    stack: LocalStack, replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory
) -> Archive:
    arch = Archive(stack, tmp_path_factory.mktemp("replay-home"))
    # the second run is --full (no lastmod skipping, no conditional GETs), so every article is
    # fetched whole again and its identical payload must become a revisit
    for extra in ([], ["--full"]):
        proc = newsvault("run", "replica", "--base-url", replica.base_url, *extra, env=arch.env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        runs = sorted({k.split("/")[4] for k in objects(stack, f"{PREFIX}/sites/replica/runs/")})
        arch.runs = runs
    assert len(arch.runs) == 2
    return arch


def test_second_run_writes_revisits_not_copies(
    archive: Archive, replica: ReplicaServer, tmp_path: Path
) -> None:
    run1, run2 = archive.runs
    first = archive.captures(run1, tmp_path)
    second = archive.captures(run2, tmp_path)
    articles = {replica.base_url + a.path for a in replica.site.iter_articles()}
    by_id = {e.id: e for e in first}
    first_types = Counter(e.type for e in first if e.uri in articles)
    second_types = Counter(e.type for e in second if e.uri in articles)
    assert first_types == {"response": len(articles)}
    assert second_types == {"revisit": len(articles)}
    for entry in second:
        if entry.uri in articles:
            assert entry.refers_to is not None
            original = by_id[entry.refers_to.id]
            assert (original.uri, original.date) == (entry.refers_to.uri, entry.refers_to.date)
            assert original.digest == entry.digest and original.type == "response"
    # every non-empty payload of run 2 is a revisit; the manifest counts them
    counts = archive.manifest(run2)["counts"]["records"]
    assert counts["revisit"] == sum(1 for e in second if e.type == "revisit") >= len(articles)
    # processing reads responses only: run 2 has no article records (unchanged pages)
    [path] = archive.download(run2, "articles", tmp_path)
    assert gzip.decompress(path.read_bytes()) == b""


def test_revisit_records_keep_headers_and_refer_back(archive: Archive, tmp_path: Path) -> None:
    [warc, *_] = archive.download(archive.runs[1], "warc", tmp_path)
    with open(warc, "rb") as fh:
        revisits = [r for r in ArchiveIterator(fh) if r.rec_type == "revisit"]
    assert revisits
    for rec in revisits:
        h = rec.rec_headers
        assert h["WARC-Profile"] == (
            "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
        )
        assert h["WARC-Refers-To"] and h["WARC-Refers-To-Target-URI"] and h["WARC-Refers-To-Date"]
        assert h["WARC-Payload-Digest"].startswith("sha1:")
        assert rec.http_headers.protocol == "HTTP/1.1" and rec.http_headers.get_statuscode()
        assert rec.content_stream().read() == b""


def test_every_warc_checks_and_indexes(archive: Archive, tmp_path: Path) -> None:
    for run_id in archive.runs:
        manifest = archive.manifest(run_id)
        assert {o["kind"] for o in manifest["objects"]} >= {"warc", "captures", "cdxj"}
        for warc in archive.download(run_id, "warc", tmp_path):
            check = warcio_check(warc)
            assert check.returncode == 0, check.stdout + check.stderr
            index = subprocess.run(
                [sys.executable, "-m", "cdxj_indexer.main", str(warc)],
                capture_output=True,
                text=True,
                check=True,
            )
            assert index.stdout.count("\n") > 10
        [cdxj] = archive.download(run_id, "cdxj", tmp_path)
        lines = cdxj.read_bytes().splitlines()
        assert lines == sorted(lines) and len(lines) == manifest["counts"]["cdxj_lines"]


def test_site_index_merges_runs(archive: Archive, tmp_path: Path) -> None:
    proc = newsvault("index", "replica", env=archive.env)
    assert proc.returncode == 0, proc.stderr
    merged = get(archive.stack, f"{PREFIX}/sites/replica/index.cdxj").splitlines()
    per_run = []
    for run_id in archive.runs:
        [cdxj] = archive.download(run_id, "cdxj", tmp_path)
        per_run += cdxj.read_bytes().splitlines()
    assert merged == sorted(per_run)


@pytest.fixture(scope="module")
def served(archive: Archive) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    with replay_serve(archive.env) as served:
        yield served


def test_replay_serves_run1_capture_and_resolves_run2_revisit(
    archive: Archive, served: Any, replica: ReplicaServer, tmp_path: Path
) -> None:
    port, _proc = served
    seed = replica.base_url + SEED_PATH
    run1 = next(e for e in archive.captures(archive.runs[0], tmp_path) if e.uri == seed)
    run2 = next(e for e in archive.captures(archive.runs[1], tmp_path) if e.uri == seed)
    assert run1.type == "response" and run2.type == "revisit"
    base = f"http://127.0.0.1:{port}/replica"
    first = httpx.get(f"{base}/{timestamp(run1.date)}id_/{seed}", timeout=30)
    assert first.status_code == 200
    assert "Iraq to Join Forces With Iran" in first.text
    second = httpx.get(f"{base}/{timestamp(run2.date)}id_/{seed}", timeout=30)
    assert second.status_code == 200
    assert second.content == first.content  # run 1's payload, through run 2's revisit
    memento = second.headers.get("memento-datetime", "")
    assert memento and memento != first.headers.get("memento-datetime")
    # the rewritten (browsable) view works too
    page = httpx.get(f"{base}/{timestamp(run2.date)}/{seed}", timeout=30)
    assert page.status_code == 200 and "Iraq to Join Forces With Iran" in page.text


def test_replay_stops_cleanly_on_sigterm(served: Any) -> None:
    port, proc = served
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0

    def closed() -> bool:  # pywb's own process may take a moment after its parent's exit
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) != 0

    wait_for("pywb to stop listening", closed, 30, 0.1)


def test_export_wacz_validates_and_replays(
    archive: Archive, replica: ReplicaServer, tmp_path: Path
) -> None:
    out = tmp_path / "replica.wacz"
    proc = newsvault("export", "wacz", "replica", "-o", str(out), env=archive.env)
    assert proc.returncode == 0, proc.stderr
    check = subprocess.run(
        [str(PYWB_VENV / "bin" / "wacz"), "validate", "-f", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
    seed = replica.base_url + SEED_PATH
    with zipfile.ZipFile(out) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        warcs = [n for n in infos if n.startswith("archive/")]
        assert len(warcs) >= 2 and all(infos[n].compress_type == zipfile.ZIP_STORED for n in warcs)
        package = json.loads(zf.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1"
        assert {r["path"] for r in package["resources"]} == set(infos) - {
            "datapackage.json",
            "datapackage-digest.json",
        }
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        entry = next(p for p in pages[1:] if p["url"] == seed)
        assert entry["title"].startswith("Iraq to Join Forces With Iran") and entry["ts"]
        assert len(pages) - 1 == len(list(replica.site.iter_articles()))
        coll = tmp_path / "wacz-coll"
        zf.extractall(coll)
    write_config(coll, "wacz", coll / "archive", coll / "indexes")
    port = free_port()
    with running_pywb(coll, "wacz", port):
        reply = httpx.get(f"http://127.0.0.1:{port}/wacz/2id_/{seed}", timeout=30)
    assert reply.status_code == 200 and "Iraq to Join Forces With Iran" in reply.text


def test_export_one_run(archive: Archive, tmp_path: Path) -> None:
    out = tmp_path / "one.wacz"
    proc = newsvault(
        "export", "wacz", "replica", "--run", archive.runs[0], "-o", str(out), env=archive.env
    )
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(out) as zf:
        assert all(archive.runs[0] in n for n in zf.namelist() if n.startswith("archive/"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export", "wacz", "nosuchsite", "-o", "x.wacz"), "no archived runs of site"),
        (("replay", "serve", "nosuchsite"), "no archived runs of site"),
        (("index", "nosuchsite"), "no archived runs of site"),
        (
            ("export", "wacz", "replica", "--run", "20990101T000000Z-abcdef", "-o", "x.wacz"),
            "is not in",
        ),
        (("export", "wacz", "replica", "--run", "latest", "-o", "x.wacz"), "run id 'latest'"),
    ],
)
def test_unknown_site_or_run_is_one_line(
    archive: Archive, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    proc = subprocess.run(
        [NEWSVAULT, *args],
        env=archive.env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert os.listdir(tmp_path) == []
