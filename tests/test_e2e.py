"""End to end: `newsvault run` against real SeaweedFS, a real Prefect server and the replica."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.derive.articles import schema, write_jsonl_gz
from flows.errors import StoreAuthError, StoreUnreachableError
from flows.store.runs import RunPaths
from flows.store.s3 import Store, StoreConfig, make_client
from flows.store.upload import upload_run
from infra.local import control as local
from infra.local.control import LocalStack
from infra.replica.server import ReplicaServer
from tests.conftest import Crawled, seal_test_run, shared_file

pytestmark = pytest.mark.e2e
NEWSVAULT = str(Path(sys.executable).with_name("newsvault"))
SEED_PATH = "/2017/07/iraq-to-join-forces-with-iran-in/"


def cli_env(stack: LocalStack, spool: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NEWSVAULT_", "PREFECT_"))
    }
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


def store_config(stack: LocalStack) -> StoreConfig:
    return StoreConfig.from_env(cli_env(stack, Path("/nonexistent")))


def s3(stack: LocalStack) -> Any:
    key, secret = local.credentials(stack)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", key)  # boto3 reads credentials from here only
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", secret)
    return make_client(store_config(stack))


def store(stack: LocalStack) -> Store:
    return Store(store_config(stack), s3(stack))


def prepare_pending_run(crawled: Crawled, spool: Path, config: StoreConfig) -> RunPaths:
    """A run that was processed but never stored (as if S3 had been down last time)."""
    run = RunPaths.create(spool, "replica", "20200101T000000Z-0000aa")
    for warc in crawled.result.warc_files[:1]:
        shutil.copy(warc, run.warc_dir / warc.name)
    write_jsonl_gz(run.articles, [])
    seal_test_run(run, config.prefix)
    return run


@pytest.fixture(scope="module")
def archived(
    stack: LocalStack,
    replica: ReplicaServer,
    crawled: Crawled,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    spool = tmp_path_factory.mktemp("e2e-spool")
    pending = prepare_pending_run(crawled, spool, store_config(stack))
    proc = newsvault("run", "replica", "--base-url", replica.base_url, env=cli_env(stack, spool))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"spool": spool, "pending": pending, "proc": proc}


def objects(stack: LocalStack, prefix: str) -> dict[str, int]:
    client = s3(stack)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=stack.bucket, Prefix=prefix)
    return {o["Key"]: o["Size"] for page in pages for o in page.get("Contents", [])}


def get(stack: LocalStack, key: str, range_: str | None = None) -> bytes:
    kwargs = {"Range": range_} if range_ else {}
    body: bytes = s3(stack).get_object(Bucket=stack.bucket, Key=key, **kwargs)["Body"].read()
    return body


def this_run(stack: LocalStack) -> tuple[str, dict[str, int]]:
    found = objects(stack, "sites/replica/runs/")
    runs = sorted({k.split("/")[3] for k in found} - {"20200101T000000Z-0000aa"})
    assert len(runs) == 1, runs
    return runs[0], {k: v for k, v in found.items() if f"/runs/{runs[0]}/" in k}


def test_run_archives_warc_articles_and_manifest(
    archived: dict[str, Any], stack: LocalStack
) -> None:
    run_id, found = this_run(stack)
    prefix = f"sites/replica/runs/{run_id}/"
    assert prefix + "manifest.json" in found and prefix + "articles.jsonl.gz" in found
    warcs = [k for k in found if k.startswith(prefix + "warc/") and k.endswith(".warc.gz")]
    assert warcs
    manifest = json.loads(get(stack, prefix + "manifest.json"))
    assert manifest["site"] == "replica" and manifest["run_id"] == run_id
    assert {o["key"] for o in manifest["objects"]} | {prefix + "manifest.json"} == set(found)
    for obj in manifest["objects"]:
        data = get(stack, obj["key"])
        assert len(data) == obj["size"] and hashlib.sha256(data).hexdigest() == obj["sha256"]
    # the spool was verified, then deleted; the earlier pending run was archived too
    assert not (archived["spool"] / "replica" / run_id).exists()
    assert not archived["pending"].dir.exists()
    assert objects(stack, "sites/replica/runs/20200101T000000Z-0000aa/manifest.json")


def test_archived_warcs_check_and_hold_every_article(
    archived: dict[str, Any], stack: LocalStack, replica: ReplicaServer, tmp_path: Path
) -> None:
    _run_id, found = this_run(stack)
    kinds: Counter[tuple[str, str]] = Counter()
    for key in (k for k in found if k.endswith(".warc.gz")):
        local_copy = tmp_path / Path(key).name
        local_copy.write_bytes(get(stack, key))
        check = subprocess.run(
            [sys.executable, "-m", "warcio.cli", "check", str(local_copy)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        with open(local_copy, "rb") as fh:
            for rec in ArchiveIterator(fh):
                kinds[(rec.rec_type, rec.rec_headers["WARC-Target-URI"] or "")] += 1
    for article in replica.site.iter_articles():
        url = replica.base_url + article.path
        assert kinds[("request", url)] == 1 and kinds[("response", url)] == 1, url


def test_seed_article_json(
    archived: dict[str, Any], stack: LocalStack, replica: ReplicaServer
) -> None:
    run_id, _ = this_run(stack)
    lines = gzip.decompress(get(stack, f"sites/replica/runs/{run_id}/articles.jsonl.gz"))
    records = [json.loads(line) for line in lines.splitlines()]
    assert len(records) == len(list(replica.site.iter_articles()))
    for record in records:
        jsonschema.validate(record, schema())
    seed = next(r for r in records if r["url"] == replica.base_url + SEED_PATH)
    expected = shared_file("seed/expected_text.txt").read_text(encoding="utf-8").strip()
    assert seed["text"] == expected
    assert seed["title"] == (
        "Iraq to Join Forces With Iran in Combating Terrorism and Maintaining Regional Security"
    )
    assert seed["published"].startswith("2017-07-23")
    assert seed["original_source"] == "Al Mayadeen" and seed["translator"] == "Samer Hussein"
    for noise in ("@page", "Advertisement", "__ATA", "Subscribe", "Sign up here"):
        assert noise not in seed["text"]
    # provenance points at the exact record: a ranged GET returns that gzip member
    prov = seed["provenance"]
    start, end = prov["warc_offset"], prov["warc_offset"] + prov["warc_length"] - 1
    member = get(stack, prov["warc_key"], f"bytes={start}-{end}")
    record = next(iter(ArchiveIterator(io.BytesIO(member))))
    assert record.rec_headers["WARC-Record-ID"] == prov["warc_record_id"]
    assert record.rec_headers["WARC-Payload-Digest"] == prov["payload_digest"]


def test_run_visible_in_prefect_with_artifact(archived: dict[str, Any], stack: LocalStack) -> None:
    run_id, _ = this_run(stack)
    api = stack.prefect_api_url
    flows_found = httpx.post(
        f"{api}/flows/filter", json={"flows": {"name": {"any_": ["archive-site"]}}}
    ).json()
    assert flows_found, "flow archive-site not registered in the Prefect server"
    runs = httpx.post(
        f"{api}/flow_runs/filter", json={"flows": {"id": {"any_": [flows_found[0]["id"]]}}}
    ).json()
    completed = {r["id"] for r in runs if r["state_type"] == "COMPLETED"}
    artifacts = httpx.post(
        f"{api}/artifacts/filter", json={"artifacts": {"key": {"any_": ["replica-run-report"]}}}
    ).json()
    # this test's run: the report that names its run id, on a COMPLETED flow run
    [report] = [a for a in artifacts if run_id in a["data"]]
    assert report["flow_run_id"] in completed
    assert "articles written | 40" in report["data"]


# ---- bad input: one line, non-zero exit, spool kept ------------------------------------------


def one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines, proc.stdout
    assert lines[-1].startswith("newsvault: error: "), proc.stderr[-2000:]
    return lines[-1]


def test_unknown_site(stack: LocalStack, tmp_path: Path) -> None:
    proc = newsvault("run", "nosuchsite", env=cli_env(stack, tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "unknown site 'nosuchsite'" in proc.stderr and "replica" in proc.stderr


def test_unreachable_s3_keeps_spool(
    stack: LocalStack, replica: ReplicaServer, tmp_path: Path
) -> None:
    pending = tmp_path / "replica" / "20200101T000000Z-0000bb"
    pending.mkdir(parents=True)
    (pending / "manifest.json").write_text("{}")
    env = cli_env(stack, tmp_path, NEWSVAULT_S3_ENDPOINT="http://127.0.0.1:9")
    proc = newsvault("run", "replica", "--base-url", replica.base_url, env=env)
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "cannot reach S3 at http://127.0.0.1:9" in line and "newsvault up" in line
    assert (pending / "manifest.json").exists()


def test_wrong_credentials(stack: LocalStack, replica: ReplicaServer, tmp_path: Path) -> None:
    env = cli_env(stack, tmp_path, AWS_SECRET_ACCESS_KEY="not-the-secret")
    proc = newsvault("run", "replica", "--base-url", replica.base_url, env=env)
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "rejected the credentials" in line and "AWS_SECRET_ACCESS_KEY" in line
    assert "not-the-secret" not in proc.stderr + proc.stdout


def test_store_failure_after_crawl_keeps_spool(
    stack: LocalStack, crawled: Crawled, tmp_path: Path
) -> None:
    config = store_config(stack)
    run = prepare_pending_run(crawled, tmp_path, config)
    before = sorted(p.name for p in run.dir.rglob("*"))
    down = StoreConfig(bucket=config.bucket, endpoint="http://127.0.0.1:9", max_attempts=1)
    with pytest.raises(StoreUnreachableError):
        upload_run(Store(down), run)
    key, _ = local.credentials(stack)
    wrong = Store(config, max_attempts=1, credentials=(key, "wrong"))
    with pytest.raises(StoreAuthError):
        upload_run(wrong, run)
    assert sorted(p.name for p in run.dir.rglob("*")) == before
