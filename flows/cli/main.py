"""``newsvault``: the command line. Thin: parse, call one function, print, exit.

Every ``NewsvaultError`` becomes one line on stderr and a non-zero exit code; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from flows.errors import ConfigError, NewsvaultError


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be greater than 0")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsvault", description="Scheduled scraping and archiving of news sites."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("up", help="start the local S3 (SeaweedFS) and Prefect server")
    sub.add_parser("down", help="stop the local servers started by `up`")
    sub.add_parser("env", help="print shell export lines for the local stack")
    sub.add_parser("status", help="show which local servers run")

    replica = sub.add_parser("replica", help="serve the replica of Fort Russ News on 127.0.0.1")
    replica.add_argument("--port", type=int, default=8765)
    replica.add_argument("--articles", type=_positive, default=200)
    replica.add_argument("--seed", type=int, default=1)
    replica.add_argument("--day", type=int, default=0)
    replica.add_argument(
        "--admin", action="store_true", help="allow POST /__replica__/day?d=N (loopback only)"
    )
    replica.add_argument(
        "--detach", action="store_true", help="run in the background (stopped by `down`)"
    )

    run = sub.add_parser("run", help="archive a site once (the archive-site flow)")
    run.add_argument("site", help="site profile name, e.g. replica or fortruss")
    run.add_argument("--max-pages", type=_positive, default=None, help="stop after N articles")
    run.add_argument("--base-url", default=None, help="point the profile at another address")
    run.add_argument("--spool", default=None, help="local spool directory")
    run.add_argument(
        "--full", action="store_true", help="fetch every article in full (no lastmod, no 304s)"
    )

    serve_sites = sub.add_parser(
        "serve", help="serve one scheduled deployment per site (the cron of its profile)"
    )
    serve_sites.add_argument("sites", nargs="*", metavar="SITE", help="default: every profile")
    serve_sites.add_argument("--cron", default=None, help="override every profile's cron")
    serve_sites.add_argument("--max-pages", type=_positive, default=None)
    serve_sites.add_argument(
        "--pool", default=None, help="register the deployments with this work pool and exit"
    )

    state = sub.add_parser("state", help="a site's state (what the archive holds)")
    state_sub = state.add_subparsers(dest="state_command", required=True, metavar="ACTION")
    rebuild = state_sub.add_parser(
        "rebuild", help="rebuild the state from the archive alone and compare with the saved one"
    )
    rebuild.add_argument("site")
    rebuild.add_argument("--save", action="store_true", help="replace the saved state with it")

    ls = sub.add_parser("ls", help="list a site's archived runs and objects in S3")
    ls.add_argument("site")
    ls.add_argument("--run", default=None, help="only this run id")
    ls.add_argument("--last", action="store_true", help="only the most recent run")

    index = sub.add_parser("index", help="merge a site's run indexes into sites/SITE/index.cdxj")
    index.add_argument("site")

    replay = sub.add_parser("replay", help="browse a site's archive in pywb")
    replay_sub = replay.add_subparsers(dest="replay_command", required=True, metavar="ACTION")
    serve = replay_sub.add_parser("serve", help="mirror the site's archive and serve it in pywb")
    serve.add_argument("site")
    serve.add_argument("--port", type=int, default=8080, help="pywb port on 127.0.0.1")
    reprocess = replay_sub.add_parser(
        "reprocess", help="re-derive article JSON from the archived WARCs (current cleaner)"
    )
    reprocess.add_argument("site")
    when = reprocess.add_mutually_exclusive_group()
    when.add_argument("--run", default=None, help="only this run id")
    when.add_argument("--since", default=None, help="runs from this date on (YYYY-MM-DD)")
    reprocess.add_argument(
        "--workers", type=_positive, default=None, help="processes (default: CPU count)"
    )
    reprocess.add_argument("--dask", default=None, help="address of a Dask scheduler to use")

    export = sub.add_parser("export", help="export a site's archive")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="FORMAT")
    wacz = export_sub.add_parser("wacz", help="write a WACZ 1.1.1 file")
    wacz.add_argument("site")
    wacz.add_argument("--run", default=None, help="only this run id")
    wacz.add_argument("-o", "--output", required=True, type=Path, help="the .wacz file to write")

    clean = sub.add_parser(
        "clean",
        help="clean one saved HTML page into article JSON or text",
        epilog="JSON output always has a status: ok, empty, not_html or no_article. Exit code: "
        "0 article found, 1 no article (status and reason in the output), 2 unreadable file or "
        "bad arguments.",
    )
    clean.add_argument("file", help="HTML file, or - for stdin")
    clean.add_argument("--url", default="http://localhost/")
    clean.add_argument("--site", default=None, help="use this site profile's extraction rules")
    clean.add_argument("--format", choices=("json", "text"), default="json")
    clean.add_argument(
        "--charset",
        default=None,
        help="the charset of the HTTP Content-Type header the page came with (as the pipeline "
        "passes it: it overrules a wrong <meta charset> the same way)",
    )
    return parser


def _cmd_up() -> int:
    from infra.local import control as local

    stack = local.LocalStack.from_env()
    print("\n".join(local.up(stack).lines()))
    print(f'use it from a shell: eval "$(newsvault env)"; Prefect UI: {stack.prefect_url}')
    return 0


def _cmd_down() -> int:
    from infra.local import control as local

    print("\n".join(local.down(local.LocalStack.from_env()).lines()))
    return 0


def _cmd_env() -> int:
    from infra.local import control as local

    print("\n".join(local.env_lines(local.LocalStack.from_env())))
    return 0


def _cmd_status() -> int:
    from infra.local import control as local

    print("\n".join(local.status(local.LocalStack.from_env()).lines()))
    return 0


def _cmd_replica(args: argparse.Namespace) -> int:
    if args.detach:
        from infra.local import control as local

        stack = local.LocalStack.from_env()
        state = local.start_replica(
            stack,
            port=args.port,
            articles=args.articles,
            seed=args.seed,
            day=args.day,
            admin=args.admin,
        )
        print(state.describe())
        return 0
    from infra.replica import serve_forever

    serve_forever(
        port=args.port, articles=args.articles, seed=args.seed, day=args.day, admin=args.admin
    )
    return 0


def use_local_stack_defaults() -> None:
    """Fill unset S3/Prefect variables from the local stack when `newsvault up` made one."""
    from infra.local import control as local

    for key, value in local.stack_environment(local.LocalStack.from_env()).items():
        os.environ.setdefault(key, value)


def _cmd_run(args: argparse.Namespace) -> int:
    from flows.sites import load_profile
    from flows.store import StoreConfig, check_store

    load_profile(args.site, args.base_url)  # unknown site: fail before starting anything
    use_local_stack_defaults()
    check_store(StoreConfig.from_env())  # unreachable or refusing S3: fail before crawling
    from flows.orchestrate import archive_site

    summary = archive_site(
        site=args.site,
        max_pages=args.max_pages,
        base_url=args.base_url,
        spool_root=args.spool,
        full=args.full,
    )
    print(json.dumps(summary, indent=1))
    return 0


def _cmd_ls(args: argparse.Namespace) -> int:
    from flows.store import StoreConfig, check_run_id, list_run_objects, make_client

    use_local_stack_defaults()
    config = StoreConfig.from_env()
    run_id = check_run_id(args.run) if args.run else None
    objects = list_run_objects(make_client(config), config, args.site, run_id)
    if args.last and objects:
        last_run = max(key.split("/runs/", 1)[1].split("/", 1)[0] for key, _ in objects)
        objects = [(k, n) for k, n in objects if f"/runs/{last_run}/" in k]
    if not objects:
        print(f"no archived objects for {args.site} in {config.where}")
        return 1
    print(f"{config.where}:")
    for key, size in objects:
        print(f"{size:>12,}  {key}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from flows.orchestrate import deploy_sites, serve_sites, site_deployment
    from flows.sites import available_profiles

    sites = args.sites or sorted(available_profiles())
    for site in sites:  # unknown site or bad cron: one line before anything starts
        site_deployment(site, args.cron, args.max_pages)
    use_local_stack_defaults()
    if args.pool:
        for site, deployment_id in zip(
            sites, deploy_sites(sites, args.pool, args.cron, args.max_pages), strict=True
        ):
            print(f"deployed archive-site/{site} ({deployment_id}) to work pool {args.pool}")
        return 0
    serve_sites(sites, args.cron, args.max_pages)
    return 0


def _cmd_reprocess(args: argparse.Namespace) -> int:
    from flows.orchestrate import run_reprocess

    use_local_stack_defaults()
    summary = run_reprocess(
        args.site, run=args.run, since=args.since, workers=args.workers, dask=args.dask
    )
    print(json.dumps(summary, indent=1))
    return 0


def _cmd_archive(args: argparse.Namespace) -> int:
    from flows.cli import archive as archivecli

    if args.command == "replay" and args.replay_command == "reprocess":
        return _cmd_reprocess(args)
    use_local_stack_defaults()
    if args.command == "index":
        return archivecli.cmd_index(args.site)
    if args.command == "replay":
        return archivecli.cmd_replay_serve(args.site, args.port)
    return archivecli.cmd_export_wacz(args.site, args.run, args.output)


def _cmd_state(args: argparse.Namespace) -> int:
    import tempfile

    from flows.sites import load_profile
    from flows.state import load_state, rebuild, save_state
    from flows.store import StoreConfig, check_store, make_client

    load_profile(args.site)
    use_local_stack_defaults()
    config = StoreConfig.from_env()
    check_store(config)
    client = make_client(config)
    with tempfile.TemporaryDirectory(prefix="newsvault-state-") as tmp:
        rebuilt = rebuild(client, config, args.site, Path(tmp) / "rebuilt")
        if not rebuilt.state.runs:
            raise ConfigError(f"no archived runs of site {args.site!r} in {config.where}")
        saved = load_state(client, config, args.site, Path(tmp) / "saved")
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
            save_state(client, config, rebuilt, force=True)
            print("saved the rebuilt state")
            return 0
    return 0 if same else 1


def _cmd_clean(args: argparse.Namespace) -> int:
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        match args.command:
            case "up":
                return _cmd_up()
            case "down":
                return _cmd_down()
            case "env":
                return _cmd_env()
            case "status":
                return _cmd_status()
            case "replica":
                return _cmd_replica(args)
            case "run":
                return _cmd_run(args)
            case "serve":
                return _cmd_serve(args)
            case "ls":
                return _cmd_ls(args)
            case "state":
                return _cmd_state(args)
            case "clean":
                return _cmd_clean(args)
            case "index" | "replay" | "export":
                return _cmd_archive(args)
    except NewsvaultError as exc:
        print(f"newsvault: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("newsvault: interrupted", file=sys.stderr)
        return 130
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
