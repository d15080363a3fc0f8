"""WACZ domain identity (wacz-auth 0.1.0, domain form): ``signedData`` from an
authsign-compatible signing server, and its check by ``verify --wacz``.

The signing server (webrecorder/authsign, which Browsertrix calls) holds a domain certificate
and its key, signs the ``hash`` string, and has an RFC 3161 TSA stamp that signature; it answers
``{hash, created, version, software, signature, domain, domainCert, timeSignature,
timestampCert}``. The key never reaches us. The check follows the spec's "Verification": the
signature with the domain certificate's key, the certificate chained to roots the user trusts at
``created`` (a domain certificate lives days, so "valid now" would fail every old package), the
name it certifies, the token over the signature chained to the trusted TSA roots, and
``created`` no later than the token's time and at most 10 minutes before it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from flows.errors import ConfigError, NewsvaultError
from flows.evidence.timestamp import check_token, load_roots
from flows.evidence.verify import Finding

SIGN_URL_ENV: Final = "NEWSVAULT_WACZ_SIGN_URL"  # the signing server's /sign endpoint
SIGN_TOKEN_ENV: Final = "NEWSVAULT_WACZ_SIGN_TOKEN"  # noqa: S105 (a name: its bearer token)
DOMAIN_CA_ENV: Final = "NEWSVAULT_WACZ_CA"  # PEM: the domain certificate roots a verifier trusts
STAMP_WINDOW: Final = timedelta(minutes=10)  # wacz-auth: created within 10 min of the token
_TIMEOUT_S: Final = 60.0
_MAX_REPLY: Final = 1024 * 1024
_FIELDS: Final = ("signature", "domain", "domainCert", "timeSignature", "timestampCert")


class SigningServerError(NewsvaultError):
    """The signing server refused or could not be reached: nothing is exported unsigned."""


@dataclass(frozen=True)
class DomainSigner:
    """An authsign-compatible signing server; ``repr`` never shows the token."""

    url: str
    _token: str = field(default="", repr=False)

    def signed_data(self, digest: str, created: str) -> dict[str, Any]:
        """The server's ``signedData`` for ``digest`` at ``created`` (checked to be about them;
        the full check is ``verify --wacz``)."""
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"bearer {self._token}"
        post = urllib.request.Request(  # noqa: S310 (the scheme is checked: http or https)
            self.url,
            data=json.dumps({"hash": digest, "created": created}).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(post, timeout=_TIMEOUT_S) as reply:  # noqa: S310
                body: bytes = reply.read(_MAX_REPLY)
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode(errors="replace").strip().replace("\n", " ")
            what = "refused the token" if exc.code in (401, 403) else f"answered {exc.code}"
            raise SigningServerError(f"signing server {self.url} {what}: {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise SigningServerError(f"signing server {self.url} did not answer: {exc}") from None
        try:
            signed = json.loads(body)
        except ValueError:
            signed = None
        if not isinstance(signed, dict) or any(not signed.get(k) for k in _FIELDS):
            raise SigningServerError(f"signing server {self.url} gave no domain signature")
        if signed.get("hash") != digest or signed.get("created") != created:
            raise SigningServerError(f"signing server {self.url} signed other data")
        return signed


def domain_signer_from_env(env: Mapping[str, str] | None = None) -> DomainSigner | None:
    """The signing server the user configured (``$NEWSVAULT_WACZ_SIGN_URL`` and its token),
    or None: packages are then signed with the archive's own key, if any."""
    env = os.environ if env is None else env
    url = env.get(SIGN_URL_ENV, "").strip()
    if not url:
        return None
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"${SIGN_URL_ENV} must be an http(s) URL, not {url!r}")
    return DomainSigner(url, env.get(SIGN_TOKEN_ENV, "").strip())


def load_domain_roots(path: Path) -> list[x509.Certificate]:
    """The domain certificate roots to trust (a PEM bundle)."""
    return load_roots(path, "domain roots")


def domain_roots_from_env(env: Mapping[str, str] | None = None) -> list[x509.Certificate] | None:
    env = os.environ if env is None else env
    path = env.get(DOMAIN_CA_ENV, "").strip()
    return load_domain_roots(Path(path)) if path else None


def _certs(pem: object) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(str(pem).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return []


def _created(text: object) -> datetime | None:
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def verify_domain(
    signed: dict[str, Any],
    where: str,
    domain_roots: list[x509.Certificate] | None,
    tsa_roots: list[x509.Certificate] | None,
) -> Iterator[Finding]:
    """The findings about a domain-form ``signedData`` whose hash and created already fit the
    package: one line per problem, or one ok line naming the domain and the token's time."""
    chain = _certs(signed.get("domainCert"))
    created = _created(signed.get("created"))
    domain = str(signed.get("domain") or "")
    if not chain or created is None or not domain:
        yield Finding(where, "signedData has no usable domainCert, domain or created")
        return
    try:
        signature = base64.b64decode(str(signed.get("signature")), validate=True)
    except (ValueError, binascii.Error):
        signature = b""
    public = chain[0].public_key()
    if not signature or not isinstance(public, ec.EllipticCurvePublicKey):
        yield Finding(where, "signedData has no usable ECDSA signature or domain key")
        return
    try:
        public.verify(signature, str(signed["hash"]).encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        yield Finding(where, f"the signature does not hold with the certificate of {domain}")
        return
    if domain_roots is None:
        yield Finding(
            where,
            f"signed as {domain}, but no domain root is trusted: give --wacz-ca or "
            f"${DOMAIN_CA_ENV}",
        )
        return
    problem = _chain_problem(chain, domain, created, domain_roots)
    if problem:
        yield Finding(where, problem)
        return
    if not signed.get("timeSignature"):
        yield Finding(where, "timeSignature: missing (no timestamp token over the signature)")
        return
    if tsa_roots is None:
        yield Finding(where, "timeSignature cannot be checked: give --tsa-ca or $NEWSVAULT_TSA_CA")
        return
    try:
        token = base64.b64decode(str(signed.get("timeSignature")), validate=True)
        stamped = check_token(token, str(signed["signature"]).encode("ascii"), tsa_roots)
    except (ValueError, binascii.Error) as exc:
        yield Finding(where, f"timeSignature: {exc}")
        return
    if not _certs(signed.get("timestampCert")):
        yield Finding(where, "timestampCert is not a PEM certificate chain")
        return
    if not stamped - STAMP_WINDOW <= created <= stamped:
        yield Finding(
            where,
            f"created {created.isoformat()} is not within 10 minutes before the "
            f"timestamp {stamped.isoformat()}",
        )
        return
    issuer = chain[0].issuer.rfc4514_string()
    yield Finding(
        where,
        f"signed by domain {domain} (certificate from {issuer}), timestamped "
        f"{stamped.isoformat()} (wacz-auth 0.1.0, domain identity)",
        ok=True,
    )


def _chain_problem(
    chain: list[x509.Certificate], domain: str, at: datetime, roots: list[x509.Certificate]
) -> str | None:
    """Why the domain certificate does not chain to ``roots`` for ``domain`` at ``at``."""
    try:
        verifier = (
            PolicyBuilder().store(Store(roots)).time(at).build_server_verifier(x509.DNSName(domain))
        )
        verifier.verify(chain[0], chain[1:])
    except VerificationError as exc:
        why = str(exc).split(" (encountered processing")[0]  # not the certificate's repr
        return (
            f"the certificate of {domain} does not chain to a trusted root at "
            f"{at.isoformat()}: {why}"
        )
    except ValueError as exc:
        return f"the certificate of {domain} cannot be checked: {exc}"
    return None
