"""Evidence: each run's manifest signed with the archive's key and timestamped by an RFC 3161
authority, and ``verify``, which re-checks a site's archive from the bucket alone.

Between ``state`` and ``replay | derive``: it reads the store and the state (the fold ``verify``
compares), and ``replay`` may use its signer for WACZ packages; nothing below imports it."""

from flows.evidence.domain import (
    DomainSigner,
    SigningServerError,
    domain_roots_from_env,
    domain_signer_from_env,
    load_domain_roots,
)
from flows.evidence.history import (
    article_history,
    citation,
    cite_bibtex,
    cite_csl,
    cite_text,
    history_lines,
)
from flows.evidence.seal import (
    Evidence,
    SignatureDoc,
    publish_public_key,
    published_key_ids,
    retry_pending,
    sign_run,
)
from flows.evidence.signing import Signer, key_id, signer_from_env
from flows.evidence.timestamp import (
    TimestampUnavailable,
    check_token,
    load_roots,
    request_token,
    roots_from_env,
    tsa_url_from_env,
)
from flows.evidence.verify import Finding, Verification, verify_site
from flows.evidence.wacz import WaczSigner, verify_wacz, wacz_signed_data

__all__ = [
    "DomainSigner",
    "Evidence",
    "Finding",
    "SignatureDoc",
    "Signer",
    "SigningServerError",
    "TimestampUnavailable",
    "Verification",
    "WaczSigner",
    "article_history",
    "check_token",
    "citation",
    "cite_bibtex",
    "cite_csl",
    "cite_text",
    "domain_roots_from_env",
    "domain_signer_from_env",
    "history_lines",
    "key_id",
    "load_domain_roots",
    "load_roots",
    "publish_public_key",
    "published_key_ids",
    "request_token",
    "retry_pending",
    "roots_from_env",
    "sign_run",
    "signer_from_env",
    "tsa_url_from_env",
    "verify_site",
    "verify_wacz",
    "wacz_signed_data",
]
