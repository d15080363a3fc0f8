"""Cleaner quality and speed against trafilatura, both measured in the same run.

Usage: ``.venv/bin/python bench/clean_quality.py [--articles N] [--seed S] [--dev-limit N]``
(``make bench-clean``). Prints ratios and rates; asserts nothing about wall times.

(a) **Replica article pages** (``infra.replica``: the tagDiv theme with its noise, and the
generator's ground truth ``Article.paragraphs``). The cleaner runs with the site profile
(``theme="tagdiv-newspaper"``); trafilatura runs with its defaults (``extract``). Quality is
token-level precision / recall / F1, micro-averaged over pages: the extracted text and the
ground truth (paragraphs joined) are split on whitespace into tokens, and the overlap is the
size of the multiset intersection, ``TP = sum(min(count_out(t), count_truth(t)))``;
``precision = TP / tokens_out``, ``recall = TP / tokens_truth``,
``F1 = 2PR / (P + R)``. Speed is pages per second on whole pages (bytes in, article out); the
speed row compares the cleaner with trafilatura's ``bare_extraction`` (defaults) on the same
pages.

(b) **Development set** (``../shared/extraction-dev``: real pages with ``with`` / ``without``
snippets). Both extract from the raw bytes, the cleaner without a site profile (generic path),
trafilatura with ``extract()`` defaults. Whitespace is collapsed in output and snippets; a page
passes when every ``with`` snippet is contained and no ``without`` one. Snippet precision is
``TP / (TP + FP)`` and recall ``TP / (TP + FN)`` with TP = ``with`` found, FN = ``with``
missing, FP = ``without`` found.

(c) **Metadata** (``bench/metadata/labels.json``: pages of the development set and pages made
for named cases, labelled by reading them; rules in ``bench/metadata_quality.py``): the share
of pages where title, published date and authors are right, the cleaner (generic path) and
trafilatura's ``bare_extraction`` metadata on the same pages.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from flows.clean.cleaner import clean_html
from flows.errors import ExtractionError
from flows.sites import load_profile

REPO = Path(__file__).resolve().parents[1]


def _dev_dir() -> Path:
    """$NEWSVAULT_SHARED/extraction-dev, else ../shared beside the repo, else /work/shared."""
    for base in (
        os.environ.get("NEWSVAULT_SHARED", ""),
        str(REPO.parent / "shared"),
        "/work/shared",
    ):
        if base and (Path(base) / "extraction-dev" / "pages.json").is_file():
            return Path(base) / "extraction-dev"
    return REPO.parent / "shared" / "extraction-dev"


DEV_DIR = _dev_dir()
TAGDIV = "tagdiv-newspaper"
REPLICA_SITE_NAMES = load_profile("replica").extract.site_names
_WS = re.compile(r"\s+")


# ----- scoring ----------------------------------------------------------------------------------


@dataclass
class TokenScore:
    """Micro-averaged token overlap (see the module docstring)."""

    tp: int = 0
    out: int = 0
    truth: int = 0

    def add(self, text: str, truth: str) -> None:
        got, want = Counter(text.split()), Counter(truth.split())
        self.tp += sum((got & want).values())
        self.out += sum(got.values())
        self.truth += sum(want.values())

    @property
    def precision(self) -> float:
        return self.tp / self.out if self.out else 0.0

    @property
    def recall(self) -> float:
        return self.tp / self.truth if self.truth else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class SnippetScore:
    """Pass rate and snippet precision/recall on the development set."""

    pages: int = 0
    passed: int = 0
    tp: int = 0
    fn: int = 0
    fp: int = 0

    def add(self, text: str, with_: list[str], without: list[str]) -> bool:
        flat = collapse(text)
        found = sum(collapse(s) in flat for s in with_)
        leaked = sum(collapse(s) in flat for s in without)
        self.pages += 1
        self.tp += found
        self.fn += len(with_) - found
        self.fp += leaked
        ok = found == len(with_) and leaked == 0
        self.passed += ok
        return ok

    @property
    def pass_rate(self) -> float:
        return self.passed / self.pages if self.pages else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def collapse(text: str) -> str:
    return _WS.sub(" ", text).strip()


# ----- extractors -------------------------------------------------------------------------------


def ours(raw: bytes, url: str, theme: str | None = None) -> str:
    """The cleaner; with a ``theme`` as the replica's profile runs it (with its site names)."""
    names = REPLICA_SITE_NAMES if theme else ()
    try:
        return clean_html(raw, url, theme=theme, site_names=names).text
    except ExtractionError:
        return ""


def theirs(raw: bytes, url: str) -> str:
    return trafilatura.extract(raw, url=url) or ""


def theirs_bare(raw: bytes, url: str) -> object:
    return trafilatura.bare_extraction(raw, url=url)


# ----- data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplicaPage:
    url: str
    html: bytes
    truth: str


def replica_pages(articles: int, seed: int) -> list[ReplicaPage]:
    from infra.replica import article_page, content, theme

    site = content.Site(articles=articles, seed=seed)
    th = theme.Theme(site, "http://127.0.0.1:8765")
    out = []
    for k in range(site.count):
        art = site.article_at(k)
        html = article_page.article_page(th, k)
        out.append(ReplicaPage(th.url(art.path), html, "\n".join(art.paragraphs)))
    return out


@dataclass(frozen=True)
class DevPage:
    id: str
    url: str
    html: bytes
    with_: list[str]
    without: list[str]


def dev_pages(limit: int | None = None, directory: Path = DEV_DIR) -> Iterator[DevPage]:
    index = directory / "pages.json"
    if not index.is_file():
        raise SystemExit(
            f"development set missing: {index} (expected ../shared/extraction-dev beside the repo)"
        )
    meta = json.loads(index.read_text(encoding="utf-8"))
    for n, (pid, page) in enumerate(sorted(meta.items())):
        if limit is not None and n >= limit:
            return
        html = gzip.decompress((directory / "html" / page["file"]).read_bytes())
        url = page["url"] if page["url"].startswith("http") else "https://example.org/"
        yield DevPage(pid, url, html, list(page["with"]), list(page["without"]))


# ----- runs -------------------------------------------------------------------------------------


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_replica(articles: int, seed: int) -> None:
    pages = replica_pages(articles, seed)
    ours(pages[0].html, pages[0].url, TAGDIV)  # warm-up: imports, language model
    theirs(pages[0].html, pages[0].url)
    score_ours, score_theirs = TokenScore(), TokenScore()
    t_ours = t_theirs = t_bare = 0.0
    for p in pages:
        start = time.perf_counter()
        text = ours(p.html, p.url, TAGDIV)
        t_ours += time.perf_counter() - start
        score_ours.add(text, p.truth)
        start = time.perf_counter()
        text = theirs(p.html, p.url)
        t_theirs += time.perf_counter() - start
        score_theirs.add(text, p.truth)
        t_bare += _timed(lambda p=p: theirs_bare(p.html, p.url))  # type: ignore[misc]
    n = len(pages)
    print(f"(a) replica article pages: {n} (seed {seed}), token-level vs ground truth")
    print(f"{'':34}{'cleaner':>12}{'trafilatura':>14}")
    for name, a, b in (
        ("precision", score_ours.precision, score_theirs.precision),
        ("recall", score_ours.recall, score_theirs.recall),
        ("F1", score_ours.f1, score_theirs.f1),
    ):
        print(f"{name:34}{a:>12.4f}{b:>14.4f}")
    print(f"{'pages/s (extract)':34}{n / t_ours:>12.1f}{n / t_theirs:>14.1f}")
    print(f"{'pages/s (bare_extraction)':34}{'':>12}{n / t_bare:>14.1f}")
    print(f"speed: cleaner / trafilatura bare_extraction = {t_bare / t_ours:.2f}x (target >= 2x)")
    print(f"speed: cleaner / trafilatura extract         = {t_theirs / t_ours:.2f}x")


def bench_dev(limit: int | None) -> None:
    score_ours, score_theirs = SnippetScore(), SnippetScore()
    t_ours = t_theirs = 0.0
    only_ours = only_theirs = 0
    for page in dev_pages(limit):
        start = time.perf_counter()
        a = ours(page.html, page.url)
        t_ours += time.perf_counter() - start
        start = time.perf_counter()
        b = theirs(page.html, page.url)
        t_theirs += time.perf_counter() - start
        pa = score_ours.add(a, page.with_, page.without)
        pb = score_theirs.add(b, page.with_, page.without)
        only_ours += pa and not pb
        only_theirs += pb and not pa
    n = score_ours.pages
    print(f"\n(b) development set: {n} real pages (cleaner: generic path; trafilatura: extract())")
    print(f"{'':34}{'cleaner':>12}{'trafilatura':>14}")
    print(f"{'pass rate':34}{score_ours.pass_rate:>12.3f}{score_theirs.pass_rate:>14.3f}")
    print(f"{'pages passed':34}{score_ours.passed:>12}{score_theirs.passed:>14}")
    print(f"{'snippet precision':34}{score_ours.precision:>12.3f}{score_theirs.precision:>14.3f}")
    print(f"{'snippet recall':34}{score_ours.recall:>12.3f}{score_theirs.recall:>14.3f}")
    print(f"{'pages/s':34}{n / t_ours:>12.1f}{n / t_theirs:>14.1f}")
    print(f"passed by one only: cleaner {only_ours}, trafilatura {only_theirs}")
    print(
        f"pass rate: cleaner / trafilatura = {score_ours.passed / max(score_theirs.passed, 1):.3f}"
    )


def bench_metadata() -> None:
    """(c) Title, published date and authors against the labelled set (bench/metadata)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script or imported
    from metadata_quality import FIELDS, Meta, MetaScore, labelled_pages, trafilatura_meta

    score_ours, score_theirs = MetaScore(), MetaScore()
    for page in labelled_pages(DEV_DIR):
        try:
            a = clean_html(page.html, page.url)
            got = Meta(a.title, a.published, a.authors)
        except ExtractionError:
            got = Meta(None, None, ())
        score_ours.add(page, got)
        score_theirs.add(page, trafilatura_meta(page.html, page.url))
    print(f"\n(c) metadata: {score_ours.pages} labelled pages, share of pages right per field")
    print(f"{'':34}{'cleaner':>12}{'trafilatura':>14}")
    for name in FIELDS:
        print(f"{name:34}{score_ours.rate(name):>12.3f}{score_theirs.rate(name):>14.3f}")
    for name in FIELDS:
        if score_ours.wrong[name]:
            print(f"cleaner wrong on {name}: {', '.join(score_ours.wrong[name])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=300, help="replica pages (a)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--dev-limit", type=int, default=None, help="first N dev pages (b)")
    parser.add_argument("--skip-dev", action="store_true")
    args = parser.parse_args(argv)
    bench_replica(args.articles, args.seed)
    if not args.skip_dev:
        bench_dev(args.dev_limit)
        bench_metadata()
    return 0


if __name__ == "__main__":
    sys.exit(main())
