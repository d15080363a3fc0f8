"""Replay QA: does what was archived replay as the reader saw it? A sample of a run's pages,
rendered live and replayed from pywb in headless Chromium, scored with Browsertrix's measures.

``pixels``: screenshot match (pixelmatch's count); ``measures``: text match, resource counts,
what is in scope; ``sample``: which pages (deterministic from the run id); ``render``: one page
in Chromium, with what is frozen or blocked; ``check``: QA of one run over pywb; ``report``:
the table, the summary line, the health problems and the pictures people see.
"""

from flows.qa.check import PageScore, QAResult, fmt, qa_archived_run, run_qa, score_page
from flows.qa.measures import Fetch, Resources, grade, in_scope, text_match
from flows.qa.pixels import PixelDiff, compare
from flows.qa.render import CHROMIUM_ARGS, Renderer, Rendering, Replay, chromium_path
from flows.qa.report import pictures_markdown, problems, rows, summary
from flows.qa.sample import Page, choose, pages_of, sample_run

__all__ = [
    "CHROMIUM_ARGS",
    "Fetch",
    "Page",
    "PageScore",
    "PixelDiff",
    "QAResult",
    "Renderer",
    "Rendering",
    "Replay",
    "Resources",
    "choose",
    "chromium_path",
    "compare",
    "fmt",
    "grade",
    "in_scope",
    "pages_of",
    "pictures_markdown",
    "problems",
    "qa_archived_run",
    "rows",
    "run_qa",
    "sample_run",
    "score_page",
    "summary",
    "text_match",
]
