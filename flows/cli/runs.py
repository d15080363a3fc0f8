"""``newsvault run | serve``: archive a site once, or serve its schedule."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from flows.cli.common import positive, require_prefect, use_local_stack_defaults

if TYPE_CHECKING:
    from flows.cli.common import Subparsers


def register(sub: Subparsers) -> None:
    run = sub.add_parser("run", help="archive a site once (the archive-site flow)")
    run.add_argument("site", help="site profile name, e.g. replica or fortruss")
    run.add_argument(
        "--max-pages", type=positive, default=None, help="stop after N articles (default: no limit)"
    )
    run.add_argument(
        "--base-url",
        default=None,
        help="point the profile at another address (default: its base_url)",
    )
    run.add_argument(
        "--spool",
        default=None,
        help="local spool directory (default: $NEWSVAULT_SPOOL, else $NEWSVAULT_HOME/spool)",
    )
    run.add_argument(
        "--full", action="store_true", help="fetch every article in full (no lastmod, no 304s)"
    )
    run.set_defaults(handler=_run)

    serve_sites = sub.add_parser(
        "serve", help="serve one scheduled deployment per site (the cron of its profile)"
    )
    serve_sites.add_argument("sites", nargs="*", metavar="SITE", help="default: every profile")
    serve_sites.add_argument(
        "--cron",
        default=None,
        help="override every profile's cron (default: each profile's [schedule] cron)",
    )
    serve_sites.add_argument(
        "--max-pages", type=positive, default=None, help="article pages per run (default: all)"
    )
    serve_sites.add_argument(
        "--pool",
        default=None,
        help="register the deployments with this work pool and exit (default: serve them here)",
    )
    serve_sites.set_defaults(handler=_serve)


def _run(args: argparse.Namespace) -> int:
    from flows.sites import load_profile
    from flows.store import StoreConfig, check_store

    load_profile(args.site, args.base_url)  # unknown site: fail before starting anything
    use_local_stack_defaults()
    require_prefect("run", needed=False)  # unset: a throwaway server is fine for one run
    check_store(StoreConfig.from_env())  # unreachable or refusing S3: fail before crawling
    from flows.cli.stackrun import a_run_of_the_stack
    from flows.orchestrate import archive_site, one_line_errors_on_console
    from flows.store import default_spool_root

    one_line_errors_on_console()
    spool = Path(args.spool) if args.spool else default_spool_root()
    with a_run_of_the_stack(spool, args.site):
        summary = archive_site(
            site=args.site,
            max_pages=args.max_pages,
            base_url=args.base_url,
            spool_root=args.spool,
            full=args.full,
        )
    print(json.dumps(summary, indent=1))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from flows.orchestrate import (
        deploy_sites,
        one_line_errors_on_console,
        serve_sites,
        site_deployment,
    )
    from flows.sites import available_profiles

    sites = args.sites or sorted(available_profiles())
    for site in sites:  # unknown site or bad cron: one line before anything starts
        site_deployment(site, args.cron, args.max_pages)
    use_local_stack_defaults()
    require_prefect("serve", needed=True)
    if args.pool:
        for site, deployment_id in zip(
            sites, deploy_sites(sites, args.pool, args.cron, args.max_pages), strict=True
        ):
            print(f"deployed archive-site/{site} ({deployment_id}) to work pool {args.pool}")
        return 0
    from flows.cli.served import served_archive_site
    from infra.local import control as local

    one_line_errors_on_console()
    # registered too: `down` stops it once its runs have stopped, before the servers it polls
    with local.run_registered(local.LocalStack.from_env(), kind="serve"):
        serve_sites(sites, args.cron, args.max_pages, served=served_archive_site)
    return 0
