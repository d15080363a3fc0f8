"""The one translation of botocore's errors into ``flows.errors``: a single line that says what
failed and what to do. ``Store._calling`` (``flows.store.s3``) applies it to every request."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

from flows.errors import (
    StoreAuthError,
    StoreError,
    StoreNoBucketError,
    StoreNotFoundError,
    StorePreconditionError,
    StoreUnreachableError,
    StoreVerifyError,
)

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
_MISSING_CODES = {"NoSuchKey", "NoSuchBucket", "NotFound", "404"}
_PRECONDITION_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "412"}
_DIGEST_CODES = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"}


def translate(
    exc: Exception, action: str, key: str | None, *, bucket: str, endpoint: str | None
) -> StoreError:
    """One line that says what failed and what to do; ``Store._calling`` raises it ``from
    exc``. ``key`` None means a request about the bucket itself."""
    if endpoint is None and isinstance(exc, NoCredentialsError):
        return StoreAuthError(  # nothing configured at all: most likely the stack is down
            f"no S3 to {action}: the local stack does not run (start it with `newsvault up`); "
            "for another S3 set NEWSVAULT_S3_ENDPOINT, AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY"
        )
    endpoint = endpoint or "AWS S3"
    if isinstance(exc, EndpointConnectionError | ConnectionClosedError | ConnectionError):
        return StoreUnreachableError(
            f"cannot reach S3 at {endpoint} while trying to {action}: is the server running? "
            "start it with `newsvault up` or set NEWSVAULT_S3_ENDPOINT"
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
                f"{action}: {FIX_CREDENTIALS}"
            )
        if code in _MISSING_CODES or status == 404:
            if key is None or code == "NoSuchBucket":
                return StoreNoBucketError(
                    f"bucket {bucket!r} does not exist at {endpoint}: create it (the local "
                    "stack's `newsvault up` does) or set NEWSVAULT_S3_BUCKET"
                )
            return StoreNotFoundError(
                f"s3://{bucket}/{key} does not exist at {endpoint} (trying to {action})"
            )
        if code in _PRECONDITION_CODES or status == 412 or code == "BucketAlreadyOwnedByYou":
            return StorePreconditionError(
                f"S3 at {endpoint} refused to {action}: {code or status} (it changed meanwhile)"
            )
        if code in _DIGEST_CODES:
            return StoreVerifyError(
                f"S3 at {endpoint} refused to {action}: the bytes it received do not have the "
                f"SHA-256 they were sent with ({code}); nothing was stored"
            )
        if (isinstance(status, int) and status >= 500) or code in _TRANSIENT_CODES:
            # A server starting up or overloaded (SeaweedFS answers 500 for a moment after a
            # restart): transient, so retried like an unreachable server.
            return StoreUnreachableError(
                f"S3 at {endpoint} failed while trying to {action} ({code or status}); "
                "it may be starting or overloaded: try again in a moment"
            )
        return StoreError(f"S3 at {endpoint} refused to {action}: {code or status}")
    if isinstance(exc, BotoCoreError):
        return StoreUnreachableError(
            f"S3 at {endpoint} failed while trying to {action} ({type(exc).__name__}); "
            "try again in a moment"
        )
    return StoreError(f"S3 at {endpoint} failed while trying to {action}: {exc}")
