"""WACZ domain identity end to end: `newsvault export wacz` asks a real authsign (webrecorder's
signing server, run offline with a local domain CA and the local OpenSSL TSA) for the domain
form of wacz-auth 0.1.0; py-wacz's `validate --verify-auth` accepts it through authsign's
/verify; `newsvault verify --wacz` checks the certificate chain to the root the user gives, the
token over the signature, and `created` against the token's time; each wrong input is one
line."""

from __future__ import annotations

import json
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.local import authsign, tsa
from infra.local.control import LocalStack
from infra.replica.server import ReplicaServer
from tests.helpers import REPO, cli_env, free_port, newsvault

pytestmark = pytest.mark.e2e
PREFIX = "domain-e2e"
TOKEN = "local-signing-token"  # a test's own server: not a secret
PYWB_VENV = REPO / ".venv-pywb"  # py-wacz lives there, beside pywb


@pytest.fixture(scope="module")
def signing(
    stack: LocalStack, replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("domain")
    pki = tsa.make_pki(home / "tsa")
    tsa_server = tsa.server(pki)
    threading.Thread(target=tsa_server.serve_forever, daemon=True).start()
    tsa_url = f"http://127.0.0.1:{tsa_server.server_address[1]}/"
    domain = authsign.make_pki(home / "authsign", pki, tsa_url)
    env = cli_env(stack, home / "spool", NEWSVAULT_S3_PREFIX=PREFIX, NEWSVAULT_TSA_CA=str(pki.ca))
    run = newsvault("run", "replica", "--base-url", replica.base_url, "--max-pages", "4", env=env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    try:
        with authsign.running(domain, free_port(), TOKEN, home / "authsign.log") as base:
            yield {"env": env, "base": base, "pki": pki, "domain": domain, "home": home}
    finally:
        tsa_server.shutdown()
        tsa_server.server_close()


@pytest.fixture(scope="module")
def package(signing: dict[str, Any]) -> Path:
    out = Path(signing["home"]) / "domain.wacz"
    env = dict(
        signing["env"],
        NEWSVAULT_WACZ_SIGN_URL=signing["base"] + "/sign",
        NEWSVAULT_WACZ_SIGN_TOKEN=TOKEN,
    )
    proc = newsvault("export", "wacz", "replica", "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "signed by the signing server" in proc.stdout
    return out


def signed_data(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as zf:
        doc: dict[str, Any] = json.loads(zf.read("datapackage-digest.json"))
    return dict(doc["signedData"])


def test_the_package_carries_authsigns_domain_signature(
    signing: dict[str, Any], package: Path
) -> None:
    signed = signed_data(package)
    assert signed["domain"] == authsign.DOMAIN and signed["version"] == "0.1.0"
    assert signed["software"].startswith("authsigner ")
    assert {"domainCert", "timeSignature", "timestampCert"} <= set(signed)
    assert "publicKey" not in signed and TOKEN not in package.read_bytes().decode("latin-1")


def test_py_wacz_verify_auth_accepts_it_through_authsign(
    signing: dict[str, Any], package: Path
) -> None:
    proc = subprocess.run(
        [str(PYWB_VENV / "bin" / "wacz"), "validate", "-f", str(package), "--verify-auth",
         "--verifier-url", signing["base"] + "/verify"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Successfully verified signature via" in proc.stdout, proc.stdout


def verify(signing: dict[str, Any], package: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return newsvault("verify", "replica", "--wacz", str(package), *args, env=signing["env"])


def test_verify_checks_chain_token_and_created(signing: dict[str, Any], package: Path) -> None:
    ok = verify(signing, package, "--wacz-ca", str(signing["domain"].ca))
    assert ok.returncode == 0, ok.stdout + ok.stderr[-2000:]
    assert f"signed by domain {authsign.DOMAIN}" in ok.stdout and "timestamped" in ok.stdout


def _fails(proc: subprocess.CompletedProcess[str], needle: str) -> None:
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    failures = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failures) == 1 and needle in failures[0], proc.stdout
    assert "Traceback" not in proc.stderr


def test_an_untrusted_or_missing_domain_root_is_one_line(
    signing: dict[str, Any], package: Path, tmp_path: Path
) -> None:
    other = authsign.make_pki(tmp_path / "other", signing["pki"], "http://127.0.0.1:1/")
    _fails(verify(signing, package, "--wacz-ca", str(other.ca)), "does not chain to a trusted")
    _fails(verify(signing, package), "no domain root is trusted")
    absent = verify(signing, package, "--wacz-ca", str(tmp_path / "nothing.pem"))
    assert absent.returncode == 2 and "domain roots" in absent.stderr, absent.stderr
    assert "Traceback" not in absent.stderr


def test_a_foreign_tsa_root_is_one_line(
    signing: dict[str, Any], package: Path, tmp_path: Path
) -> None:
    foreign = tsa.make_pki(tmp_path / "foreign-tsa")
    args = ("--wacz-ca", str(signing["domain"].ca), "--tsa-ca", str(foreign.ca))
    _fails(verify(signing, package, *args), "timeSignature: timestamp token does not verify")


def test_a_wrong_token_or_absent_server_fails_the_export_in_one_line(
    signing: dict[str, Any], tmp_path: Path
) -> None:
    for url, token, needle in (
        (signing["base"] + "/sign", "not-the-token", "refused the token"),
        (f"http://127.0.0.1:{free_port()}/sign", TOKEN, "did not answer"),
    ):
        env = dict(signing["env"], NEWSVAULT_WACZ_SIGN_URL=url, NEWSVAULT_WACZ_SIGN_TOKEN=token)
        out = tmp_path / "refused.wacz"
        proc = newsvault("export", "wacz", "replica", "-o", str(out), env=env)
        assert proc.returncode != 0 and needle in proc.stderr, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr and not out.exists()
        assert not list(tmp_path.iterdir())  # no partial package either
