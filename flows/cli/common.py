"""What every command group of the CLI shares: argument types and the local stack's defaults."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

# A command's handler: the parsed arguments in, the exit code out.
Handler = Callable[[argparse.Namespace], int]
if TYPE_CHECKING:
    Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value!r} must be greater than 0")
    return number


def use_local_stack_defaults() -> None:
    """Fill unset S3/Prefect variables from the local stack when `newsvault up` made one."""
    from infra.local import control as local

    for key, value in local.stack_environment(local.LocalStack.from_env()).items():
        os.environ.setdefault(key, value)
