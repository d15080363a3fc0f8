"""``newsvault verify``: everything an auditor checks, from the bucket alone.

Per run: the manifest's signature (by the published key its id names) and the RFC 3161 token
over that signature (chained to the TSA roots given), every object's size and SHA-256 against
the manifest, then inside the files: WARC digests, revisits, CDXJ lines. Per site: the saved
state equal to the fold of the runs. Each problem is one ``Finding`` naming its object; nothing
here raises for bad archive bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from flows.errors import StoreError
from flows.evidence.contents import (
    Originals,
    Record,
    cdxj_problems,
    read_warc,
    revisit_problems,
)
from flows.evidence.seal import (
    SIGNATURE_SCHEMA,
    SignatureDoc,
    pending_prefix,
    public_key_key,
    signature_bytes,
    signature_key,
    token_key,
)
from flows.evidence.signing import ALGORITHM, b64, key_id, load_public_pem, signature_holds, unb64
from flows.evidence.timestamp import check_token
from flows.state import load_state, rebuild
from flows.store import Keys, SiteKeys, Store, check_run_id
from flows.warc import read_entries

log = logging.getLogger(__name__)
_quiet = logging.getLogger("newsvault.verify.quiet")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


@dataclass(frozen=True)
class Finding:
    """One check that failed (or, with ``ok``, one that held and is worth a line)."""

    subject: str  # the object key (or run) it is about
    message: str
    ok: bool = False

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.subject}: {self.message}"


@dataclass
class Verification:
    site: str
    findings: list[Finding] = field(default_factory=list)
    runs: int = 0
    objects: int = 0
    records: int = 0

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if not f.ok]

    def summary(self) -> str:
        verdict = "all holds" if not self.failures else f"{len(self.failures)} problem(s)"
        return (
            f"verified {self.site}: {self.runs} run(s), {self.objects} object(s), "
            f"{self.records} WARC record(s): {verdict}"
        )


def verify_site(
    store: Store,
    site: str,
    workdir: Path,
    *,
    run_id: str | None = None,
    roots: list[x509.Certificate] | None = None,
) -> Verification:
    """Verify one run (``run_id``) or every run of the site and its saved state."""
    keys = SiteKeys(store.config.prefix, site)
    listed = sorted(store.list_dirs(keys.runs))
    if run_id is not None:
        check_run_id(run_id)
    result = Verification(site)
    originals = Originals()
    for rid in listed:
        if run_id is not None and rid > run_id:
            break
        earlier = run_id is not None and rid < run_id
        if earlier:  # only their capture index matters: what this run's revisits point at
            _earlier_originals(store, keys.run(rid), workdir, originals)
            continue
        result.runs += 1
        result.findings += _verify_run(
            store, keys.run(rid), workdir / rid, roots, result, originals
        )
    if run_id is not None and run_id not in listed:
        result.findings.append(Finding(f"{keys.runs}{run_id}/", "no such run in the bucket"))
    if run_id is None:
        result.findings += _verify_state(store, site, workdir / ".state")
    return result


def _earlier_originals(store: Store, keys: Keys, workdir: Path, originals: Originals) -> None:
    """An earlier run's responses, from its (manifest-checked) capture index."""
    manifest = _json(store.get(keys.manifest))
    for entry in (manifest or {}).get("objects", []):
        if entry.get("kind") != "captures":
            continue
        path = workdir / keys.run_id / "captures.jsonl.gz"
        if _download(store, entry, path) is not None:
            continue
        for capture in read_entries(path):
            if capture.type == "response":
                originals.add(capture.uri, capture.date, capture.id, capture.digest)


def _json(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return None
    try:
        parsed = json.loads(data)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _download(store: Store, entry: dict[str, Any], dest: Path) -> str | None:
    """Fetch one manifest entry to ``dest``; a problem (one line) or None when it matches."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(dest, "wb") as out:
            size, sha256 = store.download(str(entry["key"]), out)
    except StoreError as exc:
        return f"cannot read it: {exc}"
    if size != entry.get("size"):
        return f"size {size} differs from the manifest's {entry.get('size')}"
    if sha256 != entry.get("sha256"):
        return f"SHA-256 {sha256} differs from the manifest's {entry.get('sha256')}"
    return None


def _verify_run(
    store: Store,
    keys: Keys,
    workdir: Path,
    roots: list[x509.Certificate] | None,
    result: Verification,
    originals: Originals,
) -> Iterator[Finding]:
    raw = store.get(keys.manifest)
    manifest = _json(raw)
    if raw is None or manifest is None:
        yield Finding(keys.manifest, "missing" if raw is None else "not a JSON manifest")
        return
    yield from _verify_evidence(store, keys, raw, roots)
    warcs: list[Path] = []
    cdxj: Path | None = None
    for entry in manifest.get("objects", []):
        result.objects += 1
        key = str(entry.get("key", "?"))
        if not key.startswith(keys.run_prefix):
            yield Finding(key, f"listed by {keys.manifest} but outside its run")
            continue
        dest = workdir / key[len(keys.run_prefix) :]
        if problem := _download(store, entry, dest):
            yield Finding(key, problem)
        elif entry.get("kind") == "warc":
            warcs.append(dest)
        elif entry.get("kind") == "cdxj":
            cdxj = dest
    records: dict[tuple[str, int], Record] = {}
    for path in warcs:
        found, problems = read_warc(path)
        result.records += len(found)
        yield from (Finding(keys.warc(path.name), p) for p in problems)
        records.update({(r.file, r.offset): r for r in found})
    for problem in revisit_problems(list(records.values()), originals):
        yield Finding(keys.run_prefix, problem)
    if cdxj is not None and len(warcs) == sum(
        1 for e in manifest.get("objects", []) if e.get("kind") == "warc"
    ):
        yield from (Finding(keys.cdxj, p) for p in cdxj_problems(cdxj, records))


def _verify_evidence(
    store: Store, keys: Keys, manifest: bytes, roots: list[x509.Certificate] | None
) -> Iterator[Finding]:
    """The manifest's signature and the timestamp token over it, each one line."""
    sig_key = signature_key(keys)
    raw = store.get(sig_key)
    doc = _json(raw)
    if raw is None or doc is None:
        yield Finding(sig_key, "unsigned run" if raw is None else "not a signature document")
        return
    kid = str(doc.get("key_id", ""))
    expected: SignatureDoc = {
        "schema": SIGNATURE_SCHEMA,
        "algorithm": ALGORITHM,
        "key_id": kid,
        "public_key": public_key_key(keys.prefix, kid),
        "manifest": keys.manifest,
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "signature": str(doc.get("signature", "")),
    }
    signature = unb64(expected["signature"])
    if signature is None or b64(signature) != expected["signature"]:
        yield Finding(sig_key, "its signature is not canonical base64")
        return
    pem = store.get(expected["public_key"]) if kid.isalnum() else None
    public = load_public_pem(pem) if pem else None
    if public is None or key_id(public) != kid:
        yield Finding(sig_key, f"signed by key {kid[:16]!r}, which the bucket does not publish")
        return
    claimed = {**expected, "manifest_sha256": doc.get("manifest_sha256")}
    wrong = sorted(k for k in set(doc) | set(claimed) if doc.get(k) != claimed.get(k))
    if wrong:
        yield Finding(sig_key, f"does not fit this run and key ({', '.join(wrong)})")
        return
    if not signature_holds(public, signature, manifest):
        yield Finding(
            keys.manifest, f"the signature in {sig_key} (key {kid[:16]}) does not hold over it"
        )
        return
    if signature_bytes(expected) != raw:  # the manifest is authentic: the document changed
        yield Finding(sig_key, "altered (its manifest SHA-256 or its serialization)")
        return
    yield Finding(keys.manifest, f"signed by key {kid[:16]}", ok=True)
    tok_key = token_key(keys)
    token = store.get(tok_key)
    if token is None:
        pending = store.head(pending_prefix(keys.prefix, keys.site) + keys.run_id) is not None
        yield Finding(tok_key, "timestamp pending (TSA was down)" if pending else "missing")
    elif roots is None:
        yield Finding(tok_key, "cannot check: no TSA roots given (--tsa-ca or NEWSVAULT_TSA_CA)")
    else:
        try:
            when = check_token(token, signature, roots)
        except ValueError as exc:
            yield Finding(tok_key, str(exc))
        else:
            yield Finding(tok_key, f"timestamped {when.isoformat()}", ok=True)


def _verify_state(store: Store, site: str, workdir: Path) -> Iterator[Finding]:
    """The saved state must equal the fold of the archived runs."""
    key = f"{SiteKeys(store.config.prefix, site).root}state/"
    saved = load_state(store, site, workdir / "saved", _quiet)
    if saved.source != "saved":
        yield Finding(key, f"the saved state is {saved.problem or 'missing'}")
        return
    rebuilt = rebuild(store, site, workdir / "rebuilt", _quiet)
    if saved.state.to_bytes() != rebuilt.state.to_bytes():
        yield Finding(key, "the saved state differs from the fold of the archived runs")
    else:
        yield Finding(key, f"equals the fold of {len(rebuilt.state.runs)} run(s)", ok=True)
