"""The index of a WACZ, so that every capture it lists replays in ReplayWeb.page (wabac.js),
alone: 304 re-checks shown as the page they confirmed, and the originals its revisits need.

What wabac.js 2.27 does (``src/remotearchivedb.ts`` ``loadPayload``, ``archivedb.ts``
``getResource``): a CDXJ line with status 304 is a null-body status, answered ``304`` with no
body; a line whose record's ``WARC-Date`` differs from the line's time is refused ("Wrong
timestamp"), so the pywb mirror's fix (a 304 line keeping its time but pointing at the original
record) replays nothing there. A revisit record is followed through ``WARC-Refers-To-Target-URI``
and ``-Date`` to the original, whose payload it serves with the revisit's own HTTP headers when
it has any (a 304's: no Content-Type, no Content-Encoding: a gzip body shown as bytes), else the
original's.

So each 304 re-check gets a derived record in ``archive/rechecks.warc.gz``: its recorded WARC
headers (date, target, refers-to fields, digest) and no HTTP block, a new record id, and
``WARC-Concurrent-To`` naming the recorded 304 it restates; its index line points there with the
original's status. The recorded WARC files stay byte for byte as archived. Originals that the
package's revisits depend on but that lie in runs left out (``export --run``) are copied, each
gzip member byte for byte, into ``archive/originals.warc.gz``: the package replays on a machine
that has nothing else (``relation.requires`` would make the reader fetch other packages).
A revisit whose original is nowhere in the archive cannot replay and is left out, as the
Internet Archive's CDX-Writer does.
"""

from __future__ import annotations

import gzip
import io
import json
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from warcio.archiveiterator import ArchiveIterator

from flows.replay.revisits import is_not_modified
from flows.warc import css_urls, html_urls

ORIGINALS: Final = "originals.warc.gz"
RECHECKS: Final = "rechecks.warc.gz"
_NS: Final = uuid.UUID("4f1c6a52-8f0e-4d8e-9d1b-2f5c3c1e7a10")  # derived record ids
_KEPT_HEADERS: Final = (
    "WARC-Target-URI",
    "WARC-Date",
    "WARC-Profile",
    "WARC-Payload-Digest",
    "WARC-IP-Address",
)


@dataclass(frozen=True)
class Line:
    key: str
    ts: str
    data: dict[str, Any]

    def encode(self) -> bytes:
        return f"{self.key} {self.ts} {json.dumps(self.data, separators=(',', ':'))}\n".encode()

    @property
    def where(self) -> tuple[str, int]:
        return str(self.data.get("filename", "")), int(self.data.get("offset", -1))


@dataclass
class Packed:
    """The package's index lines and the WARC files written beside the recorded ones."""

    lines: list[bytes]
    extra_warcs: list[Path]
    copied: int = 0  # original records copied in
    rechecks: int = 0  # 304 re-checks restated
    dropped: list[str] = field(default_factory=list)  # revisits that cannot replay


def read_lines(paths: Iterable[Path]) -> Iterator[Line]:
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for text in fh:
                parts = text.rstrip("\n").split(" ", 2)
                if len(parts) == 3:
                    data = json.loads(parts[2])
                    if isinstance(data, dict):
                        yield Line(parts[0], parts[1], data)


def _is_original(line: Line) -> bool:
    return line.data.get("mime") != "warc/revisit" and str(line.data.get("status", "")).startswith(
        "2"
    )


def _record_bytes(archive: Path, line: Line) -> bytes:
    name, offset = line.where
    with open(archive / name, "rb") as fh:
        fh.seek(offset)
        return fh.read(int(line.data["length"]))


def _headers(raw: bytes) -> dict[str, str]:
    for record in ArchiveIterator(io.BytesIO(raw)):
        return {k: v for k, v in record.rec_headers.headers}
    return {}


def _ts(warc_date: str) -> str:
    return "".join(c for c in warc_date[:19] if c.isdigit())


def _original(
    line: Line, headers: dict[str, str], candidates: dict[str, list[Line]]
) -> Line | None:
    """The record a revisit names (target URI and date), else the same URL's latest earlier
    capture with its digest, else any earlier capture with it."""
    found = candidates.get(str(line.data.get("digest", "")), [])
    url, ts = headers.get("WARC-Refers-To-Target-URI"), _ts(headers.get("WARC-Refers-To-Date", ""))
    tests: list[Callable[[Line], bool]] = [
        lambda o: o.data.get("url") == url and o.ts == ts,
        lambda o: o.key == line.key and o.ts <= line.ts,
        lambda o: o.ts <= line.ts,
    ]
    for test in tests:
        matches = [o for o in found if test(o)]
        if matches:
            return max(matches, key=lambda o: o.ts)
    return None


class _Appender:
    """A WARC file written record by record: each record's offset and length."""

    def __init__(self, path: Path) -> None:
        self.path, self.size = path, 0

    def add(self, raw: bytes) -> tuple[int, int]:
        with open(self.path, "ab") as fh:
            fh.write(raw)
        self.size += len(raw)
        return self.size - len(raw), len(raw)

    def written(self) -> Path | None:
        return self.path if self.size else None


def _restated(headers: dict[str, str], original: Line) -> bytes:
    """A 304 re-check without its HTTP block: wabac.js then serves the original's headers."""
    recorded = headers.get("WARC-Record-ID", "")
    kept: list[tuple[str, str]] = [(k, headers[k]) for k in _KEPT_HEADERS if k in headers]
    orig_date = datetime.strptime(original.ts, "%Y%m%d%H%M%S").strftime("%Y-%m-%dT%H:%M:%SZ")
    kept += [
        ("WARC-Refers-To-Target-URI", str(original.data.get("url", ""))),
        ("WARC-Refers-To-Date", orig_date),
        ("WARC-Concurrent-To", recorded),
    ]
    same = (
        headers.get("WARC-Refers-To-Target-URI") == original.data.get("url")
        and _ts(headers.get("WARC-Refers-To-Date", "")) == original.ts
    )
    if same and "WARC-Refers-To" in headers:  # the record id of the very capture it confirmed
        kept.append(("WARC-Refers-To", headers["WARC-Refers-To"]))
    fields = [
        ("WARC-Type", "revisit"),
        ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(_NS, recorded)}>"),
        *kept,
        ("Content-Length", "0"),
    ]
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return gzip.compress(head.encode("utf-8") + b"\r\n\r\n", mtime=0)  # an empty block


class _Packer:
    """The package's lines, built record by record (see the module docstring)."""

    def __init__(self, own: list[Line], site: Iterable[Line], archive: Path, work: Path) -> None:
        self.archive, self.files = archive, {line.where[0] for line in own}
        needed = {str(ln.data.get("digest")) for ln in own if ln.data.get("mime") == "warc/revisit"}
        self.originals: dict[str, list[Line]] = {}  # the captures revisits may refer to
        for line in site:
            if str(line.data.get("digest", "")) in needed and _is_original(line):
                self.originals.setdefault(str(line.data.get("digest", "")), []).append(line)
        self.copies, self.rechecks = _Appender(work / ORIGINALS), _Appender(work / RECHECKS)
        self.copied: dict[tuple[str, int], Line] = {}
        self.source: dict[tuple[str, int], Line] = {}  # where a package line is -> the capture
        # it stands for (the original of a revisit)
        self.packed = Packed([], [])

    def copy(self, line: Line) -> Line:
        """``line``'s record, copied byte for byte into originals.warc.gz (once)."""
        if line.where[0] in self.files:
            return line
        if line.where not in self.copied:
            raw = _record_bytes(self.archive, line)
            raw = raw if raw[:2] == b"\x1f\x8b" else gzip.compress(raw, mtime=0)  # a .warc
            offset, length = self.copies.add(raw)
            data = {**line.data, "filename": ORIGINALS, "offset": offset, "length": length}
            self.copied[line.where] = Line(line.key, line.ts, data)
            self.source[self.copied[line.where].where] = line
        return self.copied[line.where]

    def place(self, line: Line) -> Line | None:
        """The package's line for a recorded capture (a revisit with its original), or None
        when it cannot replay."""
        if line.data.get("mime") != "warc/revisit":
            return self.copy(line)
        headers = _headers(_record_bytes(self.archive, line))
        original = _original(line, headers, self.originals)
        if original is None:
            self.packed.dropped.append(f"{line.data.get('url')} at {line.ts}")
            return None
        self.source[self.copy(original).where] = original
        if not is_not_modified(line.data):
            placed = self.copy(line)
        else:
            offset, length = self.rechecks.add(_restated(headers, original))
            status = str(original.data.get("status", "200"))
            data = {**line.data, "status": status, "filename": RECHECKS}
            placed = Line(line.key, line.ts, {**data, "offset": offset, "length": length})
            self.packed.rechecks += 1
        self.source[placed.where] = original
        return placed

    def kind(self, line: Line) -> str:
        """ "html" or "css" for a 2xx capture of a page or a stylesheet (a revisit: its
        original's type), else ""."""
        if not str(line.data.get("status", "")).startswith("2"):
            return ""
        mime = str(self.source.get(line.where, line).data.get("mime", ""))
        return {"text/html": "html", "text/css": "css"}.get(mime, "")

    def payload(self, line: Line) -> bytes:
        """The decoded body of the capture a package line stands for."""
        raw = _record_bytes(self.archive, self.source.get(line.where, line))
        for record in ArchiveIterator(io.BytesIO(raw)):
            return bytes(record.content_stream().read())
        return b""


def _requisites(packer: _Packer, lines: list[Line], site: Iterable[Line]) -> list[Line]:
    """The captures, from other runs, of what the package's pages load (HTML, then CSS
    recursively) and it lacks: a run that found its requisites fresh fetched none of them."""
    have = {str(line.data.get("url")): line for line in lines}
    elsewhere: dict[str, list[Line]] = {}
    for line in site:
        if line.where[0] not in packer.files:
            elsewhere.setdefault(str(line.data.get("url")), []).append(line)
    todo = [line for line in lines if packer.kind(line) == "html"]
    added: list[Line] = []
    while todo:
        page = todo.pop()
        body, url = packer.payload(page), str(page.data.get("url"))
        found = html_urls(body, url) if packer.kind(page) == "html" else css_urls(body, url)
        for ref in found:
            if ref in have or ref not in elsewhere:
                continue
            earlier = [o for o in elsewhere[ref] if o.ts <= page.ts]  # as it was then
            placed = packer.place(max(earlier, key=lambda o: o.ts)) if earlier else None
            if placed is not None:
                have[ref] = placed
                added.append(placed)
                if packer.kind(placed) == "css":
                    todo.append(placed)
    return added


def pack_index(included: Iterable[Path], site: Iterable[Path], archive: Path, work: Path) -> Packed:
    """The index of a package holding the recorded WARCs that ``included`` indexes (each run's
    recorded index), with originals and requisites looked up in ``site`` (every run's) and
    read from ``archive``; extra WARC files are written under ``work``."""
    included, site = list(included), list(site)
    own = list(read_lines(included))
    packer = _Packer(own, read_lines(site), archive, work)
    lines = [placed for line in own if (placed := packer.place(line)) is not None]
    lines += list(packer.copied.values())
    others = [path for path in site if path not in included]
    if others:  # a package of some runs: what its pages load, from the others
        lines += _requisites(packer, lines, read_lines(others))
    packed = packer.packed
    packed.copied = len(packer.copied)
    packed.lines = sorted({line.encode() for line in [*lines, *packer.copied.values()]})
    packed.extra_warcs = [p for p in (packer.copies.written(), packer.rechecks.written()) if p]
    return packed
