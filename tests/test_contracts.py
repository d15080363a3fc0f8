"""The typed contracts agree with the published JSON Schemas, and real outputs validate.

Every TypedDict in ``flows`` is compared with its schema from its type hints and
``__required_keys__``: a contract has the schema's property names, required keys and types; a
read-only view (what the state fold reads of derive's outputs, the counts as derive sees them)
has a subset of the properties with types at least as wide. A field added to one side only
fails here. Real outputs: three runs of the replica processed and sealed the way the flow does
(records, events, manifests), validated with jsonschema.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import shutil
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NotRequired, Required, TypedDict, Union, get_args, get_origin

import jsonschema
import pytest
from typing_extensions import ReadOnly, get_type_hints, is_typeddict

import flows
from flows.derive import (
    AliasEvent,
    ArticleQuality,
    ArticleRecord,
    CoreRecord,
    DeletedEvent,
    DerivedCounts,
    DiffOp,
    Event,
    EventKind,
    ListingEvidence,
    ProcessCounts,
    RecordEvidence,
    RecordProvenance,
    ResponseEvidence,
    RestoredEvent,
    derive,
    process_warcs,
    read_jsonl_gz,
)
from flows.derive.articles import schema
from flows.evidence import SignatureDoc
from flows.orchestrate.archive import seal_run
from flows.orchestrate.crawl import run_crawl
from flows.state import (
    ArticleEntry,
    Deletion,
    FoldedAlias,
    FoldedDeletion,
    FoldedProvenance,
    FoldedRecord,
    FoldedRestoration,
    LoadedState,
    SiteState,
)
from flows.store import SPILL_DIR, Keys, Manifest, ManifestEntry, RunCounts, RunPaths
from flows.warc import RecordCounts, index_warcs, write_entries, write_run_index
from infra.replica.server import ReplicaServer
from tests.helpers import Crawled

Schema = dict[str, Any]

# (TypedDict or union, schema name, JSON pointer): the same properties, required keys and types.
CONTRACTS: list[tuple[Any, str, str]] = [
    (ArticleRecord, "article", "#"),
    (RecordProvenance, "article", "#/properties/provenance"),
    (ArticleQuality, "article", "#/properties/quality"),
    (DiffOp, "article", "#/properties/diff/items"),
    (Event, "events", "#"),
    (AliasEvent, "events", "#/$defs/alias"),
    (DeletedEvent, "events", "#/$defs/deleted"),
    (RestoredEvent, "events", "#/$defs/restored"),
    (RecordEvidence, "events", "#/$defs/record_evidence"),
    (ResponseEvidence, "events", "#/$defs/response_evidence"),
    (ListingEvidence, "events", "#/$defs/listing_evidence"),
    (Manifest, "manifest", "#"),
    (ManifestEntry, "manifest", "#/$defs/object"),
    (RunCounts, "manifest", "#/properties/counts"),
    (RecordCounts, "manifest", "#/properties/counts/properties/records"),
    (SignatureDoc, "signature", "#"),
]
# Views: a subset of the properties, each type accepting every value the schema allows.
VIEWS: list[tuple[Any, str, str]] = [
    (CoreRecord, "article", "#"),
    (ProcessCounts, "manifest", "#/properties/counts"),
    (DerivedCounts, "manifest", "#/properties/counts"),
    (FoldedRecord, "article", "#"),
    (FoldedProvenance, "article", "#/properties/provenance"),
    (FoldedAlias, "events", "#/$defs/alias"),
    (FoldedDeletion, "events", "#/$defs/deleted"),
    (FoldedRestoration, "events", "#/$defs/restored"),
    (Deletion, "events", "#/$defs/deleted"),
]
# TypedDicts with no published schema, and why.
UNPUBLISHED = {
    "flows.derive.spill.SpilledRecord": "in memory only, while a run is processed",
    "flows.orchestrate.report.RunSummary": "the archive flow's return value, printed by the CLI",
    "flows.orchestrate.reprocess.Comparison": "part of the reprocessing report",
    "flows.orchestrate.reprocess.RunChanges": "part of the reprocessing report",
    "flows.orchestrate.reprocess.OutcomeRow": "part of the reprocessing report",
    "flows.orchestrate.reprocess.ChangesReport": "the reprocessing report (changes.json)",
    "flows.orchestrate.reprocess.ReprocessSummary": "the reprocess flow's return value",
}


def _name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


_READ_ONLY: Any = ReadOnly  # a special form: compared as a value
_QUALIFIERS: tuple[Any, ...] = (_READ_ONLY, Required, NotRequired)
_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


# -- the comparison ------------------------------------------------------------------------------
def _at(root: Schema, pointer: str) -> Schema:
    node = root
    for part in pointer.removeprefix("#").strip("/").split("/"):
        if part:
            node = node[part]
    return node


def _resolve(root: Schema, node: Schema) -> Schema:
    while "$ref" in node:
        node = _at(root, node["$ref"])
    return node


def _alternatives(root: Schema, node: Schema) -> list[Schema]:
    """The schema as a list of alternatives with one JSON type (or one set of values) each."""
    node = _resolve(root, node)
    for key in ("oneOf", "anyOf"):
        if key in node:
            return [alt for sub in node[key] for alt in _alternatives(root, sub)]
    if isinstance(node.get("type"), list):
        return [{**node, "type": kind} for kind in node["type"]]
    return [node]


def _members(tp: Any) -> list[Any]:
    while get_origin(tp) in _QUALIFIERS:
        tp = get_args(tp)[0]
    if get_origin(tp) in (Union, types.UnionType):
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _values(alt: Schema) -> set[Any] | None:
    if "const" in alt:
        return {alt["const"]}
    return set(alt["enum"]) if "enum" in alt else None


def _match(tp: Any, alt: Schema, root: Schema, view: bool, where: str) -> list[str]:
    """Problems of one type (not a union) against one alternative of the schema."""
    origin, args, values = get_origin(tp), get_args(tp), _values(alt)
    if origin is Literal:
        if values is None:
            return [f"{where}: {tp} but the schema allows any {alt.get('type')}"]
        if set(args) >= values if view else set(args) == values:
            return []
        return [f"{where}: {sorted(args)} but the schema's values are {sorted(values)}"]
    if tp in _SCALARS:
        if alt.get("type", _SCALARS[tp]) != _SCALARS[tp]:
            return [f"{where}: {tp.__name__} but the schema says {alt.get('type')}"]
        if values is not None and not (view and all(isinstance(v, tp) for v in values)):
            return [f"{where}: {tp.__name__} but the schema allows only {sorted(values)}"]
        return []
    if view and tp is object:
        return []
    if origin in (list, Sequence):
        if alt.get("type") != "array":
            return [f"{where}: {tp} but the schema says {alt.get('type')}"]
        return check(args[0], alt.get("items", {}), root, view, f"{where}[]")
    if origin is dict and args[0] is str:
        extra = alt.get("additionalProperties")
        if alt.get("type") != "object" or "properties" in alt or not isinstance(extra, dict):
            return [f"{where}: {tp} but the schema is not an object of any keys"]
        return check(args[1], extra, root, view, f"{where}{{}}")
    if view and origin is Mapping and args == (str, object):
        return [] if alt.get("type") == "object" else [f"{where}: not an object in the schema"]
    if is_typeddict(tp):
        return check_typeddict(tp, alt, root, view, where)
    return [f"{where}: {tp} has no JSON Schema counterpart here"]


def check(tp: Any, node: Schema, root: Schema, view: bool = False, where: str = "") -> list[str]:
    """Problems of a type against a schema. In a contract, every member of a union matches an
    alternative of the schema and every alternative a member; in a view, every alternative."""
    alts, members = _alternatives(root, node), _members(tp)
    found = [[_match(m, alt, root, view, where) for alt in alts] for m in members]
    if len(members) == 1 and len(alts) == 1:
        return found[0][0]
    problems: list[str] = []
    if not view:
        for member, results in zip(members, found, strict=True):
            if all(results):
                problems.append(f"{where}: {_name(member)} matches no alternative of the schema")
    for i, alt in enumerate(alts):
        if all(results[i] for results in found):
            if view and len(members) == 1:  # say why (a Literal without a value, say)
                problems += found[0][i]
            else:
                problems.append(f"{where}: the type does not allow the schema's {alt}")
    return problems


def check_typeddict(
    td: Any, node: Schema, root: Schema, view: bool = False, where: str = ""
) -> list[str]:
    node = _resolve(root, node)
    where = where or td.__name__
    if node.get("type") != "object" or "properties" not in node:
        return [f"{where}: {td.__name__} but the schema is not an object with properties"]
    hints = get_type_hints(td, include_extras=True)
    props, required = node["properties"], set(node.get("required", ()))
    problems = [f"{where}.{k}: not in the schema" for k in sorted(set(hints) - set(props))]
    problems += [
        f"{where}.{k}: required by the type, optional in the schema"
        for k in sorted((td.__required_keys__ & set(props)) - required)
    ]
    if not view:
        problems += [f"{where}.{k}: in the schema only" for k in sorted(set(props) - set(hints))]
        problems += [
            f"{where}.{k}: required by the schema, optional in the type"
            for k in sorted(required - td.__required_keys__)
        ]
        if node.get("additionalProperties") is not False:
            problems.append(f"{where}: the schema allows other properties")
    for name in sorted(set(hints) & set(props)):
        problems += check(hints[name], props[name], root, view, f"{where}.{name}")
    return problems


# -- the contracts against the schemas -----------------------------------------------------------
@pytest.mark.parametrize("name", ["article", "events", "manifest"])
def test_schemas_are_valid_json_schemas(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(schema(name))


@pytest.mark.parametrize(("tp", "doc", "pointer"), CONTRACTS, ids=[_name(c[0]) for c in CONTRACTS])
def test_contract_matches_its_schema(tp: Any, doc: str, pointer: str) -> None:
    root = schema(doc)
    assert check(tp, _at(root, pointer), root, where=_name(tp)) == []


@pytest.mark.parametrize(("tp", "doc", "pointer"), VIEWS, ids=[_name(v[0]) for v in VIEWS])
def test_view_reads_only_what_the_schema_guarantees(tp: Any, doc: str, pointer: str) -> None:
    root = schema(doc)
    assert check(tp, _at(root, pointer), root, view=True, where=_name(tp)) == []


def test_fold_views_are_read_only() -> None:
    for view in (FoldedRecord, FoldedProvenance, FoldedAlias, FoldedDeletion, FoldedRestoration):
        hints = get_type_hints(view, include_extras=True)
        assert all(get_origin(tp) is _READ_ONLY for tp in hints.values()), view.__name__


def test_event_kinds_are_the_events() -> None:
    kinds = {get_args(get_type_hints(e)["kind"])[0] for e in get_args(Event)}
    assert kinds == set(get_args(EventKind))


def _typeddicts() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module in pkgutil.walk_packages(flows.__path__, "flows."):
        if module.name.endswith(".__main__"):  # runs the CLI
            continue
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            # A private base only splits its public subclass (checked with it).
            private = getattr(value, "__name__", "").startswith("_")
            if is_typeddict(value) and value.__module__ == module.name and not private:
                found[f"{module.name}.{value.__qualname__}"] = value
    return found


def test_every_typeddict_is_checked_or_said_unpublished_and_exported() -> None:
    checked = {
        f"{tp.__module__}.{tp.__qualname__}" for tp, _, _ in CONTRACTS + VIEWS if is_typeddict(tp)
    }
    found = _typeddicts()
    assert set(found) == checked | set(UNPUBLISHED)
    for qualname, td in found.items():
        package = importlib.import_module(qualname.rsplit(".", 2)[0])
        assert td.__name__ in package.__all__, f"{qualname} is not in its package's __all__"


# -- the comparison fails where the two differ --------------------------------------------------
class _EvidenceWithExtra(RecordEvidence):
    note: str


class _EvidenceWrongType(TypedDict):
    warc_key: str
    warc_record_id: str
    http_status: str


class _CountsWithNewField(TypedDict):
    response: int
    revisit: int
    warcinfo: int


class _KindTooNarrow(TypedDict):
    kind: ReadOnly[Literal["alias"]]
    how: ReadOnly[Literal["http_404", "http_410"]]


class _ViewOfMissingKey(TypedDict):
    kind: ReadOnly[str]
    reason: ReadOnly[str]


def test_a_field_added_to_one_side_only_fails() -> None:
    events, manifest = schema("events"), schema("manifest")
    evidence = _at(events, "#/$defs/record_evidence")
    assert check(_EvidenceWithExtra, evidence, events) == [
        "_EvidenceWithExtra.note: not in the schema"
    ]
    records = _at(manifest, "#/properties/counts/properties/records")
    assert check(_CountsWithNewField, records, manifest) == [
        "_CountsWithNewField.warcinfo: not in the schema"
    ]
    wider = {**records, "properties": {**records["properties"], "warcinfo": {"type": "integer"}}}
    assert check(RecordCounts, wider, manifest) == ["RecordCounts.warcinfo: in the schema only"]


def test_required_keys_and_types_must_agree() -> None:
    events = schema("events")
    evidence = _at(events, "#/$defs/record_evidence")
    optional = {**evidence, "required": ["warc_key", "warc_record_id"]}
    assert check(RecordEvidence, optional, events) == [
        "RecordEvidence.http_status: required by the type, optional in the schema"
    ]
    assert check(_EvidenceWrongType, evidence, events) == [
        "_EvidenceWrongType.http_status: str but the schema says integer"
    ]
    open_ended = {k: v for k, v in evidence.items() if k != "additionalProperties"}
    assert check(RecordEvidence, open_ended, events) == [
        "RecordEvidence: the schema allows other properties"
    ]


def test_literals_and_unions_must_agree() -> None:
    events, article = schema("events"), schema("article")
    deleted = _at(events, "#/$defs/deleted")
    assert check(_KindTooNarrow, deleted, events, view=True) == [
        "_KindTooNarrow.how: ['http_404', 'http_410'] but the schema's values are "
        "['http_404', 'http_410', 'redirect_home', 'redirect_listing', 'unlisted']",
        "_KindTooNarrow.kind: ['alias'] but the schema's values are ['deleted']",
    ]
    assert check(_ViewOfMissingKey, deleted, events, view=True) == [
        "_ViewOfMissingKey.reason: not in the schema"
    ]
    title = _at(article, "#/properties/title")  # string or null
    assert check(str, title, article, where="title") == [
        "title: the type does not allow the schema's {'type': 'null'}"
    ]
    assert check(str | int | None, title, article, where="title") == [
        "title: int matches no alternative of the schema"
    ]


# -- real outputs validate -----------------------------------------------------------------------
@dataclass
class Sealed:
    run: RunPaths
    manifest: Manifest


def _texts(sealed: dict[str, Path]) -> Callable[[ArticleEntry], str | None]:
    """The previous version's text, from the sealed runs' files (the flow reads it from S3)."""

    def load(entry: ArticleEntry) -> str | None:
        for record in read_jsonl_gz(sealed[entry.record_key]):
            if (record["id"], record["version"]) == (entry.id, entry.version):
                return str(record["text"])
        return None

    return load


def _seal(
    crawled: Crawled,
    run: RunPaths,
    stats: dict[str, Any],
    loaded: LoadedState,
    files: dict[str, Path],
) -> Sealed:
    """Process, derive and seal a spooled run as the flow's process task does."""
    keys = Keys("", run.site, run.run_id)
    spill = run.dir / SPILL_DIR
    spill.mkdir()
    result = process_warcs(run.warc_files(), crawled.profile, run.run_id, keys.warc, spill)
    derived = derive(result, loaded.state, run.run_id, keys, _texts(files))
    records = write_run_index(run.warc_files(), run.captures)
    cdxj_lines = index_warcs(run.warc_files(), run.cdxj)
    started = datetime.now(UTC)
    manifest = seal_run(
        run, keys, crawled.profile, derived, stats, started, records, cdxj_lines, loaded
    )
    files[keys.articles] = run.articles
    return Sealed(run, manifest)


def _copy_run(warcs: list[Path], root: Path) -> RunPaths:
    run = RunPaths.create(root, "replica")
    for path in warcs:
        shutil.copy(path, run.warc_dir / path.name)
    return run


@pytest.fixture(scope="module")
def sealed(
    crawled: Crawled, replica: ReplicaServer, tmp_path_factory: pytest.TempPathFactory
) -> list[Sealed]:
    """Day 0 (the session's crawl); day 3 (edits, a republished copy, deletions by 404, 410 and
    redirect); day 0's WARCs again as a later run (restorations, articles no longer listed)."""
    root = tmp_path_factory.mktemp("contracts")
    captures = root / "captures.jsonl.gz"
    write_entries(captures, [])
    loaded = LoadedState(SiteState("replica"), captures, "new")
    files: dict[str, Path] = {}
    day0 = _copy_run(crawled.result.warc_files, root)
    runs = [_seal(crawled, day0, crawled.result.stats, loaded, files)]
    day3 = RunPaths.create(root, "replica")
    shutil.copyfile(loaded.captures, day3.prior_captures)
    replica.set_day(3)
    try:
        crawl = run_crawl(crawled.profile, day3, logging.getLogger("test.contracts"))
    finally:
        replica.set_day(0)
    runs.append(_seal(crawled, day3, crawl.stats, loaded, files))
    again = _copy_run(crawled.result.warc_files, root)
    runs.append(_seal(crawled, again, crawled.result.stats, loaded, files))
    return runs


@pytest.mark.e2e  # the session's crawl of the replica: a server
def test_real_records_events_and_manifests_validate(sealed: list[Sealed]) -> None:
    records = [r for s in sealed for r in read_jsonl_gz(s.run.articles)]
    events = [e for s in sealed for e in read_jsonl_gz(s.run.events)]
    for record in records:
        jsonschema.validate(record, schema("article"))
    for event in events:
        jsonschema.validate(event, schema("events"))
    for one in sealed:
        jsonschema.validate(one.manifest, schema("manifest"))
    # the runs gave every kind of record and event the schemas describe
    assert any(r["version"] > 1 and r["diff"] for r in records)
    assert any(r["near_duplicate_of"] for r in records)
    kinds = {(e["kind"], e.get("how")) for e in events}
    assert {("alias", None), ("restored", None), ("deleted", "unlisted")} <= kinds
    assert {"http_404", "http_410", "redirect_home"} <= {how for _, how in kinds}
