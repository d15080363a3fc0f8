"""A local RFC 3161 time-stamping authority: OpenSSL's ``ts -reply`` behind a small HTTP server.

Real cryptography, local trust: ``make_pki`` generates a CA and a TSA certificate (critical
``timeStamping`` extended key usage) under a home directory, once; every POSTed
``application/timestamp-query`` is answered by ``openssl ts -reply``. Used by ``newsvault up``
through ``python -m infra.local.tsa HOME PORT``, by tests and by ``make demo``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

POLICY: Final = "1.3.6.1.4.1.4146.2.3"  # any OID names the local TSA's policy
_MAX_QUERY: Final = 64 * 1024
_CONFIG: Final = """\
[ tsa ]
default_tsa = local_tsa
[ local_tsa ]
dir = {home}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha384
default_policy = {policy}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class TsaPki:
    """Where a local TSA keeps its CA, certificate, key, serial and OpenSSL configuration."""

    home: Path

    @property
    def ca(self) -> Path:
        """The root a verifier trusts (``NEWSVAULT_TSA_CA``)."""
        return self.home / "ca.pem"

    @property
    def cert(self) -> Path:
        return self.home / "tsa.pem"

    @property
    def key(self) -> Path:
        return self.home / "tsa.key"

    @property
    def config(self) -> Path:
        return self.home / "tsa.cnf"


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "newsvault local stack"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def make_pki(home: Path, *, now: datetime | None = None, tsa_days: int = 3650) -> TsaPki:
    """Generate the CA and TSA certificate once (kept across restarts, so old tokens verify).
    ``now``/``tsa_days`` let tests make a TSA whose certificate has expired."""
    pki = TsaPki(home)
    if pki.config.is_file():
        return pki
    home.mkdir(parents=True, exist_ok=True)
    now = now or datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP384R1())
    ca_name = _name("newsvault local TSA root")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=7300))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA384())
    )
    tsa_key = ec.generate_private_key(ec.SECP384R1())
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name("newsvault local TSA"))
        .issuer_name(ca_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=tsa_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA384())
    )
    pki.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.cert.write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    pki.key.touch(mode=0o600)
    pki.key.write_bytes(
        tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (home / "serial").write_text("01\n")
    pki.config.write_text(_CONFIG.format(home=home, policy=POLICY))
    return pki


_serial_lock = threading.Lock()  # openssl rewrites the serial file: one reply at a time


def reply(pki: TsaPki, query: bytes) -> bytes:
    """The DER ``TimeStampResp`` OpenSSL gives for a DER ``TimeStampReq``."""
    with _serial_lock:
        done = subprocess.run(
            [
                "openssl",
                "ts",
                "-reply",
                "-config",
                str(pki.config),
                "-queryfile",
                "/dev/stdin",
                "-out",
                "/dev/stdout",
            ],
            input=query,
            capture_output=True,
            timeout=30,
            check=False,
        )
    if done.returncode != 0 or not done.stdout:
        raise ValueError(done.stderr.decode(errors="replace").strip().splitlines()[-1:])
    return done.stdout


def _handler(pki: TsaPki) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # a health check: POST a query for a token
            body = b"newsvault local TSA: POST an application/timestamp-query\n"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if self.headers.get_content_type() != "application/timestamp-query" or not (
                0 < length <= _MAX_QUERY
            ):
                self.send_error(400, "expected an application/timestamp-query")
                return
            try:
                body = reply(pki, self.rfile.read(length))
            except (ValueError, subprocess.SubprocessError):
                self.send_error(400, "openssl ts refused the query")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            sys.stderr.write(f"tsa: {self.address_string()} {format % args}\n")

    return Handler


def server(pki: TsaPki, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A bound (not yet serving) TSA server; ``port`` 0 picks a free one."""
    return ThreadingHTTPServer((host, port), _handler(pki))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or not args[1].isdigit():
        print("usage: python -m infra.local.tsa HOME PORT", file=sys.stderr)
        return 2
    pki = make_pki(Path(args[0]))
    with server(pki, port=int(args[1])) as httpd:
        httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
