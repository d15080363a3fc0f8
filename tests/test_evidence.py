"""Evidence without servers: the archive's key, RFC 3161 tokens from OpenSSL's responder (the
local TSA's own ``reply``), tokens checked by OpenSSL independently of our code, and the checks
``verify`` runs inside WARC and CDXJ files."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_public_key,
    load_pem_private_key,
)

from flows.errors import ConfigError
from flows.evidence import (
    Signer,
    TimestampUnavailable,
    check_token,
    citation,
    key_id,
    signer_from_env,
    verify_wacz,
)
from flows.evidence.contents import Originals, cdxj_problems, read_warc, revisit_problems
from flows.evidence.domain import verify_domain
from flows.evidence.signing import load_public_pem, public_pem, signature_holds
from flows.evidence.timestamp import accept_reply, build_request, token_time, tsa_url_from_env
from flows.replay import export_wacz
from flows.replay.mirror import Mirror
from flows.warc import index_warcs
from infra.local import authsign, tsa

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tsa.TsaPki:
    return tsa.make_pki(tmp_path_factory.mktemp("tsa"))


def stamp(pki: tsa.TsaPki, data: bytes) -> bytes:
    request = build_request(data)
    return accept_reply(request, tsa.reply(pki, request.as_bytes()), "local TSA")


def roots(pki: tsa.TsaPki) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pki.ca.read_bytes())


# ---- the key ------------------------------------------------------------------------------------


def test_key_from_environment_signs_and_its_id_is_the_public_key_hash(tmp_path: Path) -> None:
    signer = Signer.generate()
    path = tmp_path / "key.pem"
    path.write_bytes(signer.private_pem())
    loaded = signer_from_env({"NEWSVAULT_SIGNING_KEY_FILE": str(path)})
    same = signer_from_env({"NEWSVAULT_SIGNING_KEY": signer.private_pem().decode()})
    assert loaded is not None and same is not None
    assert loaded.key_id == same.key_id == signer.key_id
    spki = signer.public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert signer.key_id == hashlib.sha256(spki).hexdigest()
    signature = loaded.sign(b"manifest")
    public = load_public_pem(public_pem(signer.public))
    assert public is not None and key_id(public) == signer.key_id
    assert signature_holds(public, signature, b"manifest")
    assert not signature_holds(public, signature, b"manifesT")
    assert not signature_holds(Signer.generate().public, signature, b"manifest")
    assert signer_from_env({}) is None


def test_the_key_never_shows_in_repr_or_errors(tmp_path: Path) -> None:
    signer = Signer.generate()
    secret_line = signer.private_pem().decode().splitlines()[1]
    assert secret_line not in repr(signer) and "_key" not in repr(signer)
    garbled = signer.private_pem().replace(secret_line.encode(), secret_line[::-1].encode())
    with pytest.raises(ConfigError) as caught:
        signer_from_env({"NEWSVAULT_SIGNING_KEY": garbled.decode()})
    assert secret_line not in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "key",
    [
        ec.generate_private_key(ec.SECP256R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ],
    ids=["p256", "rsa"],
)
def test_a_key_that_is_not_p384_is_refused(key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    with pytest.raises(ConfigError, match="P-384"):
        signer_from_env({"NEWSVAULT_SIGNING_KEY": pem})


def test_missing_key_file_and_bad_tsa_url_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        signer_from_env({"NEWSVAULT_SIGNING_KEY_FILE": str(tmp_path / "nope.pem")})
    with pytest.raises(ConfigError, match="http"):
        tsa_url_from_env({"NEWSVAULT_TSA_URL": "ftp://tsa"})
    assert tsa_url_from_env({}) is None


# ---- timestamps ---------------------------------------------------------------------------------


def test_token_verifies_here_and_with_openssl(pki: tsa.TsaPki, tmp_path: Path) -> None:
    signature = Signer.generate().sign(b"manifest")
    token = stamp(pki, signature)
    when = check_token(token, signature, roots(pki))
    assert when == token_time(token)
    assert abs(when - datetime.now(UTC)) < timedelta(hours=1)
    (tmp_path / "signature.der").write_bytes(signature)
    (tmp_path / "timestamp.tsr").write_bytes(token)
    verified = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(tmp_path / "signature.der"),
         "-in", str(tmp_path / "timestamp.tsr"), "-CAfile", str(pki.ca)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.returncode == 0 and "Verification: OK" in verified.stdout, verified.stderr
    (tmp_path / "other.der").write_bytes(signature[:-1] + bytes([signature[-1] ^ 1]))
    refused = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(tmp_path / "other.der"),
         "-in", str(tmp_path / "timestamp.tsr"), "-CAfile", str(pki.ca)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert refused.returncode != 0


def test_token_over_other_data_garbled_or_foreign_is_one_line(
    pki: tsa.TsaPki, tmp_path: Path
) -> None:
    signature = Signer.generate().sign(b"manifest")
    token = stamp(pki, signature)
    foreign = tsa.make_pki(tmp_path / "foreign")
    cases = {
        "other data": (token, signature + b"x", roots(pki)),
        "garbled": (token[:40] + bytes([token[40] ^ 1]) + token[41:], signature, roots(pki)),
        "truncated": (token[:-10], signature, roots(pki)),
        "foreign TSA": (stamp(foreign, signature), signature, roots(pki)),
    }
    for name, (tok, data, trusted) in cases.items():
        with pytest.raises(ValueError) as caught:
            check_token(tok, data, trusted)
        assert "\n" not in str(caught.value), name


def test_token_of_an_expired_tsa_certificate_is_refused(tmp_path: Path) -> None:
    expired = tsa.make_pki(tmp_path / "old", now=datetime.now(UTC) - timedelta(days=30), tsa_days=2)
    signature = Signer.generate().sign(b"manifest")
    token = stamp(expired, signature)
    with pytest.raises(ValueError, match=r"valid|verify"):
        check_token(token, signature, roots(expired))


def test_a_reply_that_is_not_a_token_is_unavailable_not_a_crash(pki: tsa.TsaPki) -> None:
    request = build_request(b"data")
    with pytest.raises(TimestampUnavailable, match="no timestamp response"):
        accept_reply(request, b"<html>proxy error</html>", "TSA x")
    other = tsa.reply(pki, build_request(b"data").as_bytes())  # another nonce
    with pytest.raises(TimestampUnavailable, match="nonce"):
        accept_reply(request, other, "TSA x")


# ---- inside the files ---------------------------------------------------------------------------


def test_golden_warc_digests_revisits_and_cdxj_hold(tmp_path: Path) -> None:
    warc = tmp_path / "revisits.warc"
    shutil.copy(GOLDEN / "revisits.warc", warc)
    records, problems = read_warc(warc)
    assert problems == [] and {r.type for r in records} == {"response", "revisit"}
    assert list(revisit_problems(records, Originals())) == []
    index_warcs([warc], tmp_path / "index.cdxj")
    by_offset = {(r.file, r.offset): r for r in records}
    assert list(cdxj_problems(tmp_path / "index.cdxj", by_offset)) == []


def test_flipped_payload_byte_broken_revisit_and_wrong_cdxj_line_are_found(
    tmp_path: Path,
) -> None:
    warc = tmp_path / "revisits.warc"
    data = (GOLDEN / "revisits.warc").read_bytes()
    index_warcs([GOLDEN / "revisits.warc"], tmp_path / "index.cdxj")
    at = data.index(b"vu\r\n\r\n") + 10  # inside the first response's (gzip) payload
    warc.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
    records, problems = read_warc(warc)
    assert any("digest failed" in p for p in problems), problems
    revisits = [r for r in records if r.type == "revisit"]  # their original is not there
    assert any("does not hold" in p for p in revisit_problems(revisits, Originals()))
    lines = (tmp_path / "index.cdxj").read_bytes().replace(b'"offset": "', b'"offset": "1')
    (tmp_path / "index.cdxj").write_bytes(lines)
    by_offset = {(r.file, r.offset): r for r in records}
    found = list(cdxj_problems(tmp_path / "index.cdxj", by_offset))
    assert found and all("no record starts" in p for p in found)


# ---- signed WACZ --------------------------------------------------------------------------------


def export_signed(tmp_path: Path, signer: Signer | None) -> Path:
    mirror_dir = tmp_path / "mirror"
    (mirror_dir / "archive").mkdir(parents=True)
    (mirror_dir / "indexes").mkdir()
    warc = mirror_dir / "archive" / "revisits.warc"
    shutil.copy(GOLDEN / "revisits.warc", warc)
    index_warcs([warc], mirror_dir / "indexes" / "revisits.cdxj")
    mirror = Mirror(
        "replica", mirror_dir, ["r"], [warc], [mirror_dir / "indexes" / "revisits.cdxj"]
    )
    return export_wacz(mirror, tmp_path / "out.wacz", title="t", signer=signer).path


def test_signed_wacz_follows_wacz_auth_and_verifies(tmp_path: Path) -> None:
    signer = Signer.generate()
    out = export_signed(tmp_path, signer)
    with zipfile.ZipFile(out) as zf:
        digest = json.loads(zf.read("datapackage-digest.json"))
        package = json.loads(zf.read("datapackage.json"))
    signed = digest["signedData"]
    assert signed["hash"] == digest["hash"] and signed["created"] == package["created"]
    public = load_der_public_key(base64.b64decode(signed["publicKey"]))
    assert isinstance(public, ec.EllipticCurvePublicKey) and public.curve.name == "secp384r1"
    raw = base64.b64decode(signed["signature"])  # r||s, as WebCrypto (ReplayWeb.page) takes it
    assert len(raw) == 96
    der = encode_dss_signature(int.from_bytes(raw[:48]), int.from_bytes(raw[48:]))
    public.verify(der, signed["hash"].encode(), ec.ECDSA(SHA256()))  # ECDSA/SHA-256 of the hash
    findings = verify_wacz(out, {signer.key_id})
    assert [f.ok for f in findings] == [True] and signer.key_id[:16] in findings[0].message


def test_wacz_signed_by_someone_else_or_unsigned_is_one_finding(tmp_path: Path) -> None:
    foreign = verify_wacz(export_signed(tmp_path / "a", Signer.generate()), {"0" * 64})
    assert [f.ok for f in foreign] == [False] and "does not publish" in foreign[0].message
    unsigned = verify_wacz(export_signed(tmp_path / "b", None), {"0" * 64})
    assert [f.ok for f in unsigned] == [False] and "unsigned" in unsigned[0].message
    (tmp_path / "junk.wacz").write_bytes(b"PK not a zip")
    junk = verify_wacz(tmp_path / "junk.wacz", set())
    assert len(junk) == 1 and "not a readable WACZ" in junk[0].message


def test_one_flipped_byte_in_any_member_or_its_header_is_found(tmp_path: Path) -> None:
    """Every byte of every local header and the members' bytes at a fixed stride, first and
    last included (the central directory's own metadata, such as file attributes, carries no
    archived content)."""
    signer = Signer.generate()
    out = export_signed(tmp_path, signer)
    data = out.read_bytes()
    with zipfile.ZipFile(out) as zf:
        infos = zf.infolist()
    offsets: set[int] = set()
    for info in infos:
        data_start = info.header_offset + 30 + len(info.filename)
        data_end = data_start + info.compress_size
        offsets |= set(range(info.header_offset, data_start))
        offsets |= set(range(data_start, data_end, 11)) | {data_end - 1}
    bad = tmp_path / "bad.wacz"
    for at in sorted(offsets):
        bad.write_bytes(data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :])
        findings = verify_wacz(bad, {signer.key_id})
        assert any(not f.ok for f in findings), f"byte {at} flipped went unnoticed"
        assert all("\n" not in f.line() for f in findings)


def test_citation_compares_times_as_instants_not_strings() -> None:
    def version(n: int, when: str) -> dict[str, Any]:
        return {"kind": "version", "version": n, "time": when}

    entries: list[dict[str, Any]] = [
        version(1, "2026-03-01T10:00:05Z"),
        version(2, "2026-03-01T10:00:05.300000Z"),  # later, though "." sorts before "Z"
        {"kind": "deleted", "time": "2026-03-02T09:00:00Z"},
    ]
    assert citation(entries, "site", "2026-03-01T10:00:05.2Z")["version"] == 1
    assert citation(entries, "site", "2026-03-01T11:00:05+01:00")["version"] == 1
    middle = citation(entries, "site", "2026-03-01T12:00")
    assert middle["version"] == 2 and middle["deleted_at"] is None
    assert citation(entries, "site", None)["deleted_at"] == "2026-03-02T09:00:00Z"
    with pytest.raises(ConfigError, match="not an ISO 8601 date or time"):
        citation(entries, "site", "yesterday")
    with pytest.raises(ConfigError, match="no version"):
        citation(entries, "site", "2026-03-01")


# ---- the domain form of wacz-auth (what an authsign server answers) -----------------------------


def test_domain_signed_data_checks_signature_chain_name_token_and_created(
    pki: tsa.TsaPki, tmp_path: Path
) -> None:
    domain = authsign.make_pki(tmp_path / "authsign", pki, "http://127.0.0.1:1/")
    chain = (domain.data / "cert.pem").read_text()
    key = load_pem_private_key((domain.data / "private-key.pem").read_bytes(), authsign.PASSPHRASE)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    trusted, tsa_roots = x509.load_pem_x509_certificates(domain.ca.read_bytes()), roots(pki)

    def signed(shift: timedelta = timedelta(0), **changes: str) -> dict[str, Any]:
        digest = "sha256:" + "ab" * 32
        signature = base64.b64encode(key.sign(digest.encode(), ec.ECDSA(SHA256()))).decode()
        token = stamp(pki, signature.encode("ascii"))
        created = token_time(token) + shift
        doc = {
            "hash": digest,
            "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "version": "0.1.0",
            "software": "authsigner 0.6.1",
            "signature": signature,
            "domain": authsign.DOMAIN,
            "domainCert": chain,
            "timeSignature": base64.b64encode(token).decode(),
            "timestampCert": pki.cert.read_text(),
        }
        return {**doc, **changes}

    def check(doc: dict[str, Any], **trust: Any) -> str:
        (finding,) = verify_domain(doc, "x.wacz", **{"domain_roots": trusted,
                                                     "tsa_roots": tsa_roots, **trust})  # fmt: skip
        assert "\n" not in finding.message
        return finding.line()

    assert check(signed()).startswith(f"ok   x.wacz: signed by domain {authsign.DOMAIN}")
    assert "within 10 minutes" in check(signed(-timedelta(minutes=11)))
    assert "within 10 minutes" in check(signed(timedelta(minutes=2)))
    assert "does not chain" in check(signed(-timedelta(days=1)))  # before the certificate
    assert "does not chain" in check(signed(domain="someone-else.example"))
    other = signed()
    assert "does not hold" in check({**other, "hash": "sha256:" + "cd" * 32})
    assert "timeSignature" in check({**other, "timeSignature": other["signature"]})
    assert "timeSignature" in check({**other, "signature": signed()["signature"]})
    missing = {k: v for k, v in other.items() if k != "timeSignature"}
    assert "timeSignature: missing" in check(missing)
    assert "no domain root is trusted" in check(other, domain_roots=None)
    assert "give --tsa-ca" in check(other, tsa_roots=None)
    assert "no usable" in check({**other, "domainCert": "junk"})
