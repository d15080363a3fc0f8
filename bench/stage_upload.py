"""B5 upload: the product's upload_run against boto3's upload_file, on rotated WARC files."""

from __future__ import annotations

import os
import shutil
import statistics
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

from harness import Row
from stages import Sizes

from flows.store.runs import RunPaths

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

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
    import boto3
    import boto3.s3.transfer

    from flows.store.manifest import RunCounts, build_manifest, write_manifest
    from flows.store.runs import Keys
    from flows.store.s3 import Store, StoreConfig, client_config
    from flows.store.upload import upload_run

    saved = {k: os.environ.get(k) for k in s3_env}
    os.environ.update(s3_env)
    try:
        base = StoreConfig.from_env()
        client = Store(base).client  # the baseline's client: the same botocore settings
        # boto3's default for http endpoints: the payload hashed into the signature (this
        # project's client sends a signed x-amz-checksum-sha256 instead), as B5 measured before
        signed = boto3.client(
            "s3",
            endpoint_url=base.endpoint,
            region_name=base.region,
            config=client_config(base, s3={"addressing_style": "path"}),
        )
        source = workdir / "b5-source"
        files = synthetic_run(source, sizes.b5_bytes, max_size=64 * 1024 * 1024)
        total = sum(p.stat().st_size for p in files)

        def with_store(_round: int) -> float:
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
            upload_run(Store(config, client), run)
            seconds = time.perf_counter() - started
            shutil.rmtree(run.dir)
            return seconds

        def with_boto3(boto: S3Client, tag: str) -> Callable[[int], float]:
            def upload(round_: int) -> float:
                started = time.perf_counter()
                for path in files:
                    key = f"bench-b5-{tag}/{round_}/{path.name}"
                    boto.upload_file(
                        str(path), base.bucket, key, Config=boto3.s3.transfer.TransferConfig()
                    )
                return time.perf_counter() - started

            return upload

        variants = {
            "store": with_store,
            "boto3": with_boto3(client, "boto3"),
            "boto3-signed": with_boto3(signed, "boto3-signed"),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for round_ in range(sizes.b5_rounds):
            shift = round_ % len(names)  # each variant goes first in turn
            for name in names[shift:] + names[:shift]:
                times[name].append(variants[name](round_))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    median = {name: statistics.median(t) for name, t in times.items()}
    row = Row(
        "B5",
        "upload: store.upload_run vs boto3 upload_file",
        measured=f"{total / median['store'] / 1e6:.0f} MB/s",
        baseline=f"{total / median['boto3'] / 1e6:.0f} MB/s",
        ratio=median["boto3"] / median["store"],
        target=0.95,
    )
    row.notes.append(
        f"{len(files)} WARC files, {total / 1e6:.0f} MB (WarcSpool, rotated at 64 MiB) to "
        f"SeaweedFS on loopback; upload_run ({StoreConfig().upload_workers} objects at a time) "
        "sends each file once with its manifest SHA-256 as x-amz-checksum-sha256 (the server "
        "verifies it) and HEADs before and after; upload_file with default TransferConfig and "
        f"the same client; median of {sizes.b5_rounds} round(s), order rotating: "
        + "; ".join(f"{n} {', '.join(f'{s:.1f}s' for s in t)}" for n, t in times.items())
        + ". With boto3's default payload signing (hashes every body for the signature), "
        f"upload_file makes {total / median['boto3-signed'] / 1e6:.0f} MB/s: ratio "
        f"{median['boto3-signed'] / median['store']:.2f}"
    )
    return row
