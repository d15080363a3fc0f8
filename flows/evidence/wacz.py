"""WACZ signatures (wacz-auth 0.1.0): signing ``datapackage-digest.json`` and ``verify
--wacz``, which re-checks a package from its bytes alone. The anonymous form is here; the domain
form (a signing server's certificate and token) is ``domain``.

As ArchiveWeb.page and the other implementations do: the signature is ECDSA over the ASCII
``hash`` string ("sha256:…") with SHA-256, base64; ``publicKey`` is the base64 DER
SubjectPublicKeyInfo (P-384 here). The signature is the raw r||s (IEEE P1363, 96 bytes), not
DER: ReplayWeb.page checks an anonymous signature with WebCrypto's ``verify``, which takes only
that form (wabac.js ``verifyWACZSignature``; a DER signature fails there), and ArchiveWeb.page,
which signs with WebCrypto, writes it. ``verify`` accepts both. ``created`` equals the data
package's (py-wacz checks it). Which key signed is an identity only if the key is known:
``verify`` names its key id and says whether the archive's bucket publishes it.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from flows.evidence.domain import DomainSigner, verify_domain
from flows.evidence.signing import Signer, b64, key_id, public_der, unb64
from flows.evidence.verify import Finding

WACZ_AUTH_VERSION: Final = "0.1.0"
_CHUNK: Final = 1024 * 1024
_DIGEST: Final = "datapackage-digest.json"
_PACKAGE: Final = "datapackage.json"
# What zipfile raises for damaged members: bad CRC or header, "encrypted" or unknown-method
# flags, a broken deflate stream, a truncated file.
_ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
)


WaczSigner = Signer | DomainSigner  # the archive's own key, or a domain's signing server


def wacz_signed_data(
    signer: WaczSigner, digest: str, created: str, software: str
) -> dict[str, Any]:
    """The ``signedData`` of a package whose datapackage.json hashes to ``digest``: anonymous
    with the archive's key (raw r||s, as ReplayWeb.page requires), or the domain form from a
    signing server."""
    if isinstance(signer, DomainSigner):
        return signer.signed_data(digest, created)
    signature = raw_signature(signer.sign_with(digest.encode("ascii"), hashes.SHA256()))
    return {
        "hash": digest,
        "created": created,
        "software": software,
        "version": WACZ_AUTH_VERSION,
        "signature": b64(signature),
        "publicKey": b64(public_der(signer.public)),
    }


def raw_signature(der: bytes) -> bytes:
    """A P-384 ECDSA signature as WebCrypto makes and checks it: r||s, 48 bytes each."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")


def _sha256(zf: zipfile.ZipFile, name: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as fh:  # a CRC-32 mismatch raises BadZipFile at the end
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class _Trust:
    keys: set[str] | None
    domain_roots: list[x509.Certificate] | None
    tsa_roots: list[x509.Certificate] | None


def verify_wacz(
    path: Path,
    known_keys: set[str] | None = None,
    *,
    domain_roots: list[x509.Certificate] | None = None,
    tsa_roots: list[x509.Certificate] | None = None,
) -> list[Finding]:
    """Every resource's size and hash, the digest of datapackage.json, its signature; each
    problem one line naming the member. ``known_keys``: key ids this archive publishes (the
    anonymous form); ``domain_roots``, ``tsa_roots``: what the user trusts (the domain form)."""
    trust = _Trust(known_keys, domain_roots, tsa_roots)
    try:
        with zipfile.ZipFile(path) as zf:
            return list(_verify(zf, path.name, trust))
    except _ZIP_ERRORS as exc:
        return [Finding(path.name, f"not a readable WACZ (zip) file: {exc}")]


def _header_problems(zf: zipfile.ZipFile) -> Iterator[tuple[str, str]]:
    """Each member's local header must repeat its central directory entry (zipfile reads the
    latter, so a changed local header would otherwise go unnoticed)."""
    fh = zf.fp
    if fh is None:
        return
    for info in zf.infolist():
        fh.seek(info.header_offset)
        local = fh.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            yield info.filename, "its local header is missing"
            continue
        (_sig, version, flags, method, mtime, mdate, crc, csize, usize, nlen, _elen) = (
            struct.unpack("<4sHHHHHIIIHH", local)
        )
        name = fh.read(nlen)
        dostime = (info.date_time[3] << 11) | (info.date_time[4] << 5) | (info.date_time[5] // 2)
        dosdate = ((info.date_time[0] - 1980) << 9) | (info.date_time[1] << 5) | info.date_time[2]
        central = (info.extract_version, info.flag_bits, info.compress_type, dostime, dosdate)
        sizes = (info.CRC, info.compress_size, info.file_size)
        if flags & 0x08:  # sizes in a data descriptor: the local ones are zero
            sizes = (crc, csize, usize)
        if (version, flags, method, mtime, mdate) != central or (crc, csize, usize) != sizes:
            yield info.filename, "its local header differs from the central directory"
        elif name != info.orig_filename.encode("utf-8" if flags & 0x800 else "cp437"):
            yield info.filename, "its local header names another file"


def _verify(zf: zipfile.ZipFile, name: str, trust: _Trust) -> Iterator[Finding]:
    for member, problem in _header_problems(zf):
        yield Finding(f"{name}:{member}", problem)
    members = set(zf.namelist())
    for missing in (_PACKAGE, _DIGEST):
        if missing not in members:
            yield Finding(f"{name}:{missing}", "missing (an unsigned or incomplete package)")
            return
    raw_package = zf.read(_PACKAGE)
    package = _object(raw_package)
    if package is None:
        yield Finding(f"{name}:{_PACKAGE}", "not a JSON object")
        return
    listed: set[str] = set()
    for resource in package.get("resources", []):
        member = str(resource.get("path", ""))
        listed.add(member)
        if member not in members:
            yield Finding(f"{name}:{member}", "listed in datapackage.json but missing")
            continue
        try:
            size, digest = _sha256(zf, member)
        except _ZIP_ERRORS as exc:
            yield Finding(f"{name}:{member}", f"unreadable: {exc}")
            continue
        if digest != resource.get("hash") or size != resource.get("bytes"):
            yield Finding(f"{name}:{member}", "size or hash differs from datapackage.json")
    for extra in sorted(members - listed - {_PACKAGE, _DIGEST}):
        yield Finding(f"{name}:{extra}", "not listed in datapackage.json")
    yield from _verify_digest(zf.read(_DIGEST), raw_package, package, f"{name}:{_DIGEST}", trust)


def _object(raw: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(raw)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _verify_digest(
    raw: bytes, raw_package: bytes, package: dict[str, Any], where: str, trust: _Trust
) -> Iterator[Finding]:
    doc = _object(raw)
    if doc is None:
        yield Finding(where, "not a JSON object")
        return
    digest = "sha256:" + hashlib.sha256(raw_package).hexdigest()
    if doc.get("path") != _PACKAGE or doc.get("hash") != digest:
        yield Finding(where, "its hash is not datapackage.json's")
        return
    signed = doc.get("signedData")
    if not isinstance(signed, dict):
        yield Finding(where, "unsigned package (no signedData)")
        return
    if "domainCert" in signed:
        if signed.get("hash") != digest or signed.get("created") != package.get("created"):
            yield Finding(where, "signedData does not fit the package (hash, created)")
        elif signed.get("version") != WACZ_AUTH_VERSION:
            yield Finding(where, f"signedData is not wacz-auth {WACZ_AUTH_VERSION}")
        else:
            yield from verify_domain(signed, where, trust.domain_roots, trust.tsa_roots)
        return
    known = trust.keys
    expected = {
        "hash": digest,
        "created": package.get("created"),
        "software": package.get("software"),
        "version": WACZ_AUTH_VERSION,
        "signature": signed.get("signature"),
        "publicKey": signed.get("publicKey"),
    }
    wrong = sorted(k for k in set(signed) | set(expected) if signed.get(k) != expected.get(k))
    if wrong:
        yield Finding(where, f"signedData does not fit the package ({', '.join(wrong)})")
        return
    public = _public_key(str(signed["publicKey"]))
    signature = unb64(str(signed["signature"]))
    if public is None or signature is None:
        yield Finding(where, "signedData has no usable ECDSA publicKey or signature")
        return
    if not _holds(public, signature, digest.encode("ascii")):
        yield Finding(where, "the signature does not hold")
        return
    kid = key_id(public)
    if known is not None and kid not in known:
        yield Finding(where, f"signed by key {kid[:16]}, which this archive does not publish")
        return
    who = "this archive's key" if known is not None else "key"
    yield Finding(where, f"signed by {who} {kid[:16]} (wacz-auth {WACZ_AUTH_VERSION})", ok=True)


def _public_key(text: str) -> ec.EllipticCurvePublicKey | None:
    der = unb64(text)
    if der is None:
        return None
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, UnsupportedAlgorithm):
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) else None


def _holds(public: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    """DER, or the raw r||s WebCrypto produces (ArchiveWeb.page signs in the browser)."""
    half = (public.curve.key_size + 7) // 8
    candidates = [signature]
    if len(signature) == 2 * half:
        r, s = signature[:half], signature[half:]
        candidates.append(encode_dss_signature(int.from_bytes(r), int.from_bytes(s)))
    for candidate in candidates:
        try:
            public.verify(candidate, data, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            continue
        return True
    return False
