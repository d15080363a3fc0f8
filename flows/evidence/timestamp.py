"""RFC 3161 time-stamping: a token from a configurable TSA over a run's signature, and its check.

The request and response are built and parsed by ``rfc3161-client``; the transport is one HTTP
POST (``application/timestamp-query``). A TSA that cannot answer is a ``TimestampUnavailable``,
which the caller turns into "timestamp pending" (retried by the next run), never a failed run.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    PKIStatus,
    TimeStampRequest,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from flows.errors import ConfigError, NewsvaultError

TSA_URL_ENV: Final = "NEWSVAULT_TSA_URL"
TSA_CA_ENV: Final = "NEWSVAULT_TSA_CA"  # PEM file: the TSA roots a verifier trusts
_TIMEOUT_S: Final = 20.0
_MAX_REPLY: Final = 1024 * 1024


class TimestampUnavailable(NewsvaultError):
    """The TSA did not give a token now (down, refused, garbled); a later run asks again."""


def tsa_url_from_env(env: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    url = env.get(TSA_URL_ENV, "").strip()
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"${TSA_URL_ENV} must be an http(s) URL, not {url!r}")
    return url or None


def request_token(url: str, data: bytes, timeout: float = _TIMEOUT_S) -> bytes:
    """The DER ``TimeStampResp`` a TSA gives for ``data`` (SHA-256 imprint, nonce, with its
    certificate), checked to be granted and to cover ``data``."""
    request = build_request(data)
    post = urllib.request.Request(  # noqa: S310 (the scheme is checked: http or https)
        url,
        data=request.as_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(post, timeout=timeout) as reply:  # noqa: S310
            body: bytes = reply.read(_MAX_REPLY)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TimestampUnavailable(f"TSA {url} did not answer: {exc}") from None
    return accept_reply(request, body, f"TSA {url}")


def build_request(data: bytes) -> TimeStampRequest:
    return TimestampRequestBuilder(data=data, hash_algorithm=HashAlgorithm.SHA256).build()


def accept_reply(request: TimeStampRequest, body: bytes, tsa: str) -> bytes:
    """``body`` if it is a granted response to ``request``; else ``TimestampUnavailable``."""
    try:
        response = decode_timestamp_response(body)
    except ValueError:
        raise TimestampUnavailable(f"{tsa} answered with no timestamp response") from None
    if PKIStatus(response.status) not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        raise TimestampUnavailable(f"{tsa} refused: status {response.status}")
    if response.tst_info.nonce != request.nonce:
        raise TimestampUnavailable(f"{tsa} answered another request (nonce)")
    if response.tst_info.message_imprint.message != request.message_imprint.message:
        raise TimestampUnavailable(f"{tsa} stamped other data")
    return response.as_bytes()


def token_time(token: bytes) -> datetime:
    """The time a (stored, well-formed) token names."""
    gen_time: datetime = decode_timestamp_response(token).tst_info.gen_time
    return gen_time


def load_roots(path: Path, what: str = "TSA roots") -> list[x509.Certificate]:
    """The trusted TSA roots (a PEM bundle); ``what`` names them in errors."""
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{what} {path}: {exc.strerror}") from None
    except ValueError:
        raise ConfigError(f"{what} {path}: not a PEM certificate bundle") from None
    return certs


def roots_from_env(env: Mapping[str, str] | None = None) -> list[x509.Certificate] | None:
    env = os.environ if env is None else env
    path = env.get(TSA_CA_ENV, "").strip()
    return load_roots(Path(path)) if path else None


def check_token(token: bytes, data: bytes, roots: list[x509.Certificate]) -> datetime:
    """The time a token vouches for ``data``, chained to ``roots``; a ``ValueError`` with one
    line saying why not (garbled, other data, untrusted or expired TSA certificate)."""
    try:
        response = decode_timestamp_response(token)
    except ValueError:
        raise ValueError("not an RFC 3161 timestamp response") from None
    builder = VerifierBuilder()
    for root in roots:
        builder = builder.add_root_certificate(root)
    try:
        builder.build().verify_message(response, data)
    except VerificationError as exc:
        raise ValueError(f"timestamp token does not verify: {exc}") from None
    except ValueError as exc:  # certificate parsing inside the verifier
        raise ValueError(f"timestamp token does not verify: {exc}") from None
    gen_time: datetime = response.tst_info.gen_time
    for cert in _embedded(response.signed_data.certificates):
        if not cert.not_valid_before_utc <= gen_time <= cert.not_valid_after_utc:
            raise ValueError(
                f"TSA certificate {cert.subject.rfc4514_string()} was not valid at "
                f"{gen_time.isoformat()}"
            )
    return gen_time


def _embedded(ders: set[bytes]) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(der) for der in sorted(ders)]
