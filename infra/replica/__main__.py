"""``python -m infra.replica --port P --articles N --seed S [--day D] [--admin]``: serve until
SIGINT/SIGTERM. ``--admin`` turns on ``POST /__replica__/day?d=N`` (loopback only). The image CDN
listens on ``--cdn-host`` (127.0.0.2) at the same port unless ``--cdn-port``; ``--no-cdn`` has the
site serve its images itself. ``--cache-size N`` bounds every per-response cache (rendered pages,
gzip'd bodies, ETag digests, drawn images) at N entries; ``--cache-size all`` keeps every response
once made, as a remote site's page cache would (the benchmarks: its CPU is then not the crawler's;
memory grows with the site); without it the replica keeps its usual small caches."""

from __future__ import annotations

import argparse
import sys

from flows.errors import ConfigError, InfraError
from infra.replica.assets import Cdn
from infra.replica.caches import DEFAULT_SIZE
from infra.replica.server import serve_forever


def cache_size(value: str) -> int | None:
    """``--cache-size``: a number of entries, or ``all`` (unbounded: None)."""
    if value == "all":
        return None
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected a number of entries or 'all', not {value!r}")
    return int(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.replica", description="Serve the Fort Russ replica on 127.0.0.1."
    )
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765)")
    parser.add_argument("--articles", type=int, default=200, help="site size (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--day", type=int, default=0, help="site day (default 0)")
    parser.add_argument("--access-log", action="store_true", help="log requests to stderr")
    parser.add_argument(
        "--admin",
        action="store_true",
        help="allow POST /__replica__/day?d=N from loopback to change the day (off by default)",
    )
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help="inject faults, e.g. '503*2@/2017/,429*1:1@/feed/' (see infra/replica/faults.py)",
    )
    parser.add_argument(
        "--cdn-host", default="127.0.0.2", help="the image CDN's loopback address (127.0.0.2)"
    )
    parser.add_argument("--cdn-port", type=int, help="the image CDN's port (default: --port)")
    parser.add_argument("--no-cdn", action="store_true", help="serve images from the site only")
    parser.add_argument(
        "--cache-size",
        type=cache_size,
        default=DEFAULT_SIZE,
        metavar="N|all",
        help=f"entries each per-response cache keeps (pages, gzip'd bodies, digests, images); "
        f"'all' keeps every response, 0 none (default {DEFAULT_SIZE}, images 512, digests 1024)",
    )
    args = parser.parse_args(argv)
    cdn = None if args.no_cdn else Cdn(args.cdn_host, args.cdn_port)
    try:
        serve_forever(
            port=args.port,
            articles=args.articles,
            seed=args.seed,
            day=args.day,
            access_log=args.access_log,
            admin=args.admin,
            faults=args.faults,
            cdn=cdn,
            cache_size=args.cache_size,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (InfraError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
