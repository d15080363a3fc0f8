"""A local authsign: webrecorder's signing server (the one Browsertrix calls for WACZ domain
signatures), offline, with a local domain CA and the local TSA.

authsign gets its domain certificate from Let's Encrypt by ACME (HTTP-01 on port 80) only when
its output directory lacks a valid one: at start it loads ``cert.pem`` (the chain) and
``private-key.pem`` (PKCS#8 encrypted with its fixed passphrase) and, if the pair matches and
the certificate is within its rotation time, signs with them and never calls ACME. So here a
local CA issues that certificate (P-256, as authsign makes its keys), ``NO_RENEW`` keeps its
renewal loop (which would call ACME) off, and its one timestamping URL is the local TSA; the
token carries the TSA's certificate. ``roots.yaml`` trusts the local domain CA and the TSA for
authsign's own ``/verify`` (which py-wacz's ``validate --verifier-url`` calls).

authsign pins its own FastAPI and pydantic, so it lives in ``.venv-authsign`` (made by ``make
install`` from ``infra/authsign-requirements.txt``), like pywb.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from flows.errors import InfraError
from infra.local.tsa import TsaPki

PASSPHRASE: Final = b"passphrase"  # authsign's fixed one for its key file (authsign.signer)
DOMAIN: Final = "archive.newsvault.test"
START_TIMEOUT: Final = 60.0
VENV_ENV: Final = "NEWSVAULT_AUTHSIGN_VENV"


@dataclass(frozen=True)
class SigningPki:
    """Where a local authsign keeps its domain CA, certificate, key and configuration."""

    home: Path

    @property
    def ca(self) -> Path:
        """The domain root a verifier trusts (``NEWSVAULT_WACZ_CA``)."""
        return self.home / "domain-ca.pem"

    @property
    def data(self) -> Path:
        return self.home / "data"

    @property
    def config(self) -> Path:
        return self.home / "config.yaml"

    @property
    def roots(self) -> Path:
        return self.home / "roots.yaml"


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _fingerprint(pem_file: Path) -> str:
    cert = x509.load_pem_x509_certificate(pem_file.read_bytes())
    return cert.fingerprint(hashes.SHA256()).hex()


def make_pki(
    home: Path, tsa: TsaPki, tsa_url: str, *, domain: str = DOMAIN, days: int = 7
) -> SigningPki:
    """A domain CA, a ``days``-long certificate for ``domain`` from it, and authsign's config
    (stamping with the TSA at ``tsa_url``)."""
    pki = SigningPki(home)
    pki.data.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "newsvault local stack"),
            x509.NameAttribute(NameOID.COMMON_NAME, "newsvault local domain root"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA384())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pki.ca.write_bytes(_pem(ca))
    (pki.data / "cert.pem").write_bytes(_pem(leaf) + _pem(ca))
    key_file = pki.data / "private-key.pem"
    key_file.touch(mode=0o600)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(PASSPHRASE),
        )
    )
    pki.roots.write_text(
        f"domain_cert_roots:\n  - {_fingerprint(pki.ca)}\n"
        # authsign takes the last certificate of the token's chain as its root: the token
        # carries the TSA's own certificate, so that is what it trusts (the CA for chains)
        f"timestamp_cert_roots:\n  - {_fingerprint(tsa.cert)}\n  - {_fingerprint(tsa.ca)}\n"
    )
    pki.config.write_text(
        f"signing:\n  domain: {domain}\n  email: nobody@{domain}\n  port: 80\n"
        f"  output: {pki.data}\n  staging: false\n"
        f"  timestamping:\n    - url: {tsa_url}\n"
        f"cert_duration:\n  days: {days}\n"
        f"stamp_duration:\n  minutes: 10\n"
        f"trusted_roots: {pki.roots}\n"
    )
    return pki


def uvicorn_bin() -> Path:
    default = Path(__file__).resolve().parents[2] / ".venv-authsign"
    venv = Path(os.environ.get(VENV_ENV, str(default)))
    binary = venv / "bin" / "uvicorn"
    if not binary.is_file():
        raise InfraError(f"authsign is not installed at {venv}: run `make install` to build it")
    return binary


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own http URL)
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer: it is up
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running(pki: SigningPki, port: int, token: str, log: Path) -> Iterator[str]:
    """authsign on 127.0.0.1:``port`` while the block runs; yields its base URL (``/sign``,
    ``/verify``). The token reaches it through its environment, never a file."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("NEWSVAULT_")},
        "CONFIG": str(pki.config),
        "AUTH_TOKEN": token,
        "NO_RENEW": "1",
    }
    command = [str(uvicorn_bin()), "authsign.main:app", "--host", "127.0.0.1", "--port", str(port)]
    with open(log, "ab") as out:
        proc = subprocess.Popen(command, env=env, cwd=pki.home, stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(base + "/docs"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise InfraError(f"authsign did not start on port {port}: see {log}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
