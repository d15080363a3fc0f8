"""``run.py --merge``: a partial run's rows put into ``bench/RESULTS.md`` in place of the rows
with the same keys, so the file stays one table while single rows are measured again.

The merged rows' notes say when they were measured and under what load (the machine section
describes the last full run); the heading lists which rows were measured later.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from harness import Row, cells_table, row_cells

_TABLE_ROW = re.compile(r"^\| (?!row |-)")
_NOTE = re.compile(r"^- ([A-Z]\d?): ")
_MERGED = "Rows measured later, in partial runs (see their notes): "


def _key(first_cell: str) -> str:
    return first_cell.split(" ", 1)[0]


def merge_results(
    path: Path, rows: list[Row], order: tuple[str, ...], how: str, load: tuple[float, float]
) -> None:
    """Replace ``path``'s rows and notes of the keys in ``rows`` with these; ``how`` is the
    command line, ``load`` the 1-minute load average at the partial run's start and end."""
    lines = path.read_text(encoding="utf-8").splitlines()
    keys = {row.key for row in rows}
    table = [
        tuple(c.strip() for c in line.strip("|").split(" | "))
        for line in lines
        if _TABLE_ROW.match(line)
    ]
    kept = [cells for cells in table if _key(cells[0]) not in keys]
    merged = kept + [row_cells(row) for row in rows]
    rank = {key: n for n, key in enumerate(order)}
    merged.sort(key=lambda cells: rank.get(_key(cells[0]), len(order)))
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    stamp = (
        f"measured {when} by `{how}`, load average {load[0]:.2f} at its start, "
        f"{load[1]:.2f} at its end"
    )
    notes = [ln for ln in lines if (m := _NOTE.match(ln)) and m[1] not in keys]
    notes += [f"- {key}: {stamp}" for key in keys]
    notes += [f"- {row.key}: {note}" for row in rows for note in row.notes]
    notes.sort(key=lambda ln: rank.get(ln[2:].split(":", 1)[0], len(order)))  # stable

    out: list[str] = []
    table_done = notes_done = skip_blank = False
    later = set(keys)
    for line in lines:
        if skip_blank and line == "":
            skip_blank = False
            continue
        skip_blank = False
        if line.startswith(_MERGED):
            later |= {k.strip(" .`") for k in line[len(_MERGED) :].split(",")}
            continue
        if _TABLE_ROW.match(line) or line.startswith(("| row ", "|-")):
            if not table_done:
                out += cells_table(merged)
                table_done = True
            continue
        if _NOTE.match(line):
            continue  # every note is in ``notes``
        if line == "Notes:" and not notes_done:
            out += [line, "", *notes]
            notes_done = skip_blank = True
            continue
        out.append(line)
    heading = _MERGED + ", ".join(sorted(later, key=lambda k: rank.get(k, 99))) + "."
    out.insert(out.index("") + 1 if "" in out else 1, heading)
    out.insert(out.index(heading) + 1, "")
    path.write_text("\n".join(_squeeze(out)) + "\n", encoding="utf-8")


def _squeeze(lines: list[str]) -> list[str]:
    """No two blank lines in a row (the notes block is rebuilt with its own blank line)."""
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue
        out.append(line)
    return out
