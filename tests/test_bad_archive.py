"""Bad input in the archive: a truncated WARC, a checksum mismatch and a run without manifest are
named and skipped by replay's mirror and by WACZ export; the good run still comes through."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from flows.derive.articles import write_jsonl_gz
from flows.replay.mirror import check_warc, mirror_site
from flows.store.runs import Keys, RunPaths
from flows.store.s3 import Store
from flows.store.upload import upload_run
from flows.warc.captures import write_run_index
from flows.warc.cdxj import index_warcs
from infra.local.control import LocalStack
from tests.helpers import Crawled, cli_env, newsvault, s3, seal_test_run, store_config

pytestmark = pytest.mark.e2e
PREFIX = "badinput"
GOOD, TRUNCATED, MISMATCH, NO_MANIFEST = (
    "20210101T000000Z-00000a",
    "20210102T000000Z-00000b",
    "20210103T000000Z-00000c",
    "20210104T000000Z-00000d",
)


def warc_name(run_id: str) -> str:
    return f"replica-{run_id}-00001.warc.gz"


def make_run(crawled: Crawled, spool: Path, run_id: str, *, truncate: bool = False) -> RunPaths:
    run = RunPaths.create(spool, "replica", run_id)
    warc = run.warc_dir / warc_name(run_id)
    shutil.copy(crawled.result.warc_files[0], warc)
    if truncate:
        data = warc.read_bytes()
        warc.write_bytes(data[: len(data) - 200])
    else:
        write_run_index([warc], run.captures)
        index_warcs([warc], run.cdxj)
    write_jsonl_gz(run.articles, [])
    return run


@pytest.fixture(scope="module")
def bad_archive(
    stack: LocalStack, crawled: Crawled, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    spool = tmp_path_factory.mktemp("bad-spool")
    env = cli_env(stack, spool, NEWSVAULT_S3_PREFIX=PREFIX)
    config = store_config(stack)
    config = type(config)(bucket=config.bucket, endpoint=config.endpoint, prefix=PREFIX + "/")
    client = s3(stack)
    for run_id, truncate in [(GOOD, False), (TRUNCATED, True), (MISMATCH, False)]:
        run = make_run(crawled, spool, run_id, truncate=truncate)
        seal_test_run(run, config.prefix)
        upload_run(Store(config, client), run)
    # the mismatching run's WARC is replaced in S3 after its manifest was written
    key = Keys(config.prefix, "replica", MISMATCH).warc(warc_name(MISMATCH))
    client.put_object(Bucket=config.bucket, Key=key, Body=b"not the archived bytes")
    # a run whose manifest never arrived
    key = Keys(config.prefix, "replica", NO_MANIFEST).warc(warc_name(NO_MANIFEST))
    client.put_object(Bucket=config.bucket, Key=key, Body=b"partial upload")
    return env


def test_check_warc_finds_truncation(crawled: Crawled, tmp_path: Path) -> None:
    good = crawled.result.warc_files[0]
    assert check_warc(good) is None
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(good.read_bytes()[:-200])
    assert "truncated" in (check_warc(cut) or "")
    flipped = bytearray(good.read_bytes())
    flipped[len(flipped) // 2] ^= 0xFF
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(bytes(flipped))
    assert check_warc(broken) is not None


def test_mirror_names_and_skips_bad_runs(
    bad_archive: dict[str, str], stack: LocalStack, tmp_path: Path
) -> None:
    config = store_config(stack)
    config = type(config)(bucket=config.bucket, endpoint=config.endpoint, prefix=PREFIX + "/")
    mirror = mirror_site(Store(config, s3(stack)), "replica", root=tmp_path)
    assert mirror.runs == [GOOD]
    assert [p.name for p in mirror.warcs] == [warc_name(GOOD)]
    text = "\n".join(mirror.problems)
    assert f"WARC {warc_name(TRUNCATED)} skipped: truncated" in text
    assert f"WARC {warc_name(MISMATCH)} skipped" in text and "do not match its manifest" in text
    assert f"run {NO_MANIFEST}: manifest.json is missing" in text
    assert not (mirror.archive_dir / warc_name(MISMATCH)).exists()
    assert [p.name for p in mirror.index_dir.iterdir()] == [f"{GOOD}.cdxj"]
    # incremental: a second pass downloads nothing new and reports the same problems
    again = mirror_site(Store(config, s3(stack)), "replica", root=tmp_path)
    assert again.runs == [GOOD] and len(again.problems) == len(mirror.problems)


def test_export_reports_bad_input_and_exports_the_rest(
    bad_archive: dict[str, str], tmp_path: Path
) -> None:
    env = {**bad_archive, "NEWSVAULT_HOME": str(tmp_path / "home")}
    out = tmp_path / "out.wacz"
    proc = newsvault("export", "wacz", "replica", "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    for name in (warc_name(TRUNCATED), warc_name(MISMATCH), NO_MANIFEST):
        assert name in proc.stderr
    with zipfile.ZipFile(out) as zf:
        assert [n for n in zf.namelist() if n.startswith("archive/")] == [
            f"archive/{warc_name(GOOD)}"
        ]
    proc = newsvault("export", "wacz", "replica", "--run", TRUNCATED, "-o", "x", env=env)
    assert proc.returncode == 2 and proc.stderr.count("newsvault: error:") == 1
    assert "no readable WARC" in proc.stderr
