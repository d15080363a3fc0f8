"""The archive-reading commands: ``newsvault index``, ``replay serve`` and ``export wacz``.

Each reads the site's runs back from S3 through a verified local mirror (``flows.replay.mirror``);
problems with single runs or files are printed by name on stderr and skipped, unknown sites and
runs are ``ConfigError``s (one line, non-zero exit).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from flows.errors import NewsvaultError
from flows.replay import Mirror, mirror_site
from flows.store import (
    SiteKeys,
    Store,
    StoreConfig,
    cache_root,
    check_run_id,
    fetch_verified,
    sha256_file,
    site_runs,
)
from flows.warc import merge_indexes


def _report(problems: list[str]) -> None:
    for problem in problems:
        print(f"newsvault: skipped: {problem}", file=sys.stderr)


def build_site_index(store: Store, site: str) -> tuple[str, int]:
    """Merge every run's ``index.cdxj`` into ``sites/{site}/index.cdxj``; (key, lines)."""
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


def _mirror(site: str, run_id: str | None, *, articles: bool) -> tuple[Mirror, StoreConfig]:
    config = StoreConfig.from_env()
    mirror = mirror_site(
        Store(config),
        site,
        run_id=check_run_id(run_id) if run_id else None,
        articles=articles,
    )
    _report(mirror.problems)
    return mirror, config


def cmd_index(site: str) -> int:
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
    from flows.replay import export_wacz

    mirror, _config = _mirror(site, run_id, articles=True)
    title = f"{site} web archive" + (f", run {run_id}" if run_id else "")
    exported = export_wacz(mirror, out, title=title)
    print(
        f"{exported.path}: {exported.warcs} WARC files, {exported.pages} pages, "
        f"{exported.bytes} bytes"
    )
    return 0
