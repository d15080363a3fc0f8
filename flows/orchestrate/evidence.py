"""The evidence step of a run: sign its manifest once its objects are verified in S3, and ask
the TSA for the tokens this and earlier runs are owed. Never fails a run over the TSA.

The key comes from a Prefect Secret block named by ``NEWSVAULT_SIGNING_KEY_BLOCK``, else from
``NEWSVAULT_SIGNING_KEY`` / ``NEWSVAULT_SIGNING_KEY_FILE``. It is loaded inside the task (never a
task or flow parameter, so Prefect records nothing of it) and ``Signer`` has no readable repr.
"""

from __future__ import annotations

import os
from typing import Final, cast

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.errors import ConfigError
from flows.evidence import (
    Evidence,
    Signer,
    retry_pending,
    sign_run,
    signer_from_env,
    tsa_url_from_env,
)
from flows.store import Keys, Store, StoreConfig

KEY_BLOCK_ENV: Final = "NEWSVAULT_SIGNING_KEY_BLOCK"


def archive_signer() -> Signer | None:
    """The archive's signing key, or None (runs are then unsigned). Bad key: ``ConfigError``."""
    block = os.environ.get(KEY_BLOCK_ENV, "").strip()
    if not block:
        return signer_from_env()
    from prefect.blocks.system import Secret

    try:
        secret = cast("Secret[str]", Secret.load(block))  # sync in a flow or at the CLI
    except ValueError:
        raise ConfigError(f"${KEY_BLOCK_ENV}: no Prefect Secret block named {block!r}") from None
    value = secret.get()
    if not isinstance(value, str):
        raise ConfigError(f"Prefect Secret block {block!r} must hold the PEM key as a string")
    return Signer.from_pem(value.encode(), f"Prefect Secret block {block!r}")


def check_evidence_config() -> str:
    """Fail fast (before crawling) on a bad key or TSA URL; say what runs will get."""
    signer, tsa = archive_signer(), tsa_url_from_env()
    if signer is None:
        return "unsigned"
    return f"signed (key {signer.key_id[:16]})" + (f", timestamped by {tsa}" if tsa else "")


@task(name="sign", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def sign_task(config: StoreConfig, site: str, run_id: str) -> Evidence:
    """Sign the stored run; then retry the tokens earlier runs still wait for."""
    logger = get_run_logger()
    store, tsa = Store(config), tsa_url_from_env()
    evidence = sign_run(store, Keys(config.prefix, site, run_id), archive_signer(), tsa)
    logger.info("run %s: %s", run_id, evidence.describe())
    if evidence.status != "unsigned":
        for earlier in retry_pending(store, config.prefix, site, tsa):
            if earlier.run_id != run_id:
                logger.info("run %s: %s", earlier.run_id, earlier.describe())
    return evidence
