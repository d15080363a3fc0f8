"""Schema-tagged JSON objects, gzip'd reproducibly: the same data, the same bytes.

The site state and a run's site template are archived this way (compact, sorted keys, no name or
time in the gzip header), so equal objects have equal SHA-256s in manifests and comparisons.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from typing import Any


def dump_gzjson(schema: str, data: Mapping[str, Any]) -> bytes:
    text = json.dumps(
        {"schema": schema, **data}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def load_gzjson(raw: bytes, schema: str, what: str) -> dict[str, Any]:
    """The object in ``raw``; ``ValueError`` names what is wrong (``what``: "state", …)."""
    try:
        data = json.loads(gzip.decompress(raw))
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"not a gzip'd JSON {what} ({exc})") from exc
    if not isinstance(data, dict) or data.get("schema") != schema:
        raise ValueError(f"schema is not {schema}")
    return data
