"""``newsvault site``: the site profiles (``reference``: every key, rendered from the schema)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flows.cli.common import Subparsers


def register(sub: Subparsers) -> None:
    site = sub.add_parser("site", help="site profiles: the reference of their keys")
    site_sub = site.add_subparsers(dest="site_command", required=True, metavar="ACTION")
    ref = site_sub.add_parser(
        "reference", help="print every profile key with its type, default and meaning (Markdown)"
    )
    ref.set_defaults(handler=_reference)


def _reference(args: argparse.Namespace) -> int:
    from flows.sites import reference

    print(reference(), end="")
    return 0
