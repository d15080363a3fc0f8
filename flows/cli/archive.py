"""The archive-reading commands: ``newsvault ls``, ``index``, ``replay serve|reprocess`` and
``export wacz``.

Each reads the site's runs back from S3 through a verified local mirror (``flows.replay.mirror``);
problems with single runs or files are printed by name on stderr and skipped, unknown sites and
runs are ``ConfigError``s (one line, non-zero exit).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flows.cli.common import positive, require_prefect, use_local_stack_defaults
from flows.errors import ConfigError

if TYPE_CHECKING:  # the commands import what they use when they run: `--help` stays quick
    from flows.cli.common import Subparsers
    from flows.replay import Mirror
    from flows.store import Store, StoreConfig


def register(sub: Subparsers) -> None:
    ls = sub.add_parser("ls", help="list a site's archived runs and objects in S3")
    ls.add_argument("site", help="the site: the name of its profile (spiders/profiles/SITE.toml)")
    ls.add_argument("--run", default=None, help="only this run id (default: every run)")
    ls.add_argument("--last", action="store_true", help="only the most recent run")
    ls.set_defaults(handler=_ls)

    index = sub.add_parser("index", help="merge a site's run indexes into sites/SITE/index.cdxj")
    index.add_argument(
        "site", help="the site: the name of its profile (spiders/profiles/SITE.toml)"
    )
    index.set_defaults(handler=_index)

    replay = sub.add_parser("replay", help="browse a site's archive in pywb")
    replay_sub = replay.add_subparsers(dest="replay_command", required=True, metavar="ACTION")
    serve = replay_sub.add_parser("serve", help="mirror the site's archive and serve it in pywb")
    serve.add_argument(
        "site", help="the site: the name of its profile (spiders/profiles/SITE.toml)"
    )
    serve.add_argument("--port", type=int, default=8080, help="pywb port on 127.0.0.1")
    serve.set_defaults(handler=_replay_serve)
    reprocess = replay_sub.add_parser(
        "reprocess", help="re-derive article JSON from the archived WARCs (current cleaner)"
    )
    reprocess.add_argument(
        "site", help="the site: the name of its profile (spiders/profiles/SITE.toml)"
    )
    when = reprocess.add_mutually_exclusive_group()
    when.add_argument("--run", default=None, help="only this run id (default: every run)")
    when.add_argument(
        "--since", default=None, help="runs from this date on, YYYY-MM-DD (default: every run)"
    )
    reprocess.add_argument(
        "--workers", type=positive, default=None, help="processes (default: CPU count)"
    )
    reprocess.add_argument(
        "--dask", default=None, help="address of a Dask scheduler to use (default: local processes)"
    )
    reprocess.set_defaults(handler=_reprocess)

    export = sub.add_parser("export", help="export a site's archive")
    export_sub = export.add_subparsers(dest="export_command", required=True, metavar="FORMAT")
    wacz = export_sub.add_parser("wacz", help="write a WACZ 1.1.1 file")
    wacz.add_argument("site", help="the site: the name of its profile (spiders/profiles/SITE.toml)")
    wacz.add_argument("--run", default=None, help="only this run id (default: every run)")
    wacz.add_argument("-o", "--output", required=True, type=Path, help="the .wacz file to write")
    wacz.set_defaults(handler=_export_wacz)


def _index(args: argparse.Namespace) -> int:
    use_local_stack_defaults()
    return cmd_index(args.site)


def _replay_serve(args: argparse.Namespace) -> int:
    _check_port_free(args.port)  # before mirroring: pywb would only say it stopped by itself
    use_local_stack_defaults()
    return cmd_replay_serve(args.site, args.port)


def _export_wacz(args: argparse.Namespace) -> int:
    parent = args.output.parent
    if not parent.is_dir():  # never create directories the user did not ask for
        raise ConfigError(f"-o {args.output}: directory {parent} does not exist; create it first")
    use_local_stack_defaults()
    return cmd_export_wacz(args.site, args.run, args.output)


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME-WAIT is no owner
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigError(
                f"port {port} on 127.0.0.1 is taken ({exc.strerror}): choose another with --port"
            ) from exc


def _ls(args: argparse.Namespace) -> int:
    from flows.store import Store, StoreConfig, check_run_id, list_run_objects

    use_local_stack_defaults()
    config = StoreConfig.from_env()
    run_id = check_run_id(args.run) if args.run else None
    objects = list_run_objects(Store(config), args.site, run_id)
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


def _reprocess(args: argparse.Namespace) -> int:
    from flows.orchestrate import run_reprocess

    use_local_stack_defaults()
    require_prefect("replay reprocess", needed=False)
    summary = run_reprocess(
        args.site, run=args.run, since=args.since, workers=args.workers, dask=args.dask
    )
    print(json.dumps(summary, indent=1))
    return 0


def _report(problems: list[str]) -> None:
    for problem in problems:
        print(f"newsvault: skipped: {problem}", file=sys.stderr)


def build_site_index(store: Store, site: str) -> tuple[str, int]:
    """Merge every run's ``index.cdxj`` into ``sites/{site}/index.cdxj``; (key, lines). Its
    lines stay as recorded, 304 re-checks included: an index of the records (the merge of the
    run indexes ``verify`` checks line by line against them), not a replay index; pywb and
    wabac.js each need their own resolution of a 304 (``flows.replay.revisits``,
    ``flows.replay.waczindex``)."""
    from flows.errors import NewsvaultError
    from flows.store import SiteKeys, cache_root, fetch_verified, sha256_file, site_runs
    from flows.warc import merge_indexes

    runs = site_runs(store, site)
    problems = list(runs.problems)
    sources: list[Path] = []
    for run in runs.runs:
        entry = run.one("cdxj")
        if entry is None:
            problems.append(f"run {run.run_id}: no index.cdxj in its manifest")
            continue
        try:
            sources.append(fetch_verified(store, entry, cache_root() / site / run.run_id / "cdxj"))
        except NewsvaultError as exc:
            problems.append(f"run {run.run_id}: {exc}")
    _report(problems)
    key = SiteKeys(store.config.prefix, site).index
    with tempfile.TemporaryDirectory(prefix="nv-index-") as tmp:
        merged = Path(tmp) / "index.cdxj"
        lines = merge_indexes(sources, merged)
        store.put_file(key, merged, size=merged.stat().st_size, sha256=sha256_file(merged))
    return key, lines


def _mirror(
    site: str, run_id: str | None, *, articles: bool, until: str | None = None
) -> tuple[Mirror, StoreConfig]:
    from flows.replay import mirror_site
    from flows.store import Store, StoreConfig, check_run_id

    config = StoreConfig.from_env()
    mirror = mirror_site(
        Store(config),
        site,
        run_id=check_run_id(run_id) if run_id else None,
        articles=articles,
        until=until,
    )
    _report(mirror.problems)
    return mirror, config


def cmd_index(site: str) -> int:
    from flows.store import Store, StoreConfig

    config = StoreConfig.from_env()
    key, lines = build_site_index(Store(config), site)
    print(f"s3://{config.bucket}/{key}: {lines} lines")
    return 0


def cmd_replay_serve(site: str, port: int) -> int:
    from flows.replay import serve_forever, write_config

    mirror, _config = _mirror(site, None, articles=False)
    print(
        f"mirrored {len(mirror.runs)} runs, {len(mirror.warcs)} WARC files into {mirror.dir}",
        file=sys.stderr,
    )
    write_config(mirror.dir, site, mirror.archive_dir, mirror.index_dir)
    return serve_forever(mirror.dir, site, port, f"http://127.0.0.1:{port}/{site}/*/*")


def cmd_export_wacz(site: str, run_id: str | None, out: Path) -> int:
    from flows.evidence import (
        SigningServerError,
        WaczSigner,
        domain_signer_from_env,
        signer_from_env,
    )
    from flows.replay import export_wacz

    # a bad key or signing URL fails before anything is downloaded; a signing server the user
    # configured gives the package a domain identity, in place of the archive's own key
    domain = domain_signer_from_env()
    key = None if domain else signer_from_env()
    signer: WaczSigner | None = domain or key
    if run_id:  # one run, and the earlier runs its revisits and requisites may need
        from flows.store import Store, StoreConfig, check_run_id, site_runs

        site_runs(Store(StoreConfig.from_env()), site, only=check_run_id(run_id))
    mirror, _config = _mirror(site, None, articles=True, until=run_id)
    title = f"{site} web archive" + (f", run {run_id}" if run_id else "")
    try:
        exported = export_wacz(mirror, out, title=title, signer=signer, run_id=run_id)
    except SigningServerError:  # refused at the end: no package, and no partial one left
        out.with_name(out.name + ".tmp").unlink(missing_ok=True)
        raise
    packed = exported.packed
    _report(
        [
            f"revisit of {what} left out: its original is not in the archive"
            for what in packed.dropped
        ]
    )
    signed = f"signed with key {key.key_id[:16]}" if key else "unsigned"
    if domain is not None:
        signed = f"signed by the signing server {domain.url}"
    print(
        f"{exported.path}: {exported.warcs} WARC files, {exported.pages} pages, "
        f"{packed.copied} original records copied in, {packed.rechecks} 304 re-checks "
        f"restated, {exported.bytes} bytes, {signed}"
    )
    return 0
