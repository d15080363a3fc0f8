"""Reliability: the replica misbehaves on purpose (infra.replica.faults) during a real
`newsvault run`; every fault is retried, honoured or refused, recorded where it produced a
response, listed in the run report with its reason, and the run completes. The same run is then
searched for the S3 secret (spool, crawl.log, Prefect logs and artifacts, archived objects)."""

from __future__ import annotations

import gzip
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from warcio.archiveiterator import ArchiveIterator

from flows.errors import ConfigError
from infra.local import control as local
from infra.local.control import LocalStack
from infra.replica.content import Site
from infra.replica.faults import FaultBehaviour, parse_rule
from infra.replica.server import ReplicaServer
from spiders.safety import AddressGuard, retry_after_seconds
from tests.helpers import cli_env, newsvault, objects, run_report, s3, store_config

PREFIX = "faults"
ARTICLES = 24
# fault -> (rule, expected outcome: "ok" = archived after retries, else a reason in the report)
FAULTS: dict[str, tuple[str, str]] = {
    "burst": ("503*2", "ok"),
    "429": ("429*1:1", "ok"),
    "reset": ("reset*1", "ok"),
    "slow": ("slow:1", "ok"),
    "truncate": ("truncate*1", "ok"),
    "wrong-charset": ("wrong-charset", "ok"),
    "no-charset": ("no-charset", "ok"),
    "500": ("500", "HTTP 500 after 2 retries"),
    "429-long": ("429:3600", "HTTP 429 with Retry-After 3600s (too long to wait)"),
    "timeout": ("timeout:4", "timeout after 2 retries"),
    "redirect-loop": ("redirect-loop", "max redirections reached"),
    "oversized": ("oversized:6000000", "download cancelled: larger than DOWNLOAD_MAXSIZE"),
    "gzip-bomb": ("gzip-bomb:40000000", "refused: decompressed body larger than DOWNLOAD_MAXSIZE"),
    "offsite": ("offsite", "refused: offsite host 'offsite.example'"),
    "private": ("private", "refused: offsite host '169.254.169.254'"),
    "loopback-port": ("private:http://127.0.0.1:9/", "refused: 127.0.0.1:9 is a private"),
}
SETTINGS = {"DOWNLOAD_TIMEOUT": 2, "DOWNLOAD_MAXSIZE": 4_000_000, "RETRY_TIMES": 2}


@pytest.fixture(scope="module")
def faulty(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    site = Site(articles=ARTICLES, seed=3)
    paths = [a.path for a in site.iter_articles()]
    assigned = dict(zip(FAULTS, paths, strict=False))
    spec = ",".join(f"{FAULTS[name][0]}@^{path}" for name, path in assigned.items())
    behaviour = FaultBehaviour.parse(spec)
    home = tmp_path_factory.mktemp("faults")
    with ReplicaServer(site=site, behaviour=behaviour) as server:
        base = server.base_url
        env = cli_env(
            stack,
            home / "spool",
            NEWSVAULT_S3_PREFIX=PREFIX,
            NEWSVAULT_SCRAPY_SETTINGS=json.dumps(SETTINGS),
        )
        proc = newsvault("run", "replica", "--base-url", server.base_url, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    found = objects(stack, f"{PREFIX}/sites/replica/runs/")
    (run_id,) = {k.split("/")[4] for k in found}
    return {
        "base": base,
        "assigned": assigned,
        "behaviour": behaviour,
        "proc": proc,
        "run_id": run_id,
        "objects": found,
        "client": s3(stack),
        "bucket": store_config(stack).bucket,
        "home": home,
        "site": site,
    }


def _get(faulty: dict[str, Any], key: str) -> bytes:
    return bytes(faulty["client"].get_object(Bucket=faulty["bucket"], Key=key)["Body"].read())


def _warc_records(faulty: dict[str, Any]) -> list[tuple[str, str, int]]:
    out = []
    for key in sorted(k for k in faulty["objects"] if k.endswith(".warc.gz")):
        for rec in ArchiveIterator(io.BytesIO(_get(faulty, key))):
            has_status = rec.rec_type in ("response", "revisit") and rec.http_headers
            status = rec.http_headers.get_statuscode() if has_status else 0
            out.append((rec.rec_type, rec.rec_headers["WARC-Target-URI"] or "", int(status or 0)))
    return out


@pytest.mark.e2e
def test_every_fault_was_served(faulty: dict[str, Any]) -> None:
    served = Counter(fault for fault, _target in faulty["behaviour"].log)
    for rule, _ in FAULTS.values():
        assert served[parse_rule(rule + "@x").fault] >= 1, rule
    assert served["503"] == 2 and served["reset"] >= 1 and served["truncate"] == 1


@pytest.mark.e2e
def test_faults_recorded_retried_and_reported(faulty: dict[str, Any], stack: LocalStack) -> None:
    base, assigned, run_id = faulty["base"], faulty["assigned"], faulty["run_id"]
    records = _warc_records(faulty)
    # (an attempt whose payload equals an earlier one is a revisit record: it counts too)
    responses = Counter(
        (uri, status) for kind, uri, status in records if kind in ("response", "revisit")
    )
    url = {name: base + path for name, path in assigned.items()}
    # retried to success: the failed attempts that produced a response are in the WARC too
    assert responses[(url["burst"], 503)] == 2 and responses[(url["burst"], 200)] == 1
    assert responses[(url["429"], 429)] == 1 and responses[(url["429"], 200)] == 1
    for name in ("reset", "slow", "truncate", "wrong-charset", "no-charset"):
        assert responses[(url[name], 200)] == 1, name
    # given up: every attempt recorded, once per attempt (RETRY_TIMES=2 -> 3)
    assert responses[(url["500"], 500)] == 3
    assert responses[(url["429-long"], 429)] == 1  # not waited for an hour, not hammered
    assert responses[(url["gzip-bomb"], 200)] == 1  # kept as received (compressed)
    assert not any(uri == url["oversized"] or uri == url["timeout"] for uri in dict(responses))
    for name in ("offsite", "private", "loopback-port"):
        assert responses[(url[name], 302)] == 1
    offsite = [u for u, _ in responses if "offsite.example" in u or "169.254" in u or ":9/" in u]
    assert offsite == [], offsite  # never fetched
    # request and response records pair up
    requests = Counter(uri for kind, uri, _ in records if kind == "request")
    assert sum(requests.values()) == sum(responses.values())

    report = run_report(stack, run_id)
    for name, (_rule, outcome) in FAULTS.items():
        if outcome != "ok":
            line = next((ln for ln in report.splitlines() if url[name] in ln), "")
            assert outcome in line, (name, line, report[-2500:])
    assert "| 500 | " + url["500"] in report  # the WARC statuses reach the report too
    # the articles that came through after retries are archived and cleaned
    lines = gzip.decompress(_get(faulty, f"{PREFIX}/sites/replica/runs/{run_id}/articles.jsonl.gz"))
    articles = [json.loads(line) for line in lines.splitlines()]
    urls = {a["url"] for a in articles}
    for name, (_rule, outcome) in FAULTS.items():
        if outcome == "ok":
            assert url[name] in urls, name
    assert len({a["id"] for a in articles}) == len(articles)


@pytest.mark.e2e
def test_counts_fetched_equals_archived(faulty: dict[str, Any]) -> None:
    run_id = faulty["run_id"]
    stats = json.loads(_get(faulty, f"{PREFIX}/sites/replica/runs/{run_id}/crawl-stats.json"))
    records = _warc_records(faulty)
    non_info = [r for r in records if r[0] != "warcinfo"]
    assert stats["newsvault/warc_records"] == len(non_info)
    manifest = json.loads(_get(faulty, f"{PREFIX}/sites/replica/runs/{run_id}/manifest.json"))
    assert manifest["counts"]["records"]["response"] + manifest["counts"]["records"][
        "revisit"
    ] == len([r for r in records if r[0] in ("response", "revisit")])


@pytest.mark.e2e
def test_no_secret_anywhere(faulty: dict[str, Any], stack: LocalStack) -> None:
    """The S3 secret never reaches the spool, crawl.log, Prefect's logs or artifacts, WARCs."""
    key, secret = local.credentials(stack)
    assert len(secret) >= 16
    proc = faulty["proc"]
    assert secret not in proc.stdout + proc.stderr
    for path in Path(faulty["home"]).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in data, path
            if path.suffix == ".gz":
                try:
                    assert secret.encode() not in gzip.decompress(data), path
                except (OSError, EOFError):
                    pass
    for obj in faulty["objects"]:
        data = _get(faulty, obj)
        plain = gzip.decompress(data) if obj.endswith(".gz") else data
        assert secret.encode() not in plain and key.encode() not in plain, obj
    api = stack.prefect_api_url
    logs = httpx.post(f"{api}/logs/filter", json={"limit": 200}).json()
    assert logs and all(secret not in entry["message"] for entry in logs)
    artifacts = httpx.post(f"{api}/artifacts/filter", json={"limit": 200}).json()
    assert artifacts and all(secret not in json.dumps(a) for a in artifacts)


# ---- units: the fault spec, Retry-After, the SSRF guard --------------------------------------


def test_fault_spec_errors_are_one_line() -> None:
    for bad in ("nosuch@/x", "503", "429:soon@/x", "503@day=x", "503@(["):
        with pytest.raises(ConfigError) as info:
            FaultBehaviour.parse(bad)
        assert "\n" not in str(info.value)
    rule = parse_rule("503*2@day=3")
    assert rule.matches("/anything", 3) and not rule.matches("/anything", 2)


def test_retry_after_values() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


def test_fortruss_refuses_offsite_and_private_addresses() -> None:
    from flows.sites import load_profile

    profile = load_profile("fortruss")
    dns = {
        "www.fort-russ.com": ["93.184.216.34"],
        "fort-russ.com": ["93.184.216.34"],
        "intranet.fort-russ.com": ["10.0.0.5"],
        "v6.fort-russ.com": ["::1"],
        "mapped.fort-russ.com": ["::ffff:127.0.0.1"],
        "meta.fort-russ.com": ["169.254.169.254"],
    }
    guard = AddressGuard(profile.base_url, list(profile.allowed_domains), lambda h: dns.get(h, []))
    assert guard.refusal("https://www.fort-russ.com/2017/07/x/") is None
    assert guard.refusal("https://fort-russ.com/feed/") is None
    for url in (
        "https://evil.example/",
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8333/newsvault/",
        "http://localhost/",
        "https://intranet.fort-russ.com/",
        "https://v6.fort-russ.com/",
        "https://mapped.fort-russ.com/",
        "https://meta.fort-russ.com/",
        "file:///etc/passwd",
    ):
        assert guard.refusal(url), url
    # the replica (loopback base URL) may fetch its own host and port, nothing else local
    replica = AddressGuard("http://127.0.0.1:8765", ["127.0.0.1"])
    assert replica.refusal("http://127.0.0.1:8765/feed/") is None
    assert replica.refusal("http://127.0.0.1:8333/") and replica.refusal("http://127.0.0.1:4200/")


def test_limits_are_set() -> None:
    from spiders import settings

    assert settings.DOWNLOAD_MAXSIZE <= 64 * 1024 * 1024
    assert settings.DOWNLOAD_TIMEOUT <= 120 and settings.REDIRECT_MAX_TIMES <= 20
    assert 429 in settings.RETRY_HTTP_CODES and settings.DOWNLOAD_FAIL_ON_DATALOSS
    assert "spiders.safety.AddressGuardMiddleware" in settings.DOWNLOADER_MIDDLEWARES
    assert "spiders.safety.RetryAfterMiddleware" in settings.DOWNLOADER_MIDDLEWARES
