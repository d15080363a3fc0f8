"""The archive's signing key: ECDSA P-384 over SHA-384, loaded from the environment only.

The private key lives in this process's memory and nowhere else: no repr, no log line, no file we
write. Its public half is published in the bucket under its key id (the SHA-256 of its DER
SubjectPublicKeyInfo), so a rotated key leaves every older run verifiable by its own key id.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from flows.errors import ConfigError

KEY_ENV: Final = "NEWSVAULT_SIGNING_KEY"  # the PEM itself
KEY_FILE_ENV: Final = "NEWSVAULT_SIGNING_KEY_FILE"  # or a path to it
ALGORITHM: Final = "ecdsa-p384-sha384"


def key_id(public: ec.EllipticCurvePublicKey) -> str:
    """The SHA-256 (hex) of the key's DER SubjectPublicKeyInfo: names it without a registry."""
    return hashlib.sha256(public_der(public)).hexdigest()


def public_der(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_pem(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class Signer:
    """A P-384 private key; ``repr`` never shows it."""

    _key: ec.EllipticCurvePrivateKey = field(repr=False)

    @property
    def public(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, data: bytes) -> bytes:
        """The DER-encoded ECDSA signature of ``data`` (SHA-384)."""
        return self.sign_with(data, hashes.SHA384())

    def sign_with(self, data: bytes, digest: hashes.HashAlgorithm) -> bytes:
        """DER ECDSA with another digest (WACZ signatures use SHA-256, as their readers do)."""
        return self._key.sign(data, ec.ECDSA(digest))

    @classmethod
    def from_pem(cls, pem: bytes, source: str) -> Signer:
        """Parse a PEM private key; errors name ``source`` and never echo the key."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ConfigError(
                f"{source} is not an unencrypted PEM private key; make one with "
                "`openssl ecparam -name secp384r1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt`"
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp384r1":
            raise ConfigError(f"{source} must be an ECDSA P-384 (secp384r1) private key")
        return cls(key)

    @classmethod
    def generate(cls) -> Signer:
        return cls(ec.generate_private_key(ec.SECP384R1()))

    def private_pem(self) -> bytes:
        """For ``newsvault`` to write a new key where the user asked; never logged."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def signer_from_env(env: Mapping[str, str] | None = None) -> Signer | None:
    """The archive's key from ``NEWSVAULT_SIGNING_KEY`` (PEM) or ``NEWSVAULT_SIGNING_KEY_FILE``;
    None when neither is set (runs are then unsigned)."""
    env = os.environ if env is None else env
    if pem := env.get(KEY_ENV, "").strip():
        return Signer.from_pem(pem.encode(), f"${KEY_ENV}")
    if path := env.get(KEY_FILE_ENV, "").strip():
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigError(f"${KEY_FILE_ENV}: cannot read {path}: {exc.strerror}") from None
        return Signer.from_pem(data, path)
    return None


def load_public_pem(pem: bytes) -> ec.EllipticCurvePublicKey | None:
    """A published public key, or None if it is not a P-384 public key."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, UnsupportedAlgorithm):
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        return None
    return key


def signature_holds(public: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    try:
        public.verify(signature, data, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        return False
    return True


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (ValueError, TypeError):
        return None
