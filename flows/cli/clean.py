"""``newsvault clean``: one saved page cleaned exactly as the pipeline cleans it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from flows.errors import ConfigError

if TYPE_CHECKING:
    from flows.cli.common import Subparsers


def register(sub: Subparsers) -> None:
    clean = sub.add_parser(
        "clean",
        help="clean one saved HTML page into article JSON or text",
        epilog="JSON output always has a status: ok, empty, not_html or no_article. Exit code: "
        "0 article found, 1 no article (status and reason in the output), 2 unreadable file or "
        "bad arguments.",
    )
    clean.add_argument("file", help="HTML file, or - for stdin")
    clean.add_argument(
        "--url", default="http://localhost/", help="the page's URL (resolves its relative links)"
    )
    clean.add_argument(
        "--site",
        default=None,
        help="use this site profile's extraction rules (default: the generic cleaner)",
    )
    clean.add_argument(
        "--format", choices=("json", "text"), default="json", help="the article as JSON or text"
    )
    clean.add_argument(
        "--charset",
        default=None,
        help="the charset of the HTTP Content-Type header the page came with (as the pipeline "
        "passes it: it overrules a wrong <meta charset> the same way; default: none)",
    )
    clean.set_defaults(handler=_clean)


def _clean(args: argparse.Namespace) -> int:
    """Exit 0 with the article, 1 with the status (empty, not_html, no_article) when the input
    holds none; unreadable files and unknown sites are ConfigErrors (exit 2)."""
    from dataclasses import asdict

    from flows.clean import STATUS_OK, CleanError, clean_html, decode_html
    from flows.sites import Extract, load_profile

    if args.file == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {args.file}: {exc.strerror}") from exc
    extract = load_profile(args.site).extract if args.site else Extract()
    try:
        article = clean_html(
            data,
            args.url,
            content_selector=extract.content_selector,
            theme=extract.theme,
            encoding=args.charset,
            site_names=extract.site_names,
        )
    except CleanError as exc:
        if args.format == "text":
            print(f"newsvault: {exc.status}: {exc}", file=sys.stderr)
        else:
            out = {"status": exc.status, "error": str(exc), "url": args.url}
            print(json.dumps(out, ensure_ascii=False, indent=1))
        return exc.exit_code
    if args.format == "text":
        print(article.text)
    else:
        encoding = decode_html(data, args.charset)[1]  # the charset the cleaner read it in
        out = {"status": STATUS_OK, "url": args.url, "encoding": encoding, **asdict(article)}
        print(json.dumps(out, ensure_ascii=False, indent=1))
    return 0
