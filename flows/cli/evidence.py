"""``newsvault verify | keygen | history | cite``: audit a site's archive from the bucket alone,
make a signing key, an article's history, a citation of one of its versions."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from flows.cli.common import use_local_stack_defaults
from flows.errors import ConfigError

if TYPE_CHECKING:
    from flows.cli.common import Subparsers


def register(sub: Subparsers) -> None:
    verify = sub.add_parser(
        "verify",
        help="check a site's archive: sizes and SHA-256, signatures, timestamps, WARC digests, "
        "revisits, CDXJ, state",
    )
    verify.add_argument("site", help="the site profile name, e.g. replica")
    only = verify.add_mutually_exclusive_group()
    only.add_argument(
        "--run", default=None, metavar="RUN_ID", help="only this run (default: every run)"
    )
    only.add_argument(
        "--wacz",
        type=Path,
        default=None,
        metavar="FILE",
        help="a WACZ exported from this archive (default: none)",
    )
    verify.add_argument(
        "--tsa-ca",
        type=Path,
        default=None,
        metavar="PEM",
        help="the TSA roots to trust (default: $NEWSVAULT_TSA_CA, else the local stack's TSA)",
    )
    verify.add_argument(
        "--wacz-ca",
        type=Path,
        default=None,
        metavar="PEM",
        help="the domain certificate roots to trust for a WACZ signed with a domain identity "
        "(default: $NEWSVAULT_WACZ_CA)",
    )
    verify.add_argument("--quiet", action="store_true", help="print problems and the summary")
    verify.set_defaults(handler=_verify)

    replay_help = (
        "the pywb collection the links point at (`newsvault replay serve`; "
        "default: http://127.0.0.1:8080/SITE)"
    )
    history = sub.add_parser("history", help="every version, alias and deletion of an article")
    history.add_argument("site", help="the site profile name, e.g. replica")
    history.add_argument(
        "article", metavar="URL|POST_ID", help="the article's URL (any alias) or WordPress post id"
    )
    history.add_argument(
        "--format", choices=("text", "json"), default="text", help="text, or JSON for scripts"
    )
    history.add_argument("--replay-base", default=None, metavar="URL", help=replay_help)
    history.set_defaults(handler=_history)

    cite = sub.add_parser("cite", help="cite the version of an article current at a date")
    cite.add_argument("site", help="the site profile name, e.g. replica")
    cite.add_argument(
        "article", metavar="URL|POST_ID", help="the article's URL (any alias) or WordPress post id"
    )
    cite.add_argument(
        "--at",
        default=None,
        metavar="DATE",
        help="an ISO 8601 date or time, UTC unless it names a zone; a date is its 00:00 "
        "(default: latest)",
    )
    cite.add_argument(
        "--format",
        choices=("text", "csl-json", "bibtex"),
        default="text",
        help="a citation as text, CSL-JSON or BibTeX",
    )
    cite.add_argument("--replay-base", default=None, metavar="URL", help=replay_help)
    cite.set_defaults(handler=_cite)

    keygen = sub.add_parser(
        "keygen", help="write a new ECDSA P-384 signing key (for NEWSVAULT_SIGNING_KEY_FILE)"
    )
    keygen.add_argument(
        "path", type=Path, help="the PEM file to write (mode 0600; never overwritten)"
    )
    keygen.set_defaults(handler=_keygen)


def _verify(args: argparse.Namespace) -> int:
    from flows.evidence import (
        Verification,
        domain_roots_from_env,
        load_domain_roots,
        load_roots,
        published_key_ids,
        roots_from_env,
        verify_site,
        verify_wacz,
    )
    from flows.store import Store, StoreConfig, check_store

    use_local_stack_defaults()
    roots = load_roots(args.tsa_ca) if args.tsa_ca else roots_from_env()
    config = StoreConfig.from_env()
    check_store(config)
    if args.wacz is not None:
        if not args.wacz.is_file():
            raise ConfigError(f"{args.wacz}: no such file")
        result = Verification(args.site)
        domain_roots = load_domain_roots(args.wacz_ca) if args.wacz_ca else domain_roots_from_env()
        result.findings = verify_wacz(
            args.wacz,
            published_key_ids(Store(config)),
            domain_roots=domain_roots,
            tsa_roots=roots,
        )
    else:
        with tempfile.TemporaryDirectory(prefix="newsvault-verify-") as tmp:
            result = verify_site(Store(config), args.site, Path(tmp), run_id=args.run, roots=roots)
    for finding in result.findings:
        if not (args.quiet and finding.ok):
            print(finding.line())
    print(result.summary())
    return 0 if not result.failures else 1


def _entries(args: argparse.Namespace) -> list[dict[str, object]]:
    from flows.evidence import article_history
    from flows.store import Store, StoreConfig, check_store

    use_local_stack_defaults()
    config = StoreConfig.from_env()
    check_store(config)
    base = args.replay_base or f"http://127.0.0.1:8080/{args.site}"
    return article_history(Store(config), args.site, args.article, base)


def _history(args: argparse.Namespace) -> int:
    from flows.evidence import history_lines

    entries = _entries(args)
    if args.format == "json":
        print(json.dumps(entries, indent=1, ensure_ascii=False))
    else:
        print("\n".join(history_lines(entries)))
    return 0


def _cite(args: argparse.Namespace) -> int:
    from flows.evidence import citation, cite_bibtex, cite_csl, cite_text

    chosen = citation(_entries(args), args.site, args.at)
    if args.format == "csl-json":
        print(json.dumps([cite_csl(chosen)], indent=1, ensure_ascii=False))
    elif args.format == "bibtex":
        print(cite_bibtex(chosen))
    else:
        print(cite_text(chosen))
    return 0


def _keygen(args: argparse.Namespace) -> int:
    from flows.evidence import Signer

    path: Path = args.path
    if path.exists():
        raise ConfigError(f"{path} exists; a signing key is never overwritten")
    signer = Signer.generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(signer.private_pem())
    print(f"wrote a new signing key to {path} (key id {signer.key_id})")
    print(f"use it with: export NEWSVAULT_SIGNING_KEY_FILE={path.resolve()}")
    return 0
