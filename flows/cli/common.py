"""What every command group of the CLI shares: argument types and the local stack's defaults."""

from __future__ import annotations

import argparse
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import urlsplit

from flows.errors import ConfigError

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
    """Fill unset S3/Prefect variables from the local stack when `newsvault up` made one, then
    check the ones set by hand: a malformed URL is one line, not a traceback from deep inside."""
    from infra.local import control as local

    for key, value in local.stack_environment(local.LocalStack.from_env()).items():
        os.environ.setdefault(key, value)
    for name in ("NEWSVAULT_S3_ENDPOINT", "PREFECT_API_URL"):
        given = os.environ.get(name)
        if given and not _is_http_url(given):
            raise ConfigError(
                f"{name}={given!r} is not an http(s) URL such as http://127.0.0.1:8333; fix or "
                "unset it (with the local stack running, `newsvault up`, it is not needed)"
            )


def require_prefect(command: str, *, needed: bool) -> None:
    """Fail in one line when ``PREFECT_API_URL`` names a server that does not answer, or when
    ``needed`` (a command that schedules) and none is set: Prefect would otherwise start a
    throwaway server whose scheduled runs never happen, or print a long traceback."""
    url = os.environ.get("PREFECT_API_URL", "")
    if not url:
        if needed:
            raise ConfigError(
                f"`newsvault {command}` needs a Prefect server: start the local stack with "
                "`newsvault up`, or set PREFECT_API_URL to yours"
            )
        return
    if not _is_http_url(url):
        raise ConfigError(f"PREFECT_API_URL={url!r} is not an http(s) URL; fix or unset it")
    try:  # an http(s) URL, checked above
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=5) as response:  # noqa: S310
            if response.status == 200:
                return
            problem = f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        problem = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        problem = str(getattr(exc, "reason", exc))
    raise ConfigError(
        f"the Prefect server at PREFECT_API_URL={url} does not answer ({problem}): start the "
        "local stack with `newsvault up`, or fix or unset PREFECT_API_URL"
    )


def _is_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False
