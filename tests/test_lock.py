"""The run lock's lease is renewed while the run lives, and a lost lease stops the state commit
(real SeaweedFS: its conditional writes are what the lock relies on)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.state.lock import Owner, S3Lease, SiteLockedError, site_lock
from flows.store import SiteKeys, Store
from infra.local.control import LocalStack
from tests.test_e2e import get, s3, store, store_config

TTL = timedelta(seconds=1.2)  # renewed every 0.3 s


def test_lease_outlives_its_ttl_while_the_run_lives(stack: LocalStack, tmp_path: Path) -> None:
    s3store, config = store(stack), store_config(stack)
    site = f"lk{uuid.uuid4().hex[:6]}"
    key = SiteKeys(config.prefix, site).lock
    assert key == f"{config.prefix}sites/{site}/lock.json"  # beside state/, as ever
    with site_lock(s3store, tmp_path, site, ttl=TTL) as lease:
        first = Owner.from_bytes(get(stack, key))
        time.sleep(3 * TTL.total_seconds())  # unrenewed, it would have expired twice
        other = S3Lease(s3store, site, TTL)
        with pytest.raises(SiteLockedError, match="already being archived"):
            other.acquire()
        now = Owner.from_bytes(get(stack, key))
        assert first is not None and now is not None and now.token == first.token
        assert datetime.fromisoformat(now.expires) > datetime.now(UTC)
        lease.check()  # still ours
    assert lease.lost is None


def test_lost_lease_refuses_the_commit_and_leaves_the_new_holder(
    stack: LocalStack, tmp_path: Path
) -> None:
    client, config = s3(stack), store_config(stack)
    site = f"lk{uuid.uuid4().hex[:6]}"
    key = SiteKeys(config.prefix, site).lock
    intruder = Owner(
        "elsewhere", 1, "f" * 16, "2026-01-01T00:00:00+00:00", "2999-01-01T00:00:00+00:00"
    )
    with site_lock(Store(config, client), tmp_path, site, ttl=TTL) as lease:
        client.put_object(Bucket=config.bucket, Key=key, Body=intruder.to_bytes())
        deadline = time.monotonic() + 10
        while lease.lost is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lease.lost is not None and "pid 1 on elsewhere" in lease.lost
        with pytest.raises(SiteLockedError, match="no longer holds its lock"):
            lease.check()
    # leaving the lock did not delete the new holder's lock
    assert Owner.from_bytes(get(stack, key)) == intruder
    client.delete_object(Bucket=config.bucket, Key=key)


def test_renewal_survives_an_unreachable_store(caplog: pytest.LogCaptureFixture) -> None:
    """S3 down for a tick: the renewal is logged and retried at the next one, and the lease is
    not marked lost (it stays valid until its expiry). Pure logic over a fake client."""
    import threading

    from botocore.exceptions import EndpointConnectionError

    from flows.state.lock import _renew_until
    from flows.store.s3 import StoreConfig

    class FlakyS3:
        def __init__(self) -> None:
            self.puts = 0

        def put_object(self, **kw: object) -> dict[str, str]:
            self.puts += 1
            if self.puts == 1:
                raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
            return {"ETag": f'"{self.puts}"'}

    client = FlakyS3()
    down = Store(StoreConfig(endpoint="http://127.0.0.1:1"), client)  # type: ignore[arg-type]
    lease = S3Lease(down, "s", timedelta(seconds=0.4))
    lease.owner = Owner(
        "here", 1, "a" * 16, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00"
    )
    lease.etag = '"0"'
    stop = threading.Event()
    renewer = threading.Thread(target=_renew_until, args=(lease, stop))
    caplog.set_level("WARNING")
    renewer.start()
    deadline = time.monotonic() + 5
    while client.puts < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()
    renewer.join()
    assert "could not renew the lock of s" in caplog.text
    assert client.puts >= 2 and lease.lost is None and lease.etag == f'"{client.puts}"'
    assert lease.owner is not None and lease.owner.expires > "2026-01-01T00:00:01+00:00"  # renewed
