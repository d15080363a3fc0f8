"""``newsvault state rebuild``: a site's state rebuilt from the archive alone, and compared."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flows.cli.common import use_local_stack_defaults
from flows.errors import ConfigError

if TYPE_CHECKING:
    from flows.cli.common import Subparsers


def register(sub: Subparsers) -> None:
    state = sub.add_parser("state", help="a site's state (what the archive holds)")
    state_sub = state.add_subparsers(dest="state_command", required=True, metavar="ACTION")
    rebuild = state_sub.add_parser(
        "rebuild", help="rebuild the state from the archive alone and compare with the saved one"
    )
    rebuild.add_argument(
        "site", help="the site: the name of its profile (spiders/profiles/SITE.toml)"
    )
    rebuild.add_argument("--save", action="store_true", help="replace the saved state with it")
    rebuild.set_defaults(handler=_rebuild)


def _rebuild(args: argparse.Namespace) -> int:
    from flows.sites import load_profile
    from flows.state import load_state, rebuild, save_state
    from flows.store import Store, StoreConfig, check_store

    load_profile(args.site)
    use_local_stack_defaults()
    config = StoreConfig.from_env()
    check_store(config)
    store = Store(config)
    with tempfile.TemporaryDirectory(prefix="newsvault-state-") as tmp:
        rebuilt = rebuild(store, args.site, Path(tmp) / "rebuilt")
        if not rebuilt.state.runs:
            raise ConfigError(f"no archived runs of site {args.site!r} in {config.where}")
        saved = load_state(store, args.site, Path(tmp) / "saved")
        same = saved.source == "saved" and saved.state.to_bytes() == rebuilt.state.to_bytes()
        print(
            f"rebuilt state of {args.site}: {len(rebuilt.state.articles)} articles from "
            f"{len(rebuilt.state.runs)} runs, sha256 {rebuilt.state.digest()[:16]}"
        )
        if saved.source == "saved":
            verdict = "equals" if same else "DIFFERS FROM"
            print(f"it {verdict} the saved state (sha256 {saved.state.digest()[:16]})")
        else:
            print(f"the saved state was {saved.problem or 'missing'}")
        if args.save:
            save_state(store, rebuilt, force=True)
            print("saved the rebuilt state")
            return 0
    return 0 if same else 1
