"""Metadata quality: title, published date and authors against labels, for the cleaner and for
trafilatura in the same run.

The labels (``bench/metadata/labels.json``) were written by reading each page: its JSON-LD, its
meta tags and its visible header and byline; never by running an extractor. Pages come from the
development set (``../shared/extraction-dev``, referenced by id, read in place) and from
``bench/metadata/pages/`` (pages made here for the cases the issue names: a site suffix in the
title, an "updated" stamp, an event date, the site's name or a Facebook URL as the meta author,
an "Autor" label in the byline; id ``made:<name>``).

Rules the labels follow, and how a field is judged correct:

- **title**: the article's headline. A page may state it in more than one accepted form (the
  visible ``<h1>``, the publisher's ``og:title`` or JSON-LD ``headline`` when that is the same
  headline without the site's name); the label lists them. Correct when the extracted title
  equals one of them after collapsing whitespace, case-folding and unifying quote characters.
- **published**: the date the article was first published (not the "updated" stamp, not the
  date of an event it announces), as the page states it (``YYYY-MM-DD``, the site's local day).
  Extracted times are UTC, so a time is correct when its day in some UTC offset from -12 h to
  +14 h is the labelled day; a bare date must equal it.
- **authors**: the people who wrote it, as a set of names (``[]`` when the page names no
  person: an organisation, an agency, "Redaktion"); labels such as "By", "Von", "Autor" are not
  part of a name. Correct when the extracted set equals the labelled set after whitespace
  collapsing and case-folding. trafilatura's single author string is split on ``;``.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent / "metadata"
_WS = re.compile(r"\s+")
_QUOTES = str.maketrans({c: '"' for c in "„“”«»‘’‚'`"})
FIELDS = ("title", "published", "authors")


@dataclass(frozen=True)
class Labelled:
    id: str
    url: str
    html: bytes
    titles: tuple[str, ...]
    published: str | None
    authors: tuple[str, ...]


@dataclass(frozen=True)
class Meta:
    """What an extractor said about one page."""

    title: str | None
    published: str | None
    authors: tuple[str, ...]


def labelled_pages(dev_dir: Path) -> Iterator[Labelled]:
    labels = json.loads((HERE / "labels.json").read_text(encoding="utf-8"))["pages"]
    index = json.loads((dev_dir / "pages.json").read_text(encoding="utf-8"))
    for pid, label in sorted(labels.items()):
        if pid.startswith("made:"):
            name = pid.removeprefix("made:")
            url = f"https://example.org/{name}/"
            html = (HERE / "pages" / f"{name}.html").read_bytes()
        else:
            page = index[pid]
            url = page["url"] if page["url"].startswith("http") else "https://example.org/"
            html = gzip.decompress((dev_dir / "html" / page["file"]).read_bytes())
        yield Labelled(
            pid,
            url,
            html,
            tuple(label["title"]),
            label["published"],
            tuple(label["authors"]),
        )


def _norm(text: str) -> str:
    return _WS.sub(" ", text.translate(_QUOTES)).strip().casefold()


def title_ok(got: str | None, want: tuple[str, ...]) -> bool:
    return got is not None and _norm(got) in {_norm(w) for w in want}


def published_ok(got: str | None, want: str | None) -> bool:
    if got is None or want is None:
        return got is None and want is None
    target = date.fromisoformat(want)
    if len(got) == 10:
        return got == want
    try:
        moment = datetime.fromisoformat(got.replace("Z", "+00:00"))
    except ValueError:
        return False
    return any((moment + timedelta(hours=h)).date() == target for h in range(-12, 15))


def authors_ok(got: tuple[str, ...], want: tuple[str, ...]) -> bool:
    return {_norm(a) for a in got if a.strip()} == {_norm(a) for a in want}


@dataclass
class MetaScore:
    pages: int = 0
    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    wrong: dict[str, list[str]] = field(default_factory=lambda: {f: [] for f in FIELDS})

    def add(self, page: Labelled, meta: Meta) -> None:
        self.pages += 1
        for name, ok in (
            ("title", title_ok(meta.title, page.titles)),
            ("published", published_ok(meta.published, page.published)),
            ("authors", authors_ok(meta.authors, page.authors)),
        ):
            self.right[name] += ok
            if not ok:
                self.wrong[name].append(page.id)

    def rate(self, name: str) -> float:
        return self.right[name] / self.pages if self.pages else 0.0


def trafilatura_meta(raw: bytes, url: str) -> Meta:
    import trafilatura

    doc = trafilatura.bare_extraction(raw, url=url, with_metadata=True)
    if doc is None:
        return Meta(None, None, ())
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(vars(doc))
    author = data.get("author") or ""
    return Meta(
        data.get("title") or None,
        data.get("date") or None,
        tuple(a.strip() for a in author.split(";") if a.strip()),
    )
