"""Every user mistake of the CLI is one line naming the problem and its fix, never a traceback:
malformed or dead service URLs, no stack, a taken port, a missing output directory, an unknown
work pool. The commands run as the user runs them: `newsvault` subprocesses."""

from __future__ import annotations

import argparse
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.local.control import LocalStack
from tests.helpers import cli_env, free_port, newsvault, one_error_line, shell_env


def bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No stack, no S3 or Prefect settings: a new user's shell."""
    env = shell_env()
    env.update(NEWSVAULT_HOME=str(tmp_path / "home"), NEWSVAULT_SPOOL=str(tmp_path / "spool"))
    env.update(extra)
    return env


def error_of(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return one_error_line(proc)


@pytest.mark.parametrize("command", [["ls", "replica"], ["run", "replica"]])
def test_malformed_s3_endpoint(tmp_path: Path, command: list[str]) -> None:
    env = bare_env(tmp_path, NEWSVAULT_S3_ENDPOINT="notaurl")
    line = error_of(newsvault(*command, env=env, timeout=120))
    assert "NEWSVAULT_S3_ENDPOINT='notaurl' is not an http(s) URL" in line


def test_dead_prefect_url(tmp_path: Path) -> None:
    env = bare_env(tmp_path, PREFECT_API_URL=f"http://127.0.0.1:{free_port()}/api")
    line = error_of(newsvault("serve", "replica", env=env, timeout=120))
    assert "the Prefect server at PREFECT_API_URL=" in line and "does not answer" in line
    env["PREFECT_API_URL"] = "not a url"
    assert "is not an http(s) URL" in error_of(newsvault("serve", "replica", env=env))


def test_serve_without_prefect_says_start_the_stack(tmp_path: Path) -> None:
    line = error_of(newsvault("serve", "replica", env=bare_env(tmp_path), timeout=120))
    assert "needs a Prefect server" in line and "newsvault up" in line


def test_stack_down_blames_no_credentials(tmp_path: Path) -> None:
    """With nothing running and nothing set, the fix is to start the stack, not AWS."""
    for command in (["ls", "replica"], ["state", "rebuild", "replica"]):
        line = error_of(newsvault(*command, env=bare_env(tmp_path), timeout=120))
        assert "the local stack does not run" in line and "newsvault up" in line
        assert "AWS S3" not in line and "spool" not in line and "newsvault run" not in line


def test_export_into_a_missing_directory(tmp_path: Path) -> None:
    out = tmp_path / "nonexistent" / "dir" / "x.wacz"
    line = error_of(newsvault("export", "wacz", "replica", "-o", str(out), env=bare_env(tmp_path)))
    assert f"directory {out.parent} does not exist" in line
    assert not out.parent.exists()  # nothing created


def test_replay_serve_on_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = newsvault("replay", "serve", "replica", "--port", str(port), env=bare_env(tmp_path))
    assert f"port {port} on 127.0.0.1 is taken" in error_of(proc) and "--port" in error_of(proc)


def test_version(tmp_path: Path) -> None:
    proc = newsvault("--version", env=bare_env(tmp_path))
    assert proc.returncode == 0 and proc.stdout.startswith("newsvault ")


@pytest.mark.e2e
def test_serve_to_an_unknown_work_pool(stack: LocalStack, tmp_path: Path) -> None:
    env = cli_env(stack, tmp_path / "spool")
    line = error_of(newsvault("serve", "replica", "--pool", "nosuchpool", env=env, timeout=300))
    assert "work pool 'nosuchpool' does not exist" in line and "prefect work-pool create" in line


def test_help_says_what_every_option_does_and_its_default() -> None:
    from flows.cli.main import build_parser

    def walk(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
        yield parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    yield from walk(child)

    for parser in walk(build_parser()):
        text = parser.format_help()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            assert action.help, (parser.prog, action.dest)
            takes_value = action.option_strings and action.nargs != 0
            if takes_value and not action.required:  # a value with a default: say which
                formatter = parser._get_formatter()
                explained = formatter._get_help_string(action) or ""
                assert "default" in explained, (parser.prog, action.dest)
        assert "usage:" in text
