"""Reliability units: the WARC readers and the torn-tail repair on random and truncated bytes
(property tests), safe S3 key segments, the spool lock, and 127.0.0.1-only listeners."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from flows.derive.process import iter_captures
from flows.errors import ConfigError, ExtractionError, NewsvaultError
from flows.state.lock import SiteLockedError, SpoolLock
from flows.store.runs import Keys, safe_name
from flows.warc.captures import entries_from_warc
from flows.warc.repair import OPEN_SUFFIX, complete_prefix, repair_open_file
from infra.local import control as local
from infra.local.control import LocalStack
from infra.replica.server import ReplicaServer
from tests.helpers import Crawled, exchange, pinned_spool, tcp_listeners

FUZZ = settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DOCUMENTED = (ExtractionError,)


def _read_all(path: Path) -> None:
    """Both WARC readers: only our documented errors may escape."""
    for reader in (iter_captures, entries_from_warc):
        try:
            for _ in reader(path):
                pass
        except DOCUMENTED:
            pass


@pytest.fixture(scope="module")
def real_warc(crawled: Crawled) -> bytes:
    return crawled.result.warc_files[0].read_bytes()


def _cut_in_a_stored_header_block() -> bytes:
    """What the fuzz test found (32c596b): a WARC cut inside a stored gzip member's header
    block, after "WARC-Type" and before "WARC-Target-URI" (warcio raised AttributeError)."""
    with tempfile.TemporaryDirectory() as tmp:
        spool = pinned_spool(Path(tmp))
        written, _ = spool.write_exchange(exchange())
        [path] = spool.close()
        data = path.read_bytes()
    member = data[written.offset : written.offset + written.length]
    return data[: written.offset + member.index(b"WARC-Target-URI")]


@FUZZ
@given(data=st.binary(max_size=4096))
@example(data=_cut_in_a_stored_header_block())
def test_readers_and_repair_on_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "x.warc.gz"
    path.write_bytes(data)
    _read_all(path)
    kept, records = complete_prefix(path)
    assert 0 <= kept <= len(data) and (records == 0) == (kept == 0)


@pytest.mark.e2e
@FUZZ
@given(cut=st.floats(0, 1), noise=st.binary(max_size=64))
def test_truncated_real_warc(tmp_path: Path, real_warc: bytes, cut: float, noise: bytes) -> None:
    torn = real_warc[: int(len(real_warc) * cut)] + noise
    path = tmp_path / "x.warc.gz"
    path.write_bytes(torn)
    _read_all(path)
    # the repair keeps exactly the complete records, which then read without error
    open_path = tmp_path / ("torn.warc.gz" + OPEN_SUFFIX)
    open_path.write_bytes(torn)
    (tmp_path / "quarantine").mkdir(exist_ok=True)
    repair = repair_open_file(open_path)
    if repair.quarantined:
        assert repair.records == 0
        return
    kept = repair.path.read_bytes()
    assert torn.startswith(kept)
    with open(repair.path, "rb") as fh:
        assert sum(1 for _ in ArchiveIterator(fh)) == repair.records
    repair.path.unlink()


def complete_prefix_of(data: bytes, tmp: Path) -> tuple[int, int]:
    path = tmp / "prefix.bin"
    path.write_bytes(data)
    return complete_prefix(path)


@pytest.mark.e2e
def test_repair_cuts_torn_tail_and_quarantines_empty(crawled: Crawled, tmp_path: Path) -> None:
    source = crawled.result.warc_files[0]
    full_bytes = source.read_bytes()
    whole, records = complete_prefix(source)
    assert whole == len(full_bytes) and records > 3
    warc_dir = tmp_path / "run" / "warc"
    warc_dir.mkdir(parents=True)
    torn = warc_dir / ("a.warc.gz" + OPEN_SUFFIX)
    first_member, n = complete_prefix_of(full_bytes[:2000], tmp_path)
    tail = full_bytes[: first_member + 300]  # n whole members, then one cut in the middle
    torn.write_bytes(full_bytes + tail)
    repair = repair_open_file(torn)
    assert not repair.quarantined and repair.records == records + n
    assert repair.cut_bytes == 300 and repair.path.read_bytes() == full_bytes + tail[:-300]
    empty = warc_dir / ("b.warc.gz" + OPEN_SUFFIX)
    empty.write_bytes(full_bytes[:100])
    repair = repair_open_file(empty)
    assert repair.quarantined and repair.path.parent == tmp_path / "run" / "quarantine"
    assert sorted(p.name for p in warc_dir.iterdir()) == ["a.warc.gz"]


@given(name=st.text(max_size=80))
def test_safe_name_never_escapes(name: str) -> None:
    try:
        safe = safe_name(name)
    except ConfigError:
        return
    key = Keys("p/", "replica", "20200101T000000Z-000000").warc(safe)
    assert key.startswith("p/sites/replica/runs/20200101T000000Z-000000/warc/")
    rest = key.rsplit("/", 1)[1]
    assert rest == safe and "/" not in safe and "\\" not in safe and ".." not in safe
    assert not safe.startswith(".") and "\x00" not in safe


def test_spool_lock_refuses_second_holder(tmp_path: Path) -> None:
    first, second = SpoolLock(tmp_path, "replica"), SpoolLock(tmp_path, "replica")
    first.acquire()
    with pytest.raises(SiteLockedError) as info:
        second.acquire()
    assert "\n" not in str(info.value) and "in use by pid" in str(info.value)
    assert isinstance(info.value, NewsvaultError)
    first.release()
    second.acquire()  # released on exit (the kernel releases it when a process dies, too)
    second.release()


@pytest.mark.e2e
def test_every_local_server_binds_loopback_only(stack: LocalStack, replica: ReplicaServer) -> None:
    """SeaweedFS (all its ports), Prefect and the replica listen on 127.0.0.1 only (the replica's
    image CDN on 127.0.0.2, loopback too, at the same port); pywb gets
    ``--bind 127.0.0.1`` (flows.replay.pywb). SeaweedFS refusing anonymous access is tested in
    tests/test_local_infra.py::test_s3_up_bucket_objects_and_auth."""
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp here")
    listening: dict[int, set[str]] = {}
    for addr, port in tcp_listeners():
        listening.setdefault(port, set()).add(addr)
    ports = {**stack.ports.as_dict(), "prefect": stack.prefect_port, "replica": replica.port}
    checked = 0
    for name, port in ports.items():
        if port in listening:
            checked += 1
            allowed = {"127.0.0.1", "::ffff:127.0.0.1"} | (
                {"127.0.0.2"} if name == "replica" else set()
            )
            assert listening[port] <= allowed, (name, listening[port])
    assert checked >= 3, listening
    with pytest.raises(ValueError):
        ReplicaServer(host="0.0.0.0")
    source = Path("flows/replay/pywb.py").read_text()
    assert '"--bind", "127.0.0.1"' in source
    assert "-ip.bind=127.0.0.1" in " ".join(local.weed_command(stack))
    assert "--host" in local.prefect_command(stack) and "127.0.0.1" in local.prefect_command(stack)


@pytest.mark.e2e
def test_quarantined_file_is_never_uploaded(crawled: Crawled, tmp_path: Path) -> None:
    from flows.store.runs import RunPaths

    run = RunPaths.create(tmp_path, "replica", "20200101T000000Z-0000ff")
    shutil.copy(crawled.result.warc_files[0], run.warc_dir / "x.warc.gz.open")
    (run.warc_dir / "y.warc.gz.open").write_bytes(b"\x1f\x8b\x08\x00garbage")
    from flows.warc.repair import repair_dir

    repairs = repair_dir(run.warc_dir)
    assert [r.quarantined for r in repairs] == [False, True]
    assert [p.name for p in run.warc_files()] == ["x.warc.gz"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NEWSVAULT_S3_UPLOAD_WORKERS", "four"),
        ("NEWSVAULT_S3_MAX_ATTEMPTS", "1.5"),
        ("NEWSVAULT_S3_RETRY_BACKOFF", "1,soon"),
    ],
)
def test_store_tuning_from_env_is_checked(name: str, value: str) -> None:
    from flows.store.s3 import StoreConfig

    with pytest.raises(ConfigError, match=name):
        StoreConfig.from_env({name: value})
    assert StoreConfig.from_env({"NEWSVAULT_S3_UPLOAD_WORKERS": "0"}).upload_workers == 1
    assert StoreConfig.from_env({}).upload_workers == 4


def test_header_block_cut_short_is_named_not_crashed(tmp_path: Path) -> None:
    """Found by the fuzz test above once content-encoded payloads went into stored gzip members:
    a file cut inside a stored member's WARC header block (after "WARC-Type" but before
    "WARC-Target-URI") made warcio raise AttributeError. Every cut is a named error or a
    clean read, for both readers."""
    import gzip
    from datetime import UTC, datetime

    from spiders.warcspool import Exchange, WarcSpool

    spool = WarcSpool(tmp_path / "w", "cut", {"software": "test"})
    body = gzip.compress(b"<html><body><p>text</p></body></html>", mtime=0)
    written, _ = spool.write_exchange(
        Exchange(
            url="http://127.0.0.1:1/a/",
            method=b"GET",
            request_target=b"/a/",
            request_headers=((b"Host", b"127.0.0.1:1"),),
            request_body=b"",
            status=200,
            response_headers=((b"Content-Encoding", b"gzip"), (b"Content-Type", b"text/html")),
            response_body=body,
            fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )
    [path] = spool.close()
    data = path.read_bytes()
    member = data[written.offset : written.offset + written.length]
    target = member.index(b"WARC-Target-URI")
    assert member.index(b"WARC-Type") < target  # stored: the header text is in the file as is
    named = 0
    for cut in range(written.offset, written.offset + target + 20):
        torn = tmp_path / "torn.warc.gz"
        torn.write_bytes(data[:cut])
        for reader in (iter_captures, entries_from_warc):
            try:
                for _ in reader(torn):
                    pass
            except ExtractionError as exc:
                assert "is not a valid WARC file" in str(exc)
                named += 1
    assert named > 0
