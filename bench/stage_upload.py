"""B5 upload: the product's upload_run against boto3's upload_file, on rotated WARC files."""

from __future__ import annotations

import os
import shutil
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

from harness import Row
from stages import Sizes

from flows.store.runs import RunPaths

# ----- B5 upload --------------------------------------------------------------------------------


def synthetic_run(root: Path, total_bytes: int, max_size: int) -> list[Path]:
    """Rotated WARC files written by the product's WarcSpool from replica article pages (gzip
    bodies, as a crawl records them), until ``total_bytes``; returns the closed files."""
    import gzip

    from infra.replica import article_page, content, theme
    from spiders.warcspool import Exchange, WarcSpool

    site = content.Site(articles=200, seed=3)
    th = theme.Theme(site, "http://127.0.0.1:8765")
    bodies = [
        gzip.compress(article_page.article_page(th, k), compresslevel=6, mtime=0)
        for k in range(200)
    ]
    spool = WarcSpool(root, "replica-synthetic", {"software": "bench"}, max_size=max_size)
    written, n = 0, 0
    while written < total_bytes:
        body = bodies[n % len(bodies)]
        ex = Exchange(
            url=f"http://127.0.0.1:8765/2020/01/synthetic-{n}/",
            method=b"GET",
            request_target=f"/2020/01/synthetic-{n}/".encode(),
            request_headers=((b"Host", b"127.0.0.1:8765"), (b"Accept-Encoding", b"gzip")),
            request_body=b"",
            status=200,
            response_headers=(
                (b"Content-Type", b"text/html; charset=UTF-8"),
                (b"Content-Encoding", b"gzip"),
                (b"Content-Length", str(len(body)).encode()),
            ),
            response_body=body,
            fetched_at=datetime.now(UTC),
        )
        resp, req = spool.write_exchange(ex)
        written += resp.length + req.length
        n += 1
    return spool.close()


def b5_upload(sizes: Sizes, workdir: Path, s3_env: dict[str, str]) -> Row:
    import boto3.s3.transfer

    from flows.store.manifest import RunCounts, build_manifest, write_manifest
    from flows.store.runs import Keys
    from flows.store.s3 import StoreConfig, make_client
    from flows.store.upload import upload_run

    saved = {k: os.environ.get(k) for k in s3_env}
    os.environ.update(s3_env)
    try:
        base = StoreConfig.from_env()
        client = make_client(base)
        source = workdir / "b5-source"
        files = synthetic_run(source, sizes.b5_bytes, max_size=64 * 1024 * 1024)
        total = sum(p.stat().st_size for p in files)

        def with_store() -> float:
            config = replace(base, prefix="bench-b5-store/")
            run = RunPaths.create(workdir / "b5-spool", "replica")
            for path in files:
                os.link(path, run.warc_dir / path.name)
            keys = Keys(config.prefix, run.site, run.run_id)
            manifest = build_manifest(
                run,
                keys,
                base_url="http://127.0.0.1:8765",
                started_at=datetime.now(UTC),
                counts=cast("RunCounts", {}),  # the bench times uploads, not counts
                crawl={},
                cleaner_version="bench",
            )
            write_manifest(run, manifest)
            started = time.perf_counter()
            upload_run(client, config, run)
            seconds = time.perf_counter() - started
            shutil.rmtree(run.dir)
            return seconds

        def with_boto3(round_: int) -> float:
            started = time.perf_counter()
            for path in files:
                key = f"bench-b5-boto3/{round_}/{path.name}"
                client.upload_file(
                    str(path), base.bucket, key, Config=boto3.s3.transfer.TransferConfig()
                )
            return time.perf_counter() - started

        ours: list[float] = []
        theirs: list[float] = []
        for round_ in range(sizes.b5_rounds):
            if round_ % 2 == 0:
                ours.append(with_store())
                theirs.append(with_boto3(round_))
            else:
                theirs.append(with_boto3(round_))
                ours.append(with_store())
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    t_ours, t_theirs = statistics.median(ours), statistics.median(theirs)
    row = Row(
        "B5",
        "upload: store.upload_run vs boto3 upload_file",
        measured=f"{total / t_ours / 1e6:.0f} MB/s",
        baseline=f"{total / t_theirs / 1e6:.0f} MB/s",
        ratio=t_theirs / t_ours,
        target=0.9,
    )
    row.notes.append(
        f"{len(files)} WARC files, {total / 1e6:.0f} MB (WarcSpool, rotated at 64 MiB) to "
        f"SeaweedFS on loopback; upload_run ({StoreConfig().upload_workers} objects at a time) "
        "includes its sha256 check, HEAD before and after; "
        f"upload_file with default TransferConfig; median of {sizes.b5_rounds} round(s), "
        f"alternating: store {', '.join(f'{s:.1f}s' for s in ours)}; "
        f"boto3 {', '.join(f'{s:.1f}s' for s in theirs)}"
    )
    return row
