"""End to end: `newsvault run` against real SeaweedFS, a real Prefect server and the replica."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.derive.articles import schema
from flows.errors import StoreAuthError, StoreUnreachableError
from flows.store.s3 import Store, StoreConfig
from flows.store.upload import upload_run
from infra.local import control as local
from infra.local.control import LocalStack
from infra.replica import SEED_PATH
from infra.replica.server import ReplicaServer
from tests.helpers import (
    Crawled,
    cli_env,
    get,
    newsvault,
    objects,
    one_error_line,
    prefect_api,
    shared_file,
    spooled_run,
    store_config,
    warcio_check,
)

pytestmark = pytest.mark.e2e
PENDING = "20200101T000000Z-0000aa"


@pytest.fixture(scope="module")
def archived(
    stack: LocalStack,
    replica: ReplicaServer,
    crawled: Crawled,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    spool = tmp_path_factory.mktemp("e2e-spool")
    pending = spooled_run(crawled, spool, PENDING, store_config(stack).prefix, warcs=1)
    proc = newsvault("run", "replica", "--base-url", replica.base_url, env=cli_env(stack, spool))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {"spool": spool, "pending": pending, "proc": proc}


def this_run(stack: LocalStack) -> tuple[str, dict[str, int]]:
    found = objects(stack, "sites/replica/runs/")
    runs = sorted({k.split("/")[3] for k in found} - {PENDING})
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
    assert objects(stack, f"sites/replica/runs/{PENDING}/manifest.json")


def test_archived_warcs_check_and_hold_every_article(
    archived: dict[str, Any], stack: LocalStack, replica: ReplicaServer, tmp_path: Path
) -> None:
    _run_id, found = this_run(stack)
    kinds: Counter[tuple[str, str]] = Counter()
    for key in (k for k in found if k.endswith(".warc.gz")):
        local_copy = tmp_path / Path(key).name
        local_copy.write_bytes(get(stack, key))
        check = warcio_check(local_copy)
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
    flows_found = prefect_api(
        stack, "POST", "/flows/filter", {"flows": {"name": {"any_": ["archive-site"]}}}
    )
    assert flows_found, "flow archive-site not registered in the Prefect server"
    runs = prefect_api(
        stack, "POST", "/flow_runs/filter", {"flows": {"id": {"any_": [flows_found[0]["id"]]}}}
    )
    completed = {r["id"] for r in runs if r["state_type"] == "COMPLETED"}
    artifacts = prefect_api(
        stack,
        "POST",
        "/artifacts/filter",
        {"artifacts": {"key": {"any_": ["replica-run-report"]}}},
    )
    # this test's run: the report that names its run id, on a COMPLETED flow run
    [report] = [a for a in artifacts if run_id in a["data"]]
    assert report["flow_run_id"] in completed
    assert "articles written | 40" in report["data"]


# ---- bad input: one line, non-zero exit, spool kept ------------------------------------------


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
    run = spooled_run(crawled, tmp_path, PENDING, config.prefix, warcs=1)
    before = sorted(p.name for p in run.dir.rglob("*"))
    down = StoreConfig(bucket=config.bucket, endpoint="http://127.0.0.1:9", max_attempts=1)
    with pytest.raises(StoreUnreachableError):
        upload_run(Store(down), run)
    key, _ = local.credentials(stack)
    wrong = Store(config, max_attempts=1, credentials=(key, "wrong"))
    with pytest.raises(StoreAuthError):
        upload_run(wrong, run)
    assert sorted(p.name for p in run.dir.rglob("*")) == before
