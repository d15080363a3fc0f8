"""The S3 boundary: configuration from the environment, the client, and the ``Store`` object
through which every request goes.

Credentials are never held in our objects: boto3 reads ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY`` (or any other standard source) itself, so they cannot leak through a
repr, a log line or an artifact (the local stack hands its generated ones straight to boto3).
Every botocore error is translated in ``Store._calling``, once (``flows.store.translate``), into
``flows.errors`` with a message that says what to do.

Every object newsvault writes carries its SHA-256 twice: as ``x-amz-checksum-sha256``, which the
server checks against the bytes it receives and refuses the write if they differ (``BadDigest``),
and as ``x-amz-meta-sha256``, which any S3 keeps (some keep no checksums). So the client sends a
body without hashing it (no signed payload: the signed checksum header protects the bytes
instead), and a file is read once, as it streams.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from flows.errors import (
    ConfigError,
    StoreNoBucketError,
    StoreNotFoundError,
    StorePreconditionError,
    StoreVerifyError,
)
from flows.store.manifest import sha256_file
from flows.store.translate import translate

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
else:
    S3Client = Any

DEFAULT_BUCKET = "newsvault"
SHA256_META = "sha256"  # x-amz-meta-sha256: the object's SHA-256, hex
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoreConfig:
    """Where the archive lives. ``endpoint`` None means AWS itself."""

    bucket: str = DEFAULT_BUCKET
    endpoint: str | None = None
    prefix: str = ""
    region: str = "us-east-1"
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    # Waits between whole-object upload attempts while S3 is unreachable (flows.store.upload).
    retry_backoff: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0)
    # Objects of one run uploaded at once (a single PUT is latency-bound, not bandwidth-bound).
    upload_workers: int = 4

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> StoreConfig:
        env = os.environ if env is None else env
        prefix = env.get("NEWSVAULT_S3_PREFIX", "").strip("/")
        tuning: dict[str, Any] = {}
        try:
            if env.get("NEWSVAULT_S3_MAX_ATTEMPTS"):
                tuning["max_attempts"] = max(1, int(env["NEWSVAULT_S3_MAX_ATTEMPTS"]))
            if env.get("NEWSVAULT_S3_RETRY_BACKOFF") is not None:
                raw = env["NEWSVAULT_S3_RETRY_BACKOFF"]
                tuning["retry_backoff"] = tuple(float(x) for x in raw.split(",") if x.strip())
            if env.get("NEWSVAULT_S3_UPLOAD_WORKERS"):
                tuning["upload_workers"] = max(1, int(env["NEWSVAULT_S3_UPLOAD_WORKERS"]))
        except ValueError as exc:
            raise ConfigError(
                "NEWSVAULT_S3_MAX_ATTEMPTS and NEWSVAULT_S3_UPLOAD_WORKERS must be numbers and "
                "NEWSVAULT_S3_RETRY_BACKOFF comma-separated seconds (e.g. 1,2,4,8)"
            ) from exc
        return cls(
            bucket=env.get("NEWSVAULT_S3_BUCKET") or DEFAULT_BUCKET,
            endpoint=check_endpoint(env.get("NEWSVAULT_S3_ENDPOINT") or None),
            prefix=f"{prefix}/" if prefix else "",
            region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
            **tuning,
        )

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} at {self.endpoint or 'AWS'}"


def check_endpoint(endpoint: str | None) -> str | None:
    """An endpoint is an address, never a place for credentials: one written with them
    (``http://KEY:SECRET@host``) is refused before it can reach a log, an artifact or Prefect."""
    if endpoint is None:
        return None
    try:
        parts = urlsplit(endpoint)
        userinfo = parts.username is not None or parts.password is not None
    except ValueError:
        raise ConfigError(
            "NEWSVAULT_S3_ENDPOINT is not a URL such as http://127.0.0.1:8333"
        ) from None
    if userinfo or "@" in parts.netloc:
        raise ConfigError(  # (nor the endpoint itself, which would print them)
            "NEWSVAULT_S3_ENDPOINT must not carry credentials (user:secret@): give the address "
            "only and the keys in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
        )
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            "NEWSVAULT_S3_ENDPOINT must be an http(s) URL such as http://127.0.0.1:8333"
        )
    return endpoint


def client_config(config: StoreConfig, max_attempts: int | None = None, **overrides: Any) -> Config:
    """botocore settings: path-style (SeaweedFS, MinIO), checksums only where we send them (the
    SDK's default CRC trips SeaweedFS), and no payload hashing for the signature (every body we
    send carries a signed ``x-amz-checksum-sha256`` the server verifies)."""
    settings: dict[str, Any] = {
        "connect_timeout": config.connect_timeout,
        "read_timeout": config.read_timeout,
        "retries": {"max_attempts": max_attempts or config.max_attempts, "mode": "standard"},
        "request_checksum_calculation": "when_required",
        "response_checksum_validation": "when_required",
        "s3": {"addressing_style": "path", "payload_signing_enabled": False},
    }
    settings.update(overrides)
    return Config(**settings)


def make_client(
    config: StoreConfig,
    *,
    max_attempts: int | None = None,
    credentials: tuple[str, str] | None = None,
) -> S3Client:
    """A boto3 client; ``credentials`` (access key, secret) for the local stack, else boto3
    finds them itself."""
    key, secret = credentials if credentials is not None else (None, None)
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=config.endpoint,
        region_name=config.region,
        config=client_config(config, max_attempts),
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    return client


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD says about an object: ``checksum`` is the SHA-256 (hex) the server verified
    when the object was written (None if it keeps none), ``meta_sha256`` the one its metadata
    names."""

    key: str
    size: int
    etag: str
    checksum: str | None
    meta_sha256: str | None

    @property
    def sha256(self) -> str | None:
        return self.checksum or self.meta_sha256


def _b64(sha256: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


def _hex(checksum: str) -> str | None:
    """A full-object ``x-amz-checksum-sha256`` as hex; None for a composite (multipart) one."""
    try:
        raw = base64.b64decode(checksum, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None


class Store:
    """One bucket (and key prefix) of S3 through one boto3 client. Every request goes through
    ``_calling``, which translates botocore's errors into ``flows.errors``: missing objects
    become ``StoreNotFoundError`` (``head`` and ``get`` return None instead; a missing bucket
    is always an error), lost conditions ``StorePreconditionError`` (``put_if`` returns None
    instead), refused checksums ``StoreVerifyError``."""

    def __init__(
        self,
        config: StoreConfig,
        client: S3Client | None = None,
        *,
        max_attempts: int | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.config = config
        self.client = (
            client
            if client is not None
            else make_client(config, max_attempts=max_attempts, credentials=credentials)
        )

    @property
    def bucket(self) -> str:
        return self.config.bucket

    def url(self, key: str) -> str:
        return f"s3://{self.config.bucket}/{key}"

    @contextlib.contextmanager
    def _calling(self, action: str, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            raise translate(
                exc, action, key, bucket=self.config.bucket, endpoint=self.config.endpoint
            ) from exc

    # the bucket

    def check(self) -> None:
        """The bucket exists and the credentials are accepted (or a translated error)."""
        with self._calling(f"check bucket {self.bucket!r}"):
            self.client.head_bucket(Bucket=self.bucket)

    def ensure_bucket(self) -> bool:
        """Create the bucket unless it exists; True if this call created it."""
        try:
            self.check()
            return False
        except StoreNotFoundError:
            pass
        try:
            with self._calling(f"create bucket {self.bucket!r}"):
                self.client.create_bucket(Bucket=self.bucket)
        except StorePreconditionError:
            return False  # created meanwhile (BucketAlreadyOwnedByYou)
        return True

    # reading

    def head(self, key: str) -> ObjectInfo | None:
        """The object's size, ETag and SHA-256, or None if it does not exist."""
        try:
            with self._calling(f"check {key}", key):
                got = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except StoreNoBucketError:
            raise
        except StoreNotFoundError:
            return None
        meta = {k.lower(): v for k, v in got.get("Metadata", {}).items()}
        checksum = got.get("ChecksumSHA256")
        return ObjectInfo(
            key,
            int(got.get("ContentLength", -1)),
            str(got.get("ETag", "")),
            _hex(checksum) if checksum else None,
            meta.get(SHA256_META),
        )

    def get_with_etag(self, key: str) -> tuple[bytes, str] | None:
        """The object's bytes and ETag, or None if it does not exist."""
        try:
            with self._calling(f"read {key}", key):
                got = self.client.get_object(Bucket=self.bucket, Key=key)
                return bytes(got["Body"].read()), str(got.get("ETag", ""))
        except StoreNoBucketError:
            raise
        except StoreNotFoundError:
            return None

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None if it does not exist."""
        found = self.get_with_etag(key)
        return None if found is None else found[0]

    def get_range(self, key: str, start: int, length: int) -> bytes:
        """``length`` bytes from ``start`` (fewer at the object's end)."""
        with self._calling(f"read bytes {start}+{length} of {key}", key):
            got = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
            return bytes(got["Body"].read())

    def download(self, key: str, out: IO[bytes]) -> tuple[int, str]:
        """Stream the object into ``out``, hashing it on the way; (bytes, SHA-256 hex)."""
        digest, size = hashlib.sha256(), 0
        with self._calling(f"download {key}", key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
            while chunk := body.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        return size, digest.hexdigest()

    def list_objects(self, prefix: str) -> list[tuple[str, int]]:
        """(key, size) of every object under ``prefix``, in key order."""
        found: list[tuple[str, int]] = []
        with self._calling(f"list {prefix}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                found += [(obj["Key"], obj["Size"]) for obj in page.get("Contents", [])]
        return sorted(found)

    def list_dirs(self, prefix: str) -> list[str]:
        """The names one ``/`` level below ``prefix`` (``a/b/`` under ``a/`` is ``b``), sorted."""
        found: list[str] = []
        with self._calling(f"list {prefix}"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    found.append(common.get("Prefix", "")[len(prefix) :].strip("/"))
        return sorted(found)

    # writing

    def _put(self, key: str, body: bytes | IO[bytes], size: int, sha256: str, **extra: Any) -> str:
        """One PUT with the body's SHA-256 for the server to verify; the new ETag."""
        with self._calling(f"upload {key}", key):
            written = self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentLength=size,
                ChecksumSHA256=_b64(sha256),
                Metadata={SHA256_META: sha256},
                **extra,
            )
        return str(written.get("ETag", ""))

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> str:
        """Write ``data``; the server verifies its SHA-256 before storing it. The new ETag."""
        extra = {"ContentType": content_type} if content_type else {}
        return self._put(key, data, len(data), hashlib.sha256(data).hexdigest(), **extra)

    def put_file(self, key: str, path: Path, *, size: int, sha256: str) -> ObjectInfo:
        """Upload a file whose size and SHA-256 are known (from its manifest) and prove the
        object has them: the server refuses bytes that do not hash to ``sha256``
        (``StoreVerifyError``), and a HEAD afterwards must show both. The file is read once; a
        server that keeps no checksum proves nothing, so then the file is hashed here."""
        with open(path, "rb") as body:
            self._put(key, body, size, sha256)
        head = self.head(key)
        proven = head is not None and head.size == size and head.sha256 == sha256
        if proven and head is not None and head.checksum is None:
            proven = sha256_file(path) == sha256  # the server kept no checksum: it proved nothing
        if head is None or not proven:
            raise StoreVerifyError(
                f"{self.url(key)} does not match {path} after upload (size or sha256); "
                "the local spool is kept; rerun to retry"
            )
        return head

    def put_if(
        self,
        key: str,
        data: bytes,
        *,
        if_match: str | None = None,
        content_type: str | None = None,
    ) -> str | None:
        """Conditional write: only if ``key`` does not exist (``if_match`` None) or still has
        the ETag ``if_match``. The new ETag, or None when the condition failed."""
        condition = {"IfNoneMatch": "*"} if if_match is None else {"IfMatch": if_match}
        extra = {"ContentType": content_type} if content_type else {}
        try:
            return self._put(
                key, data, len(data), hashlib.sha256(data).hexdigest(), **condition, **extra
            )
        except StorePreconditionError:
            return None

    def delete(self, key: str) -> None:
        with self._calling(f"delete {key}", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)


def check_store(config: StoreConfig) -> None:
    """Fail fast, before crawling, when the store can't be written."""
    Store(config, max_attempts=2).check()
