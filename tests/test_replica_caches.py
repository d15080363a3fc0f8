"""The replica's per-response caches change no byte: a replica that keeps every response
(``cache_size=None``, ``--cache-size all``, as the benchmarks run it) answers what one that keeps
none answers, before and after a day change, and the default keeps its usual sizes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infra.replica import THEME_UPDATE_DAY, ReplicaServer, Site
from infra.replica.__main__ import main as replica_main
from infra.replica.assets import MEDIUM, THUMB, sized
from infra.replica.caches import DEFAULT_SIZE, SHARED, Caches
from tests.helpers import fetch_url, replica_process

pytestmark = pytest.mark.e2e  # replicas over HTTP

ARTICLES = 30
HOST = {"Host": "127.0.0.1:8080"}  # the same base URL in both replicas' pages
GZIP = {**HOST, "Accept-Encoding": "gzip"}
THEME = "/wp-content/themes/Newspaper"
Answer = tuple[int, list[tuple[str, str]], bytes]


@pytest.fixture
def pair() -> Iterator[tuple[ReplicaServer, ReplicaServer]]:
    """A replica keeping every response and one keeping none."""
    with (
        ReplicaServer(ARTICLES, cache_size=None) as cached,
        ReplicaServer(ARTICLES, cache_size=0) as uncached,
    ):
        yield cached, uncached


def answer(url: str, headers: dict[str, str]) -> Answer:
    """Status, headers but ``Date`` (in order) and body."""
    reply = fetch_url(url, headers)
    kept = [(k, v) for k, v in reply.headers.items() if k.lower() != "date"]
    return reply.status, kept, reply.body


def sample(day: int) -> list[str]:
    """Paths of each kind of response: article, listings, images, stylesheet, font, script."""
    site = Site(ARTICLES, 1, day)
    article = next(e.path for e in site.events(THEME_UPDATE_DAY) if e.kind == "edit_text")
    image = site.article_at(3).featured_image
    return [
        article,
        "/",
        "/page/2/",
        image,
        sized(image, MEDIUM),
        sized(image, THUMB),
        f"{THEME}/style.css?ver=9.2.2",
        f"{THEME}/fonts/Lato-Regular.ttf",
        "/wp-includes/js/jquery/jquery.js",
        "/no-such-page/",
    ]


def assert_same(cached: ReplicaServer, uncached: ReplicaServer, day: int) -> dict[str, bytes]:
    """Every sample path, plain and gzip'd, twice from the cached replica (made, then served
    from its caches) and from the uncached one; then a 304 re-check by ``If-None-Match``."""
    bodies = {}
    for path in sample(day):
        for headers in (HOST, GZIP):
            want = answer(uncached.base_url + path, headers)
            for _ in range(2):
                assert answer(cached.base_url + path, headers) == want, (day, path, headers)
            etag = dict(want[1]).get("ETag")
            if etag:
                again = {**headers, "If-None-Match": etag}
                recheck = answer(cached.base_url + path, again)
                assert recheck == answer(uncached.base_url + path, again), (day, path)
                assert recheck[0] == 304
            bodies[path + headers.get("Accept-Encoding", "")] = want[2]
    image = sample(day)[3].removeprefix("/wp-content")
    cdn = f"/127.0.0.1:8080/wp-content{image}"
    assert cached.cdn_url and uncached.cdn_url
    assert answer(cached.cdn_url + cdn, HOST) == answer(uncached.cdn_url + cdn, HOST)
    return bodies


def test_a_full_cache_serves_the_same_bytes_before_and_after_a_day_change(
    pair: tuple[ReplicaServer, ReplicaServer],
) -> None:
    cached, uncached = pair
    before = assert_same(cached, uncached, 0)
    assert cached.router.render.cache_info().hits > 0
    assert cached.caches.image.cache_info().hits > 0  # type: ignore[attr-defined]
    assert uncached.caches.gzip.cache_info().currsize == 0  # type: ignore[attr-defined]
    for server in pair:
        server.set_day(THEME_UPDATE_DAY)
    after = assert_same(cached, uncached, THEME_UPDATE_DAY)
    changed = {path for path in before if before[path] != after.get(path)}
    article = sample(0)[0]
    assert {article, "/", f"{THEME}/style.css?ver=9.2.2", article + "gzip"} <= changed


def test_the_command_line_keeps_every_response(pair: tuple[ReplicaServer, ReplicaServer]) -> None:
    _, uncached = pair
    path = sample(0)[0]
    with replica_process("--articles", str(ARTICLES), "--cache-size", "all") as (port, line, _):
        assert line.startswith("replica: serving"), line
        for headers in (HOST, GZIP, HOST):
            got = answer(f"http://127.0.0.1:{port}{path}", headers)
            assert got == answer(uncached.base_url + path, headers)


def test_default_caches_keep_their_sizes_and_bad_sizes_are_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert Caches.sized() is not SHARED and Caches.sized().gzip is SHARED.gzip
    assert SHARED.size == DEFAULT_SIZE and SHARED.image.cache_info().maxsize == 512  # type: ignore[attr-defined]
    assert Caches.sized(None).digest.cache_info().maxsize is None  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="cache size"):
        Caches.sized(-1)
    with pytest.raises(SystemExit) as exit_:
        replica_main(["--cache-size", "lots"])
    assert exit_.value.code == 2
    assert "expected a number of entries or 'all', not 'lots'" in capsys.readouterr().err
