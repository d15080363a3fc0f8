"""A run's evidence in the bucket: its manifest's signature, the timestamp token over that
signature, the archive's public keys, and the runs whose token is still owed.

Keys: ``{run_prefix}evidence/signature.json`` and ``.../timestamp.tsr`` beside the manifest;
``{prefix}keys/{key_id}.pem`` (public, never rewritten: a rotated key adds a file);
``{prefix}sites/{site}/evidence/pending/{run_id}`` while a run waits for its token.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Final, Literal, TypedDict

from flows.errors import StoreNotFoundError
from flows.evidence.signing import ALGORITHM, Signer, b64, public_pem, unb64
from flows.evidence.timestamp import TimestampUnavailable, request_token, token_time
from flows.store import Keys, SiteKeys, Store

SIGNATURE_SCHEMA: Final = "newsvault.signature/1"
log = logging.getLogger(__name__)

Status = Literal["unsigned", "signed", "timestamped", "timestamp pending"]


class SignatureDoc(TypedDict):
    schema: Literal["newsvault.signature/1"]
    algorithm: str
    key_id: str
    public_key: str  # the key of the published public key
    manifest: str
    manifest_sha256: str
    signature: str  # base64 of the DER ECDSA signature over the manifest's bytes


def signature_bytes(doc: SignatureDoc) -> bytes:
    """The one serialization of a signature document (``verify`` rejects any other)."""
    return json.dumps(doc, indent=1, sort_keys=True).encode()


def signature_key(keys: Keys) -> str:
    return f"{keys.run_prefix}evidence/signature.json"


def token_key(keys: Keys) -> str:
    return f"{keys.run_prefix}evidence/timestamp.tsr"


def public_key_key(prefix: str, key_id: str) -> str:
    return f"{prefix}keys/{key_id}.pem"


def pending_prefix(prefix: str, site: str) -> str:
    return f"{SiteKeys(prefix, site).root}evidence/pending/"


@dataclass(frozen=True)
class Evidence:
    """What a run's report says about its evidence."""

    run_id: str
    status: Status
    key_id: str | None = None
    timestamp: str | None = None  # the TSA's time, ISO 8601
    detail: str | None = None  # why the timestamp is pending

    def describe(self) -> str:
        if self.status == "unsigned":
            return "unsigned (no signing key configured)"
        signed = f"signed with key {self.key_id[:16] if self.key_id else '?'}"
        if self.status == "timestamped":
            return f"{signed}, timestamped {self.timestamp}"
        if self.status == "timestamp pending":
            return f"{signed}, timestamp pending ({self.detail}); the next run asks again"
        return f"{signed}, not timestamped (no TSA configured)"


def _signature_doc(store: Store, keys: Keys, signer: Signer, manifest: bytes) -> bytes:
    """The run's signature document: the stored one when it is this key's over these bytes
    (a retried task signs nothing twice), else a new one."""
    digest = hashlib.sha256(manifest).hexdigest()
    stored = store.get(signature_key(keys))
    if stored is not None:
        try:
            doc = json.loads(stored)
            if doc.get("key_id") == signer.key_id and doc.get("manifest_sha256") == digest:
                return stored
        except ValueError:
            pass
    new: SignatureDoc = {
        "schema": SIGNATURE_SCHEMA,
        "algorithm": ALGORITHM,
        "key_id": signer.key_id,
        "public_key": public_key_key(keys.prefix, signer.key_id),
        "manifest": keys.manifest,
        "manifest_sha256": digest,
        "signature": b64(signer.sign(manifest)),
    }  # no time of our own: the token is the trusted time, and every field here is checked
    data = signature_bytes(new)
    store.put_bytes(signature_key(keys), data, content_type="application/json")
    return data


def published_key_ids(store: Store) -> set[str]:
    """The ids of every public key the archive has published (current and rotated ones)."""
    prefix = f"{store.config.prefix}keys/"
    return {
        key[len(prefix) : -len(".pem")]
        for key, _size in store.list_objects(prefix)
        if key.endswith(".pem")
    }


def publish_public_key(store: Store, prefix: str, signer: Signer) -> str:
    key = public_key_key(prefix, signer.key_id)
    if store.head(key) is None:
        store.put_bytes(key, public_pem(signer.public), content_type="application/x-pem-file")
    return key


def sign_run(store: Store, keys: Keys, signer: Signer | None, tsa_url: str | None) -> Evidence:
    """Sign the run's manifest as stored (after its objects were verified) and ask the TSA for a
    token over the signature. A TSA that fails leaves a pending marker, never an error."""
    if signer is None:
        return Evidence(keys.run_id, "unsigned")
    manifest = store.get(keys.manifest)
    if manifest is None:
        raise StoreNotFoundError(f"{store.url(keys.manifest)} is missing: nothing to sign")
    publish_public_key(store, keys.prefix, signer)
    doc = _signature_doc(store, keys, signer, manifest)
    if tsa_url is None:
        return Evidence(keys.run_id, "signed", signer.key_id)
    return _timestamp(store, keys, doc, tsa_url, signer.key_id)


def _timestamp(store: Store, keys: Keys, doc: bytes, tsa_url: str, key_id: str) -> Evidence:
    marker = pending_prefix(keys.prefix, keys.site) + keys.run_id
    signature = unb64(json.loads(doc)["signature"]) or b""
    try:
        token = request_token(tsa_url, signature)
    except TimestampUnavailable as exc:
        log.warning("run %s: timestamp pending: %s", keys.run_id, exc)
        store.put_bytes(marker, keys.run_id.encode(), content_type="text/plain")
        return Evidence(keys.run_id, "timestamp pending", key_id, detail=str(exc))
    store.put_bytes(token_key(keys), token, content_type="application/timestamp-reply")
    store.delete(marker)
    when = token_time(token).isoformat()
    return Evidence(keys.run_id, "timestamped", key_id, timestamp=when)


def retry_pending(store: Store, prefix: str, site: str, tsa_url: str | None) -> list[Evidence]:
    """Ask again for the tokens earlier runs are owed (their TSA was down)."""
    if tsa_url is None:
        return []
    done: list[Evidence] = []
    for key, _size in store.list_objects(pending_prefix(prefix, site)):
        keys = Keys(prefix, site, key.rsplit("/", 1)[-1])
        doc = store.get(signature_key(keys))
        if doc is None:  # a marker without a signature: nothing to stamp
            store.delete(key)
            continue
        done.append(_timestamp(store, keys, doc, tsa_url, json.loads(doc).get("key_id", "?")))
    return done
