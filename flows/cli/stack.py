"""``newsvault up | down | env | status | replica``: the local stack and the replica site."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flows.cli.common import positive

if TYPE_CHECKING:
    from flows.cli.common import Subparsers


def register(sub: Subparsers) -> None:
    sub.add_parser("up", help="start the local S3 (SeaweedFS) and Prefect server").set_defaults(
        handler=_up
    )
    sub.add_parser("down", help="stop the local servers started by `up`").set_defaults(
        handler=_down
    )
    sub.add_parser("env", help="print shell export lines for the local stack").set_defaults(
        handler=_env
    )
    sub.add_parser("status", help="show which local servers run").set_defaults(handler=_status)

    replica = sub.add_parser("replica", help="serve the replica of Fort Russ News on 127.0.0.1")
    replica.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1")
    replica.add_argument(
        "--articles", type=positive, default=200, help="articles the replica holds"
    )
    replica.add_argument("--seed", type=int, default=1, help="seed of the generated content")
    replica.add_argument(
        "--day", type=int, default=0, help="the replica's day (new, edited, deleted articles)"
    )
    replica.add_argument(
        "--admin", action="store_true", help="allow POST /__replica__/day?d=N (loopback only)"
    )
    replica.add_argument(
        "--detach", action="store_true", help="run in the background (stopped by `down`)"
    )
    replica.set_defaults(handler=_replica)


def _up(args: argparse.Namespace) -> int:
    from infra.local import control as local

    stack = local.LocalStack.from_env()
    print("\n".join(local.up(stack).lines()))
    print(f'use it from a shell: eval "$(newsvault env)"; Prefect UI: {stack.prefect_url}')
    return 0


def _down(args: argparse.Namespace) -> int:
    from infra.local import control as local

    print("\n".join(local.down(local.LocalStack.from_env()).lines()))
    return 0


def _env(args: argparse.Namespace) -> int:
    from infra.local import control as local

    print("\n".join(local.env_lines(local.LocalStack.from_env())))
    return 0


def _status(args: argparse.Namespace) -> int:
    from infra.local import control as local

    print("\n".join(local.status(local.LocalStack.from_env()).lines()))
    return 0


def _replica(args: argparse.Namespace) -> int:
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
