"""A run against a site that gives no response (a dead port, a host that does not resolve) fails
with "site unreachable" after publishing its report, and archives nothing: no empty run for every
later replay and export to warn about, no run left in the spool for the next run to recover.

Real components: `newsvault run` subprocesses against the session's SeaweedFS and Prefect server.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.local.control import LocalStack
from tests.helpers import cli_env, free_port, newsvault, objects, one_error_line

pytestmark = pytest.mark.e2e
PREFIX = "unreachabletest"


@pytest.mark.parametrize(
    "base_url",
    [f"http://127.0.0.1:{free_port()}", "http://newsvault-no-such-host.invalid"],
    ids=["dead-port", "unresolvable-host"],
)
def test_unreachable_site_fails_and_archives_nothing(
    stack: LocalStack, tmp_path: Path, base_url: str
) -> None:
    spool = tmp_path / "spool"
    env = cli_env(stack, spool, NEWSVAULT_S3_PREFIX=PREFIX)
    proc = newsvault("run", "replica", "--base-url", base_url, env=env)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = one_error_line(proc)
    assert "Traceback" not in proc.stderr  # Prefect's log of the failure too: our line only
    assert f"site unreachable: no response from {base_url}" in line, line
    assert "nothing archived" in line
    assert objects(stack, f"{PREFIX}/sites/replica/") == {}
    runs = [p.name for p in (spool / "replica").iterdir() if not p.name.startswith(".")]
    assert runs == []  # no run left in the spool: the next run has nothing to recover
    listing = newsvault("ls", "replica", env=env)
    assert "no archived objects for replica" in listing.stdout
    assert "Traceback" not in listing.stderr
