"""The run lock's lease is renewed while the run lives, and a lost lease stops the state commit
(real SeaweedFS: its conditional writes are what the lock relies on). The lock module's clock is
pinned where expiries matter: the test moves it, so no assertion depends on how fast the renewal
thread or S3 answers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Self

import pytest

from flows.state import lock
from flows.state.lock import Owner, S3Lease, SiteLockedError, site_lock
from flows.store import SiteKeys, Store
from infra.local.control import LocalStack
from tests.helpers import get, s3, store, store_config, wait_for

TTL = timedelta(seconds=2)  # renewed every 0.5 s (of real time)
START = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


def pin_clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> Clock:
    """The lock module's ``datetime.now`` answers ``clock.now`` until the test moves it."""
    clock = Clock(now)

    class Pinned(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Self:
            return cls.fromtimestamp(clock.now.timestamp(), tz)

    monkeypatch.setattr(lock, "datetime", Pinned)
    return clock


def iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


@pytest.mark.e2e
def test_lease_outlives_its_ttl_while_the_run_lives(
    stack: LocalStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = pin_clock(monkeypatch, START)
    s3store, config = store(stack), store_config(stack)
    site = f"lk{uuid.uuid4().hex[:6]}"
    key = SiteKeys(config.prefix, site).lock
    assert key == f"{config.prefix}sites/{site}/lock.json"  # beside state/, as ever

    def stored() -> Owner:
        owner = Owner.from_bytes(get(stack, key))
        assert owner is not None
        return owner

    with site_lock(s3store, tmp_path, site, ttl=TTL) as lease:
        first = stored()
        assert first.expires == iso(START + TTL)
        clock.now = START + 3 * TTL  # unrenewed, the lease would have expired twice by now

        def renewed_after_the_move() -> Owner | None:
            owner = stored()
            return owner if owner.expires == iso(clock.now + TTL) else None

        renewed = wait_for("the renewal after the clock moved", renewed_after_the_move, 60, 0.05)
        assert renewed.token == first.token
        other = S3Lease(s3store, site, TTL)
        with pytest.raises(SiteLockedError, match="already being archived"):
            other.acquire()
        assert stored().token == first.token
        lease.check()  # still ours
    assert lease.lost is None


@pytest.mark.e2e
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
        lost = wait_for("the renewal to find the lock taken", lambda: lease.lost, 60, 0.05)
        assert "pid 1 on elsewhere" in lost
        with pytest.raises(SiteLockedError, match="no longer holds its lock"):
            lease.check()
    # leaving the lock did not delete the new holder's lock
    assert Owner.from_bytes(get(stack, key)) == intruder
    client.delete_object(Bucket=config.bucket, Key=key)


def test_renewal_survives_an_unreachable_store(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
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

    clock = pin_clock(monkeypatch, START + timedelta(seconds=10))
    client = FlakyS3()
    ttl = timedelta(seconds=0.4)
    down = Store(StoreConfig(endpoint="http://127.0.0.1:1"), client)  # type: ignore[arg-type]
    lease = S3Lease(down, "s", ttl)
    lease.owner = Owner(
        "here", 1, "a" * 16, "2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00"
    )
    lease.etag = '"0"'
    stop = threading.Event()
    renewer = threading.Thread(target=_renew_until, args=(lease, stop))
    caplog.set_level("WARNING")
    renewer.start()
    wait_for("a renewal after the failed one", lambda: client.puts >= 2, 60, 0.02)
    stop.set()
    renewer.join()
    assert "could not renew the lock of s" in caplog.text
    assert client.puts >= 2 and lease.lost is None and lease.etag == f'"{client.puts}"'
    assert lease.owner is not None and lease.owner.expires == iso(clock.now + ttl)  # renewed
