"""An article's history from the archive alone: every version (capture time, changed fields, the
paragraph diff), alias, deletion and restoration, each with its WARC record and a pywb replay
link at that capture's time. Every file read is checked against its run's manifest first."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flows.errors import ConfigError, StoreVerifyError
from flows.evidence.seal import signature_key, token_key
from flows.store import Keys, ManifestEntry, Store, site_runs

Entry = dict[str, Any]


def _lines(store: Store, entry: ManifestEntry) -> Iterator[dict[str, Any]]:
    data = store.get(entry["key"])
    if data is None or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise StoreVerifyError(f"{store.url(entry['key'])} does not match its manifest")
    for line in gzip.decompress(data).splitlines():
        if line.strip():
            yield json.loads(line)


def _stamp(when: str) -> str:
    """A pywb timestamp (14 digits) from an ISO 8601 time."""
    return "".join(c for c in when if c.isdigit())[:14]


def replay_link(base: str, when: str, url: str) -> str:
    return f"{base.rstrip('/')}/{_stamp(when)}/{url}"


def article_history(store: Store, site: str, query: str, replay_base: str) -> list[Entry]:
    """The entries about the article named by ``query`` (its URL, canonical URL, post id or
    article id), oldest first. Unknown article: ``ConfigError``."""
    runs = site_runs(store, site)
    versions: list[Entry] = []
    ids: set[str] = set()
    events: list[tuple[str, dict[str, Any]]] = []
    for run in runs.runs:
        keys = Keys(store.config.prefix, site, run.run_id)
        evidence = _evidence(store, keys)
        for entry in run.objects("articles"):
            for record in _lines(store, entry):
                names = {record.get("url"), record.get("canonical_url"), record.get("id")}
                names.add(str(record.get("post_id")) if record.get("post_id") else None)
                if query not in names:
                    continue
                ids.add(str(record["id"]))
                versions.append(_version(record, replay_base, evidence))
        for entry in run.objects("events"):
            events += [(evidence, e) for e in _lines(store, entry)]
    if not versions:
        raise ConfigError(f"no archived article of {site} is {query!r} (URL, post id or id)")
    for evidence, event in events:
        if str(event.get("article_id")) in ids:
            versions.append(_event(event, replay_base, evidence))
    return sorted(versions, key=lambda e: (str(e["time"]), e["kind"] != "version"))


def _evidence(store: Store, keys: Keys) -> str:
    if store.head(signature_key(keys)) is None:
        return "unsigned"
    if store.head(token_key(keys)) is None:
        return "signed, timestamp pending"
    return "signed and timestamped"


def _version(record: dict[str, Any], base: str, evidence: str) -> Entry:
    prov = record.get("provenance") or {}
    when = str(prov.get("fetched_at") or "")
    return {
        "kind": "version",
        "time": when,
        "version": record.get("version"),
        "title": record.get("title"),
        "authors": record.get("authors") or [],
        "published": record.get("published"),
        "url": record.get("url"),
        "changed_fields": record.get("changed_fields") or [],
        "diff": record.get("diff") or [],
        "warc_key": prov.get("warc_key"),
        "warc_record_id": prov.get("warc_record_id"),
        "payload_digest": prov.get("payload_digest"),
        "run_id": prov.get("run_id"),
        "run_evidence": evidence,
        "replay": replay_link(base, when, str(record.get("url"))),
    }


def _event(event: dict[str, Any], base: str, evidence: str) -> Entry:
    proof = event.get("evidence")
    record = proof if isinstance(proof, dict) else {}
    when = str(event.get("time") or "")
    return {
        "kind": str(event.get("kind")),
        "time": when,
        "url": event.get("url"),
        "how": event.get("how"),
        "evidence": proof,
        "warc_key": record.get("warc_key"),
        "warc_record_id": record.get("warc_record_id"),
        "run_id": event.get("run_id"),
        "run_evidence": evidence,
        "replay": replay_link(base, when, str(event.get("url"))),
    }


def history_lines(entries: list[Entry]) -> Iterator[str]:
    """The text form: one heading line per entry, the paragraph diff indented below."""
    for e in entries:
        if e["kind"] == "version":
            changed = ", ".join(e["changed_fields"]) or "first capture"
            yield f"{e['time']}  version {e['version']}: {e['title']!r} ({changed})"
            for op in e["diff"]:
                for old in op.get("old") or []:
                    yield f"      - {old}"
                for new in op.get("new") or []:
                    yield f"      + {new}"
        else:
            how = f" ({e['how']})" if e.get("how") else ""
            yield f"{e['time']}  {e['kind']}{how}: {e['url']}"
        record = f"WARC {e.get('warc_key')} record {e.get('warc_record_id')}"
        yield f"      {record}; run {e['run_evidence']}"
        yield f"      replay {e['replay']}"


def _instant(text: str) -> datetime:
    """An ISO 8601 date or time as an aware UTC instant (a date is its 00:00 UTC; no zone is
    UTC): times compare as instants, never as strings ("…:05Z" < "…:05.3Z" as text)."""
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"{text!r} is not an ISO 8601 date or time (e.g. 2024-05-01T12:00Z)"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def citation(entries: list[Entry], site: str, at: str | None) -> Entry:
    """The version current at ``at`` (ISO 8601; default: the latest). None before the first
    capture: ``ConfigError``."""
    limit = _instant(at) if at is not None else None

    def by(e: Entry) -> bool:
        return limit is None or _instant(str(e["time"])) <= limit

    versions = [e for e in entries if e["kind"] == "version" and by(e)]
    if not versions:
        raise ConfigError(f"no version of it was captured before {at}")
    chosen = versions[-1]
    since = _instant(str(chosen["time"]))
    later = [e for e in entries if e["kind"] == "deleted" and _instant(str(e["time"])) >= since]
    deleted = later[0]["time"] if later and by(later[0]) else None
    return {**chosen, "site": site, "deleted_at": deleted}


def cite_text(c: Entry) -> str:
    authors = ", ".join(c["authors"]) or "(no author named)"
    lines = [
        f'{authors}. "{c["title"]}". {c["site"]}, published {c.get("published") or "n.d."}.',
        f"Captured {c['time']} from {c['url']} (version {c['version']}).",
        f"Archived copy: {c['replay']}",
        f"WARC {c['warc_key']}, record {c['warc_record_id']}, payload {c['payload_digest']}.",
        f"Run {c['run_id']}: {c['run_evidence']}.",
    ]
    if c.get("deleted_at"):
        lines.append(f"Deleted from the site by {c['deleted_at']}.")
    return "\n".join(lines)


def _date_parts(when: str | None) -> list[list[int]]:
    digits = [int(p) for p in (when or "")[:10].split("-") if p.isdigit()]
    return [digits] if digits else []


def cite_csl(c: Entry) -> Entry:
    """CSL-JSON (one item): a web page with its archive location."""
    return {
        "id": f"{c['run_id']}:{c['warc_record_id']}",
        "type": "webpage",
        "title": c["title"],
        "container-title": c["site"],
        "author": [{"literal": a} for a in c["authors"]],
        "issued": {"date-parts": _date_parts(c.get("published"))},
        "accessed": {"date-parts": _date_parts(c["time"])},
        "URL": c["url"],
        "archive": c["site"],
        "archive_location": c["replay"],
        "note": (
            f"WARC {c['warc_key']} record {c['warc_record_id']}, payload {c['payload_digest']}; "
            f"run {c['run_id']} {c['run_evidence']}"
        ),
    }


def cite_bibtex(c: Entry) -> str:
    def esc(text: object) -> str:
        return "".join("\\" + ch if ch in "{}&%$#_" else ch for ch in str(text or ""))

    key = "".join(ch for ch in f"{c['site']}{_stamp(c['time'])}" if ch.isalnum())
    fields = {
        "title": esc(c["title"]),
        "author": " and ".join("{" + esc(a) + "}" for a in c["authors"]),
        "organization": esc(c["site"]),
        "year": (c.get("published") or "")[:4],
        "url": c["url"],
        "urldate": c["time"][:10],
        "howpublished": "\\url{" + c["replay"] + "}",
        "note": esc(
            f"WARC {c['warc_key']} record {c['warc_record_id']}, payload {c['payload_digest']}; "
            f"run {c['run_id']} {c['run_evidence']}"
        ),
    }
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
    return f"@misc{{{key},\n{body}\n}}"
