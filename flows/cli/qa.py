"""``newsvault qa SITE [--run RUN_ID] [--sample N]``: replay QA of an archived run.

The run's sample rendered live and replayed (pywb over the site's verified mirror) in headless
Chromium, each page scored as Browsertrix scores it; the thresholds of the profile's ``[health]``
decide the exit code (1 when a page crosses one). Chromium missing is one line saying how to
install it.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from flows.cli.common import positive, use_local_stack_defaults

if TYPE_CHECKING:
    from flows.cli.common import Subparsers


def register(sub: Subparsers) -> None:
    qa = sub.add_parser(
        "qa", help="replay QA: a run's pages rendered live and replayed, scored like Browsertrix"
    )
    qa.add_argument("site", help="the site: the name of its profile (spiders/profiles/SITE.toml)")
    qa.add_argument("--run", default=None, help="the run id (default: the latest run)")
    qa.add_argument(
        "--sample",
        type=positive,
        default=None,
        help="pages to check (default: the profile's [qa] sample)",
    )
    qa.add_argument(
        "--base-url",
        default=None,
        help="the site's address, for what is in scope (default: the profile's base_url)",
    )
    qa.set_defaults(handler=_qa)


def _qa(args: argparse.Namespace) -> int:
    from flows.qa import chromium_path, fmt, problems, qa_archived_run, summary
    from flows.sites import load_profile
    from flows.store import Store, StoreConfig, check_run_id

    profile = load_profile(args.site, args.base_url)
    chromium_path()  # missing: one line, before S3 is asked anything
    use_local_stack_defaults()
    run_id = check_run_id(args.run) if args.run else None
    result, skipped = qa_archived_run(
        Store(StoreConfig.from_env()),
        profile,
        run_id,
        args.sample or profile.qa.sample,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    for problem in skipped:
        print(f"newsvault: skipped: {problem}", file=sys.stderr)
    print(f"replay QA of run {result.run_id} of {profile.name}: {summary(result)}")
    for page in result.pages:
        print(
            f"screenshot {fmt(page.screenshot_match)}  text {fmt(page.text_match)}  "
            f"{page.replay.bad} bad  {page.page.kind:<8} {page.page.url}"
            + (f"  ({page.error})" if page.error else "")
        )
    print(f"pictures (live, replay, diff): {result.pictures_dir}")
    crossed = problems(result, profile.health)
    for problem in crossed:
        print(f"newsvault: health: {problem}", file=sys.stderr)
    return 1 if crossed else 0
