"""The ``Store`` object, the one door to S3: every operation and every error translation, against
real SeaweedFS (the session stack), plus the key spellings and the translation table."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError, NoCredentialsError, ReadTimeoutError

from flows.errors import (
    StoreAuthError,
    StoreError,
    StoreNoBucketError,
    StoreNotFoundError,
    StorePreconditionError,
    StoreUnreachableError,
    StoreVerifyError,
)
from flows.store import (
    Keys,
    ManifestEntry,
    SiteKeys,
    Store,
    StoreConfig,
    check_store,
    fetch_verified,
    state_key,
)
from flows.store.s3 import SHA256_META
from flows.store.translate import translate
from flows.store.upload import put_verified
from infra.local import control as local
from infra.local.control import LocalStack
from tests.helpers import store, store_config

e2e = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _prefix() -> str:
    return f"test-store/{uuid.uuid4().hex[:8]}/"


# --- keys: the same strings as ever ---------------------------------------------------------


@pytest.mark.parametrize("prefix", ["", "pre/fix/"])
def test_every_key_is_spelled_as_before(prefix: str) -> None:
    site, run_id = "replica", "20260101T000000Z-abcdef"
    keys, run = SiteKeys(prefix, site), Keys(prefix, site, run_id)
    root = f"{prefix}sites/{site}/"
    assert keys.runs == root + "runs/"
    assert keys.run(run_id) == run
    assert run.run_prefix == f"{root}runs/{run_id}/"
    assert run.warc("a.warc.gz") == f"{root}runs/{run_id}/warc/a.warc.gz"
    assert (run.articles, run.events, run.manifest) == (
        f"{root}runs/{run_id}/articles.jsonl.gz",
        f"{root}runs/{run_id}/events.jsonl.gz",
        f"{root}runs/{run_id}/manifest.json",
    )
    assert (run.stats, run.captures, run.cdxj) == (
        f"{root}runs/{run_id}/crawl-stats.json",
        f"{root}runs/{run_id}/captures.jsonl.gz",
        f"{root}runs/{run_id}/index.cdxj",
    )
    assert keys.lock == root + "lock.json"  # beside state/, not in it
    assert keys.index == root + "index.cdxj"
    assert keys.state("state.json.gz") == state_key(prefix, site, "state.json.gz")
    assert keys.state("state.json.gz") == root + "state/state.json.gz"
    assert keys.derived("0.2.0", run_id) == f"{root}derived/0.2.0/runs/{run_id}/"


# --- the translation table --------------------------------------------------------------------


def _client_error(code: str, status: int) -> ClientError:
    error = {"Code": code, "Message": "x"}
    response = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(cast("Any", response), "PutObject")


def _entry(key: str, size: int, sha256: str) -> ManifestEntry:
    return {"kind": "warc", "key": key, "local_name": key, "size": size, "sha256": sha256}


@pytest.mark.parametrize(
    ("exc", "key", "expected", "says"),
    [
        (_client_error("AccessDenied", 403), "k", StoreAuthError, "rejected the credentials"),
        (_client_error("SignatureDoesNotMatch", 403), "k", StoreAuthError, "AWS_SECRET"),
        (_client_error("NoSuchKey", 404), "k", StoreNotFoundError, "s3://b/k does not exist"),
        (_client_error("404", 404), None, StoreNoBucketError, "bucket 'b' does not exist"),
        (_client_error("NoSuchBucket", 404), "k", StoreNoBucketError, "bucket 'b'"),
        (_client_error("PreconditionFailed", 412), "k", StorePreconditionError, "changed"),
        (_client_error("BucketAlreadyOwnedByYou", 409), None, StorePreconditionError, "Owned"),
        (_client_error("BadDigest", 400), "k", StoreVerifyError, "nothing was stored"),
        (_client_error("InternalError", 500), "k", StoreUnreachableError, "try again"),
        (_client_error("SlowDown", 503), "k", StoreUnreachableError, "in a moment"),
        (_client_error("InvalidArgument", 400), "k", StoreError, "refused to act: Invalid"),
        (NoCredentialsError(), "k", StoreAuthError, "no S3 credentials"),
        (ReadTimeoutError(endpoint_url="http://x"), "k", StoreUnreachableError, "ReadTimeout"),
    ],
)
def test_translation_table(
    exc: Exception, key: str | None, expected: type[StoreError], says: str
) -> None:
    error = translate(exc, "act", key, bucket="b", endpoint="http://x")
    assert type(error) is expected
    assert says in str(error) and "\n" not in str(error)


# --- against SeaweedFS ------------------------------------------------------------------------


@e2e
def test_round_trip_of_every_operation(stack: LocalStack, tmp_path: Path) -> None:
    s3, prefix = store(stack), _prefix()
    data = b"0123456789" * 1000
    etag = s3.put_bytes(prefix + "a/one.bin", data, content_type="application/octet-stream")
    head = s3.head(prefix + "a/one.bin")
    assert head is not None and head.etag == etag and head.size == len(data)
    assert head.checksum == head.meta_sha256 == head.sha256 == _sha(data)  # verified and named
    assert s3.get(prefix + "a/one.bin") == data
    assert s3.get_with_etag(prefix + "a/one.bin") == (data, etag)
    assert s3.get_range(prefix + "a/one.bin", 5, 7) == data[5:12]
    assert s3.get_range(prefix + "a/one.bin", len(data) - 3, 10) == data[-3:]  # short at the end
    out = io.BytesIO()
    assert s3.download(prefix + "a/one.bin", out) == (len(data), _sha(data))
    assert out.getvalue() == data

    path = tmp_path / "two.bin"
    path.write_bytes(b"two" * 5000)
    put = s3.put_file(prefix + "b/two.bin", path, size=15000, sha256=_sha(path.read_bytes()))
    assert put.checksum == _sha(path.read_bytes()) and put.size == 15000
    assert s3.list_objects(prefix) == [
        (prefix + "a/one.bin", len(data)),
        (prefix + "b/two.bin", 15000),
    ]
    assert s3.list_dirs(prefix) == ["a", "b"]
    assert s3.list_objects(prefix + "none/") == [] and s3.list_dirs(prefix + "none/") == []

    s3.delete(prefix + "a/one.bin")
    assert s3.head(prefix + "a/one.bin") is None and s3.get(prefix + "a/one.bin") is None
    s3.delete(prefix + "b/two.bin")


@e2e
def test_conditional_put_is_what_the_lease_needs(stack: LocalStack) -> None:
    s3, key = store(stack), _prefix() + "lock.json"
    first = s3.put_if(key, b'{"a": 1}', content_type="application/json")
    assert first is not None
    assert s3.put_if(key, b'{"b": 2}') is None  # exists: a second creator loses
    second = s3.put_if(key, b'{"c": 3}', if_match=first)
    assert second is not None and second != first
    assert s3.put_if(key, b'{"d": 4}', if_match=first) is None  # stale ETag: lost
    assert s3.get(key) == b'{"c": 3}'
    s3.delete(key)


@e2e
def test_missing_object_and_missing_bucket(stack: LocalStack, tmp_path: Path) -> None:
    s3, key = store(stack), _prefix() + "nothing"
    assert s3.head(key) is None and s3.get(key) is None and s3.get_with_etag(key) is None
    with pytest.raises(StoreNotFoundError, match=f"{key} does not exist"):
        s3.get_range(key, 0, 10)
    with pytest.raises(StoreNotFoundError, match="does not exist"):
        s3.download(key, io.BytesIO())
    entry = _entry(key, 1, "0" * 64)
    with pytest.raises(StoreNotFoundError):
        fetch_verified(s3, entry, tmp_path / "x")
    assert not list(tmp_path.iterdir())  # no .part left behind

    config = store_config(stack)
    bucket = f"nv-missing-{uuid.uuid4().hex[:6]}"
    other = Store(StoreConfig(bucket=bucket, endpoint=config.endpoint), s3.client)
    with pytest.raises(StoreNoBucketError, match=f"bucket '{bucket}' does not exist"):
        check_store(other.config)
    calls: list[Callable[[], object]] = [lambda: other.get_range("k", 0, 1), lambda: other.get("k")]
    for call in calls:
        with pytest.raises(StoreNoBucketError, match=f"bucket '{bucket}'"):
            call()  # NoSuchBucket: an error, not a missing object (a PUT would create it)
    assert other.ensure_bucket() is True and other.ensure_bucket() is False
    other.check()
    s3.client.delete_bucket(Bucket=bucket)


@e2e
def test_wrong_credentials(stack: LocalStack) -> None:
    config = store_config(stack)
    key, _secret = local.credentials(stack)
    wrong = Store(config, max_attempts=1, credentials=(key, "not-the-secret"))
    calls: list[Callable[[], object]] = [
        wrong.check,
        lambda: wrong.head("k"),
        lambda: wrong.get("k"),
        lambda: wrong.put_bytes("k", b"x"),
        lambda: wrong.list_objects("sites/"),
    ]
    for call in calls:
        with pytest.raises(StoreAuthError, match="rejected the credentials") as info:
            call()
        assert "not-the-secret" not in str(info.value)
    unknown = Store(config, max_attempts=1, credentials=("NOSUCHKEY", "x" * 40))
    with pytest.raises(StoreAuthError, match="InvalidAccessKeyId"):
        unknown.get("k")


@e2e
def test_unreachable_endpoint() -> None:
    down = Store(StoreConfig(endpoint=f"http://127.0.0.1:{_free_port()}"), max_attempts=1)
    calls: list[Callable[[], object]] = [
        down.check,
        lambda: down.head("k"),
        lambda: down.get("k"),
        lambda: down.put_bytes("k", b"x"),
        lambda: down.list_dirs("sites/"),
    ]
    for call in calls:
        with pytest.raises(StoreUnreachableError, match=r"cannot reach S3 at http://127\.0\.0\.1:"):
            call()


@e2e
def test_the_server_refuses_bytes_that_miss_their_checksum(
    stack: LocalStack, tmp_path: Path
) -> None:
    """A file that no longer hashes to its manifest SHA-256: the server refuses it (BadDigest)
    and nothing is stored; ``put_verified`` then says the file changed since its manifest."""
    s3, key = store(stack), _prefix() + "changed.warc.gz"
    path = tmp_path / "changed.warc.gz"
    path.write_bytes(b"the bytes the manifest saw")
    manifest_sha = _sha(path.read_bytes())
    path.write_bytes(b"the bytes on disk now, same size")
    with pytest.raises(StoreVerifyError, match="do not have the SHA-256 they were sent with"):
        s3.put_file(key, path, size=path.stat().st_size, sha256=manifest_sha)
    assert s3.head(key) is None
    with pytest.raises(StoreVerifyError, match="changed since its manifest was written") as info:
        put_verified(s3, key, path, path.stat().st_size, manifest_sha)
    assert isinstance(info.value.__cause__, StoreVerifyError)
    assert s3.head(key) is None


@e2e
def test_corrupted_object_is_refused_on_read_and_on_retry(
    stack: LocalStack, tmp_path: Path
) -> None:
    """An object whose bytes differ from what its manifest says (written behind our back):
    a verified read refuses it and keeps nothing; a retried upload refuses to overwrite it."""
    s3, key = store(stack), _prefix() + "x.warc.gz"
    good = b"archived bytes" * 100
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"corrupted bytes" * 100)
    entry = _entry(key, len(good), _sha(good))
    with pytest.raises(StoreVerifyError, match="do not match its manifest"):
        fetch_verified(s3, entry, tmp_path / "x.warc.gz")
    assert not list(tmp_path.iterdir())
    path = tmp_path / "local.warc.gz"
    path.write_bytes(good)
    with pytest.raises(StoreVerifyError, match="already exists with different content"):
        put_verified(s3, key, path, len(good), _sha(good))
    s3.delete(key)


@e2e
def test_objects_written_by_the_old_code_still_verify(stack: LocalStack, tmp_path: Path) -> None:
    """Archives written before the Store: a PUT with a signed payload, ``ChecksumSHA256`` and the
    ``sha256`` metadata; and an object that names its SHA-256 in metadata only (a server that
    kept no checksum). Both are recognised, so a retry skips them and reads verify them."""
    s3, prefix = store(stack), _prefix()
    data = b"an archived WARC" * 500
    sha = _sha(data)
    s3.client.put_object(
        Bucket=s3.bucket,
        Key=prefix + "old",
        Body=data,
        ChecksumSHA256=base64.b64encode(bytes.fromhex(sha)).decode(),
        Metadata={SHA256_META: sha},
    )
    s3.client.put_object(Bucket=s3.bucket, Key=prefix + "meta", Body=data, Metadata={"sha256": sha})
    path = tmp_path / "local"
    path.write_bytes(data)
    for name in ("old", "meta"):
        head = s3.head(prefix + name)
        assert head is not None and head.sha256 == sha and head.size == len(data)
        assert put_verified(s3, prefix + name, path, len(data), sha) is False  # already there
        entry = _entry(prefix + name, len(data), sha)
        assert fetch_verified(s3, entry, tmp_path / name).read_bytes() == data


@e2e
def test_a_server_without_checksums_is_checked_against_the_file(
    stack: LocalStack, tmp_path: Path
) -> None:
    """A server that keeps no checksum proves nothing about the bytes it stored, so
    ``put_file`` hashes the local file after the upload instead (the HEAD's checksum is
    dropped here, as such a server would not send it); if the file changed meanwhile, the
    object is not taken as verified."""
    s3, key = store(stack), _prefix() + "nochecksum"
    path = tmp_path / "f"
    path.write_bytes(b"the uploaded bytes")
    sha, size = _sha(path.read_bytes()), path.stat().st_size

    def no_checksum(parsed: dict[str, Any], **_: Any) -> None:
        parsed.pop("ChecksumSHA256", None)

    def change_the_file(**_: Any) -> None:
        path.write_bytes(b"different bytes!!!")

    s3.client.meta.events.register("after-call.s3.HeadObject", no_checksum)
    head = s3.put_file(key, path, size=size, sha256=sha)
    assert head.checksum is None and head.meta_sha256 == sha
    s3.client.meta.events.register("after-call.s3.PutObject", change_the_file)
    with pytest.raises(StoreVerifyError, match=r"does not match .* after upload"):
        s3.put_file(key + "2", path, size=size, sha256=sha)
    s3.delete(key)
    s3.delete(key + "2")
