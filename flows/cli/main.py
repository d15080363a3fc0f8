"""``newsvault``: the command line. Thin: parse, call one function, print, exit.

One module per command group (``stack``, ``runs``, ``archive``, ``state``, ``clean``, ``site``,
``qa``), each registering its parsers with their handler. Every ``NewsvaultError`` becomes one
line on stderr and a non-zero exit code; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from flows.cli import archive, clean, evidence, qa, runs, site, stack, state
from flows.errors import NewsvaultError

GROUPS = (stack, runs, archive, state, clean, evidence, site, qa)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsvault", description="Scheduled scraping and archiving of news sites."
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {_version()}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    _show_defaults(parser)
    return parser


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: X)" to an option's help unless the help already says its default in
    words (a None default means "none", or something computed, described there)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is False or "default" in text:
            return text
        return super()._get_help_string(action) or text


def _show_defaults(parser: argparse.ArgumentParser) -> None:
    """Every command's --help says each option's default."""
    parser.formatter_class = _HelpWithDefaults
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _show_defaults(child)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newsvault")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except NewsvaultError as exc:
        print(f"newsvault: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("newsvault: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
