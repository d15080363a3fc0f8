"""docs/PROFILES.md, rendered from the profile schema (``newsvault site reference``)."""

from __future__ import annotations

import typing
from dataclasses import fields
from typing import Any

from flows.sites.profile import SECTIONS, SiteProfile


def reference() -> str:
    """Every key of a profile, its type, default and meaning: the text of docs/PROFILES.md."""
    lines = [
        "# Site profile reference",
        "",
        "<!-- Generated from flows/sites/profile.py by",
        "     `newsvault site reference > docs/PROFILES.md`; tests/test_profile.py checks",
        "     that it is up to date. -->",
        "",
        "One TOML file per site, named `<site>.toml`, in `spiders/profiles/` or a directory of",
        "`NEWSVAULT_PROFILES`. Start from `docs/site-template.toml` or `newsvault site add URL`.",
        "A key left out takes its default; an unknown key, section or type is an error.",
    ]
    for title, cls in [("top level", SiteProfile), *((f"[{k}]", c) for k, c in SECTIONS.items())]:
        lines += ["", f"## {title}", "", " ".join((cls.__doc__ or "").split()), ""]
        lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
        hints = typing.get_type_hints(cls)
        for f in (f for f in fields(cls) if "doc" in f.metadata):
            kind = _KINDS.get(str(hints[f.name]), str(hints[f.name]))
            default = '""' if f.default is None else _toml(f.default)
            lines.append(f"| `{f.name}` | {kind} | `{default}` | {f.metadata['doc']} |")
    return "\n".join(lines) + "\n"


_KINDS = {
    "<class 'bool'>": "boolean",
    "<class 'int'>": "integer",
    "<class 'float'>": "number",
    "<class 'str'>": "string",
    "str | None": 'string (`""`: none)',
    "tuple[str, ...]": "list of strings",
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else repr(value)
