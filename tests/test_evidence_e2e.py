"""Evidence end to end: `newsvault run` signs and timestamps each run (a real OpenSSL TSA over
HTTP, SeaweedFS, Prefect, the replica), `newsvault verify` re-checks the archive from the bucket
alone and finds one flipped byte in any archived object, naming it."""

from __future__ import annotations

import base64
import gzip
import json
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from flows.derive.articles import schema
from flows.evidence import Signer, check_token, load_roots, request_token
from flows.evidence.timestamp import accept_reply, build_request
from infra.local import control as local
from infra.local import tsa
from infra.local.control import LocalStack
from infra.replica.server import ReplicaServer
from tests.helpers import REPO, cli_env, free_port, get, newsvault, objects, s3

pytestmark = pytest.mark.e2e
PREFIX = "evidence-e2e"
PYWB_VENV = REPO / ".venv-pywb"  # py-wacz lives there, beside pywb


@pytest.fixture(scope="module")
def local_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, tsa.TsaPki]]:
    pki = tsa.make_pki(tmp_path_factory.mktemp("tsa"))
    server = tsa.server(pki)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", pki
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def signed(
    stack: LocalStack,
    replica: ReplicaServer,
    local_tsa: tuple[str, tsa.TsaPki],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """Two runs of the replica: the first while the TSA is down (its token pending), the second
    with the TSA up (both get their token)."""
    url, pki = local_tsa
    home = tmp_path_factory.mktemp("evidence")
    key = home / "archive-key.pem"
    key.write_bytes(Signer.generate().private_pem())
    env = cli_env(
        stack,
        home / "spool",
        NEWSVAULT_S3_PREFIX=PREFIX,
        NEWSVAULT_SIGNING_KEY_FILE=str(key),
        NEWSVAULT_TSA_URL=f"http://127.0.0.1:{free_port()}/",  # nothing listens: TSA down
        NEWSVAULT_TSA_CA=str(pki.ca),
    )
    run = ("run", "replica", "--base-url", replica.base_url, "--max-pages", "6")
    first = newsvault(*run, env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    pending = newsvault("verify", "replica", "--quiet", env=env)
    env["NEWSVAULT_TSA_URL"] = url
    second = newsvault(*run, env=env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    return {"env": env, "key": key, "first": first, "pending": pending, "pki": pki}


def run_ids(stack: LocalStack) -> list[str]:
    return sorted({k.split("/")[4] for k in objects(stack, f"{PREFIX}/sites/replica/runs/")})


def test_tsa_down_leaves_the_run_archived_and_its_timestamp_pending(
    signed: dict[str, Any],
) -> None:
    assert '"evidence": "signed with key' in signed["first"].stdout
    assert "timestamp pending" in signed["first"].stdout
    pending = signed["pending"]
    assert pending.returncode == 1
    assert "timestamp pending (TSA was down)" in pending.stdout, pending.stdout


def test_both_runs_signed_and_timestamped_and_verify_clean(
    stack: LocalStack, signed: dict[str, Any]
) -> None:
    runs = run_ids(stack)
    assert len(runs) == 2
    found = objects(stack, f"{PREFIX}/")
    key_id = Signer.from_pem(signed["key"].read_bytes(), "key").key_id
    assert f"{PREFIX}/keys/{key_id}.pem" in found
    assert not [k for k in found if "/evidence/pending/" in k]
    for run_id in runs:
        doc = json.loads(
            get(stack, f"{PREFIX}/sites/replica/runs/{run_id}/evidence/signature.json")
        )
        jsonschema.validate(doc, schema("signature"))
        assert f"{PREFIX}/sites/replica/runs/{run_id}/evidence/timestamp.tsr" in found
    proc = newsvault("verify", "replica", env=signed["env"])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert not [line for line in lines if line.startswith("FAIL")]
    assert sum("timestamped" in line for line in lines) == 2
    assert "equals the fold of 2 run(s)" in proc.stdout
    assert lines[-1].endswith("all holds") and "2 run(s)" in lines[-1]
    single = newsvault("verify", "replica", "--run", runs[1], env=signed["env"])
    assert single.returncode == 0, single.stdout[-3000:]
    secret = signed["key"].read_text().splitlines()[1]
    assert secret not in proc.stdout + proc.stderr + signed["first"].stdout + signed["first"].stderr


def test_a_token_of_the_archive_verifies_with_openssl(
    stack: LocalStack, signed: dict[str, Any], tmp_path: Path
) -> None:
    run_id = run_ids(stack)[-1]
    prefix = f"{PREFIX}/sites/replica/runs/{run_id}/evidence/"
    doc = json.loads(get(stack, prefix + "signature.json"))
    (tmp_path / "signature.der").write_bytes(base64.b64decode(doc["signature"]))
    (tmp_path / "timestamp.tsr").write_bytes(get(stack, prefix + "timestamp.tsr"))
    proc = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(tmp_path / "signature.der"),
         "-in", str(tmp_path / "timestamp.tsr"), "-CAfile", str(signed["pki"].ca)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and "Verification: OK" in proc.stdout, proc.stderr


def _tamper_targets(stack: LocalStack) -> dict[str, str]:
    run_id = run_ids(stack)[-1]
    run = f"{PREFIX}/sites/replica/runs/{run_id}/"
    found = objects(stack, run)
    warc = sorted(k for k in found if k.startswith(run + "warc/"))[0]
    return {
        "warc": warc,
        "articles": run + "articles.jsonl.gz",
        "cdxj": run + "index.cdxj",
        "captures": run + "captures.jsonl.gz",
        "manifest": run + "manifest.json",
        "signature": run + "evidence/signature.json",
        "token": run + "evidence/timestamp.tsr",
        "state": f"{PREFIX}/sites/replica/state/state.json.gz",
    }


@pytest.mark.parametrize(
    "kind",
    ["warc", "articles", "cdxj", "captures", "manifest", "signature", "token", "state"],
)
def test_one_flipped_byte_is_found_naming_the_object(
    stack: LocalStack, signed: dict[str, Any], kind: str
) -> None:
    key = _tamper_targets(stack)[kind]
    client = s3(stack)
    original = get(stack, key)
    at = len(original) // 2
    client.put_object(
        Bucket=stack.bucket,
        Key=key,
        Body=original[:at] + bytes([original[at] ^ 1]) + original[at + 1 :],
    )
    try:
        proc = newsvault("verify", "replica", "--quiet", env=signed["env"])
    finally:
        client.put_object(Bucket=stack.bucket, Key=key, Body=original)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    failures = [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]
    named = key if kind != "state" else f"{PREFIX}/sites/replica/state/"
    if kind == "signature":  # the document may still parse: then the signature fails
        named = key.rsplit("/", 2)[0]
    assert failures and any(named in line for line in failures), proc.stdout[-3000:]
    assert "Traceback" not in proc.stderr


def test_wrong_key_and_missing_token_are_one_line_findings(
    stack: LocalStack, signed: dict[str, Any]
) -> None:
    targets = _tamper_targets(stack)
    client = s3(stack)
    verify = ("verify", "replica", "--run", run_ids(stack)[-1])
    doc_bytes, token = get(stack, targets["signature"]), get(stack, targets["token"])
    forged = dict(json.loads(doc_bytes), key_id=Signer.generate().key_id)  # not published
    client.put_object(Bucket=stack.bucket, Key=targets["signature"], Body=json.dumps(forged))
    try:
        wrong_key = newsvault(*verify, env=signed["env"])
    finally:
        client.put_object(Bucket=stack.bucket, Key=targets["signature"], Body=doc_bytes)
    client.delete_object(Bucket=stack.bucket, Key=targets["token"])
    try:
        no_token = newsvault(*verify, env=signed["env"])
    finally:
        client.put_object(Bucket=stack.bucket, Key=targets["token"], Body=token)
    manifest = get(stack, targets["manifest"])
    other = base64.b64encode(Signer.generate().sign(manifest)).decode()
    resigned = dict(json.loads(doc_bytes), signature=other)  # another key, our key's id
    client.put_object(Bucket=stack.bucket, Key=targets["signature"], Body=json.dumps(resigned))
    try:
        other_key = newsvault(*verify, env=signed["env"])
    finally:
        client.put_object(Bucket=stack.bucket, Key=targets["signature"], Body=doc_bytes)
    assert wrong_key.returncode == no_token.returncode == other_key.returncode == 1
    assert "which the bucket does not publish" in wrong_key.stdout, wrong_key.stdout
    assert f"FAIL {targets['token']}: missing" in no_token.stdout, no_token.stdout
    assert f"FAIL {targets['manifest']}: the signature in" in other_key.stdout, other_key.stdout
    assert "does not hold over it" in other_key.stdout
    for proc in (wrong_key, no_token, other_key):
        assert len(failures(proc)) == 1, proc.stdout
        assert "Traceback" not in proc.stderr


def failures(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith("FAIL")]


def test_an_expired_or_foreign_tsa_certificate_is_a_one_line_finding(
    stack: LocalStack, signed: dict[str, Any], tmp_path: Path
) -> None:
    targets = _tamper_targets(stack)
    verify = ("verify", "replica", "--run", run_ids(stack)[-1], "--quiet")
    foreign = tsa.make_pki(tmp_path / "foreign")
    elsewhere = newsvault(*verify, "--tsa-ca", str(foreign.ca), env=signed["env"])
    expired = tsa.make_pki(tmp_path / "expired", now=datetime.now(UTC) - timedelta(days=30),
                           tsa_days=2)  # fmt: skip
    doc = json.loads(get(stack, targets["signature"]))
    signature = base64.b64decode(doc["signature"])
    request = build_request(signature)
    old = accept_reply(request, tsa.reply(expired, request.as_bytes()), "expired TSA")
    client, token = s3(stack), get(stack, targets["token"])
    client.put_object(Bucket=stack.bucket, Key=targets["token"], Body=old)
    try:
        lapsed = newsvault(*verify, "--tsa-ca", str(expired.ca), env=signed["env"])
    finally:
        client.put_object(Bucket=stack.bucket, Key=targets["token"], Body=token)
    assert elsewhere.returncode == lapsed.returncode == 1
    (line,) = failures(elsewhere)
    assert line.startswith(f"FAIL {targets['token']}: timestamp token does not verify"), line
    (line,) = failures(lapsed)
    assert line.startswith(f"FAIL {targets['token']}: "), line
    assert "was not valid at" in line or "expired" in line or "does not verify" in line, line
    assert "Traceback" not in elsewhere.stderr + lapsed.stderr


def test_newsvault_up_starts_the_local_tsa(stack: LocalStack) -> None:
    env = local.stack_environment(stack)
    assert env["NEWSVAULT_TSA_URL"].startswith("http://127.0.0.1:")
    signature = Signer.generate().sign(b"manifest")
    token = request_token(env["NEWSVAULT_TSA_URL"], signature)
    assert check_token(token, signature, load_roots(Path(env["NEWSVAULT_TSA_CA"])))
    assert local.env_vars(stack)["NEWSVAULT_TSA_CA"] == env["NEWSVAULT_TSA_CA"]
    again = local.up(stack, prefect=False).get("tsa")
    assert again is not None and again.action == "already running"


def test_exported_wacz_is_signed_validates_and_verifies(
    stack: LocalStack, signed: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "signed.wacz"
    proc = newsvault("export", "wacz", "replica", "-o", str(out), env=signed["env"])
    assert proc.returncode == 0 and "signed with key" in proc.stdout, proc.stderr[-2000:]
    check = subprocess.run(
        [str(PYWB_VENV / "bin" / "wacz"), "validate", "-f", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert check.returncode == 0 and "is valid" in check.stdout, check.stdout + check.stderr
    assert "Has signature" in check.stdout
    ok = newsvault("verify", "replica", "--wacz", str(out), env=signed["env"])
    assert ok.returncode == 0 and "signed by this archive's key" in ok.stdout, ok.stdout
    other_key = tmp_path / "someone-else.pem"
    other_key.write_bytes(Signer.generate().private_pem())
    foreign = tmp_path / "foreign.wacz"
    env = dict(signed["env"], NEWSVAULT_SIGNING_KEY_FILE=str(other_key))
    assert newsvault("export", "wacz", "replica", "-o", str(foreign), env=env).returncode == 0
    refused = newsvault("verify", "replica", "--wacz", str(foreign), env=signed["env"])
    assert refused.returncode == 1 and "which this archive does not publish" in refused.stdout
    assert "Traceback" not in refused.stderr


def test_history_and_cite_point_at_the_warc_record(
    stack: LocalStack, signed: dict[str, Any]
) -> None:
    first = run_ids(stack)[0]
    raw = get(stack, f"{PREFIX}/sites/replica/runs/{first}/articles.jsonl.gz")
    record = json.loads(gzip.decompress(raw).splitlines()[0])
    url, record_id = record["url"], record["provenance"]["warc_record_id"]
    history = newsvault("history", "replica", url, "--format", "json", env=signed["env"])
    assert history.returncode == 0, history.stderr[-2000:]
    entries = json.loads(history.stdout)
    assert entries[0]["kind"] == "version" and entries[0]["warc_record_id"] == record_id
    assert entries[0]["run_evidence"] == "signed and timestamped"
    assert entries[0]["replay"].endswith("/" + url)
    text = newsvault("history", "replica", str(record["post_id"]), env=signed["env"])
    assert text.returncode == 0 and record_id in text.stdout
    for fmt, needle in (
        ("text", record_id),
        ("csl-json", '"archive_location"'),
        ("bibtex", "@misc"),
    ):
        cite = newsvault("cite", "replica", url, "--format", fmt, env=signed["env"])
        assert cite.returncode == 0 and needle in cite.stdout, cite.stdout + cite.stderr[-2000:]
    csl = json.loads(
        newsvault("cite", "replica", url, "--format", "csl-json", env=signed["env"]).stdout
    )
    assert csl[0]["title"] == record["title"] and record_id in csl[0]["note"]
    early = newsvault("cite", "replica", url, "--at", "2000-01-01", env=signed["env"])
    assert early.returncode != 0 and "Traceback" not in early.stderr
    unknown = newsvault("history", "replica", "http://nowhere/", env=signed["env"])
    assert unknown.returncode == 2 and "no archived article" in unknown.stderr
