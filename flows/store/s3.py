"""The S3 boundary: configuration from the environment, the client, and error translation.

Credentials are never held in our objects: boto3 reads ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY`` (or any other standard source) itself, so they cannot leak through a
repr, a log line or an artifact. Every botocore error is translated here, once, into
``flows.errors`` with a message that says what to do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from flows.errors import ConfigError, StoreAuthError, StoreError, StoreUnreachableError

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
else:
    S3Client = Any

DEFAULT_BUCKET = "newsvault"
FIX_CREDENTIALS = (
    'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (for the local stack: eval "$(newsvault env)")'
)
_TRANSIENT_CODES = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"}
_AUTH_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "InvalidToken",
    "ExpiredToken",
    "403",
}


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
            endpoint=env.get("NEWSVAULT_S3_ENDPOINT") or None,
            prefix=f"{prefix}/" if prefix else "",
            region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
            **tuning,
        )

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} at {self.endpoint or 'AWS'}"


def make_client(config: StoreConfig, *, max_attempts: int | None = None) -> S3Client:
    botocore_config = Config(
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        retries={"max_attempts": max_attempts or config.max_attempts, "mode": "standard"},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"},
    )
    client: S3Client = boto3.client(
        "s3", endpoint_url=config.endpoint, region_name=config.region, config=botocore_config
    )
    return client


def translate(exc: Exception, config: StoreConfig, action: str) -> StoreError:
    """One line that says what failed and what to do; the caller raises it ``from exc``."""
    endpoint = config.endpoint or "AWS S3"
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | ConnectionError):
        return StoreUnreachableError(
            f"cannot reach S3 at {endpoint} while trying to {action}: is the server running? "
            "start it with `newsvault up` or set NEWSVAULT_S3_ENDPOINT; the local spool is kept"
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return StoreAuthError(f"no S3 credentials to {action} at {endpoint}: {FIX_CREDENTIALS}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _AUTH_CODES or status == 403:
            return StoreAuthError(
                f"S3 at {endpoint} rejected the credentials ({code or status}) while trying to "
                f"{action}: {FIX_CREDENTIALS}; the local spool is kept"
            )
        if code in ("NoSuchBucket", "404") and action.startswith("check bucket"):
            return StoreError(
                f"bucket {config.bucket!r} does not exist at {endpoint}: create it (the local "
                "stack's `newsvault up` does) or set NEWSVAULT_S3_BUCKET"
            )
        if (isinstance(status, int) and status >= 500) or code in _TRANSIENT_CODES:
            # A server starting up or overloaded (SeaweedFS answers 500 for a moment after a
            # restart): transient, so retried like an unreachable server.
            return StoreUnreachableError(
                f"S3 at {endpoint} failed while trying to {action} ({code or status}); "
                "the local spool is kept; retry with `newsvault run`"
            )
        return StoreError(f"S3 at {endpoint} refused to {action}: {code or status}")
    if isinstance(exc, BotoCoreError):
        return StoreUnreachableError(
            f"S3 at {endpoint} failed while trying to {action} ({type(exc).__name__}); "
            "the local spool is kept; retry with `newsvault run`"
        )
    return StoreError(f"S3 at {endpoint} failed while trying to {action}: {exc}")


def check_store(config: StoreConfig) -> None:
    """Fail fast, before crawling, when the store can't be written."""
    client = make_client(config, max_attempts=2)
    try:
        client.head_bucket(Bucket=config.bucket)
    except (BotoCoreError, ClientError) as exc:
        raise translate(exc, config, f"check bucket {config.bucket!r}") from exc
