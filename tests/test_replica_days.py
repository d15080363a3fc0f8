"""Replica time: days 1..5 of a small site, ground truth against what the server serves."""

from __future__ import annotations

import re
import signal
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email.utils import formatdate

import lxml.html
import pytest

from infra.replica import EVENT_KINDS, SEED_PATH, SEED_POST_ID, ReplicaServer, Site
from infra.replica.live_ranks import LiveRanks
from infra.replica.routes import Router
from tests.helpers import fetch, replica_process, xpath_elements

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SIZE, SEED, DAYS = 30, 1, 5


def content_text(body: bytes) -> list[str]:
    doc = lxml.html.fromstring(body)
    (content,) = xpath_elements(doc, '//div[contains(@class, "td-post-content")]')
    return [
        s.strip().rstrip("\xa0") for s in content.itertext() if isinstance(s, str) and s.strip()
    ]


def assert_carries(body: bytes, paragraphs: tuple[str, ...]) -> None:
    text, start = content_text(body), 0
    for line in paragraphs:
        found = [i for i in range(start, len(text)) if text[i] == line]
        assert found, line
        start = found[0] + 1


def sitemap(port: int) -> dict[str, str]:
    doc = ET.fromstring(fetch(port, "/post-sitemap.xml").body)
    return {
        "/" + (u.findtext(f"{SM}loc") or "").split("/", 3)[3]: u.findtext(f"{SM}lastmod") or ""
        for u in doc.iter(f"{SM}url")
    }


@pytest.fixture(scope="module")
def site() -> Site:
    return Site(SIZE, SEED, DAYS)


# ----- the model -----


def test_every_event_kind_occurs_and_counts_are_per_day(site: Site) -> None:
    seen: set[str] = set()
    for day in range(1, DAYS + 1):
        events = site.events(day)
        kinds = [e.kind for e in events]
        seen.update(kinds)
        assert 2 <= kinds.count("new") <= 4
        assert kinds.count("republish_copy") == 1
        assert 3 <= sum(k.startswith("edit_") for k in kinds) <= 4
        assert kinds.count("boilerplate") == 2
        assert 1 <= sum(k.startswith("delete_") for k in kinds) <= 2
        assert len({e.post_id for e in events}) == len(events)  # one event per article per day
        assert SEED_POST_ID not in {e.post_id for e in events}
        assert all(
            e.day == day and e.when.date() > site.at_day(0).seed_article.published.date()
            for e in events
        )
    assert seen == set(EVENT_KINDS)
    assert site.events(0) == []


def test_determinism_across_sites_and_days() -> None:
    a, b = Site(SIZE, SEED, DAYS), Site(SIZE, SEED, DAYS)
    assert [a.events(d) for d in range(1, DAYS + 1)] == [b.events(d) for d in range(1, DAYS + 1)]
    assert list(a.iter_articles()) == list(b.iter_articles())
    assert Site(SIZE, SEED, 3).events(2) == a.events(2)  # a day does not depend on later days
    assert Site(SIZE, 2, DAYS).events(1) != a.events(1)
    ra, rb = Router(a), Router(b)
    for path in ["/", "/feed/", "/post-sitemap.xml", *(e.path for e in a.events(DAYS))]:
        assert ra.resolve(path, "http://h").body == rb.resolve(path, "http://h").body, path


def test_day_zero_is_unchanged() -> None:
    today, later = Router(Site(SIZE, SEED)), Router(Site(SIZE, SEED, DAYS).at_day(0))
    plain = Site(SIZE, SEED)
    paths = ["/", "/feed/", "/sitemap_index.xml", "/post-sitemap.xml", "/nope/", SEED_PATH]
    paths += [plain.path(k) for k in range(SIZE)]
    for path in paths:
        assert today.resolve(path, "http://h") == later.resolve(path, "http://h"), path
    assert all(a.version == 1 and a.day_published == 0 for a in plain.iter_articles())


def test_ground_truth_folds(site: Site) -> None:
    versions: dict[int, int] = {}
    deleted: set[int] = set()
    for day in range(1, DAYS + 1):
        now = site.at_day(day)
        for e in now.events(day):
            if e.kind in ("new", "republish_copy"):
                art = now.article(e.post_id)
                assert (art.version, art.day_published, art.path) == (1, day, e.path)
                versions[e.post_id] = 1
            elif e.kind.startswith("edit_"):
                before = site.at_day(day - 1).article(e.post_id)
                after = now.article(e.post_id)
                assert after.version == before.version + 1 == e.version
                assert after.modified == e.when > before.modified
                assert after.path == before.path
                if e.kind == "edit_title":
                    assert after.title != before.title and after.paragraphs == before.paragraphs
                elif e.kind == "edit_append":
                    assert after.paragraphs[:-1] == before.paragraphs
                    assert after.paragraphs[-1].startswith("UPDATE: ")
                else:
                    changed = [
                        i
                        for i, (x, y) in enumerate(
                            zip(before.paragraphs, after.paragraphs, strict=True)
                        )
                        if x != y
                    ]
                    assert len(changed) == 1 and changed[0] > 0
            elif e.kind == "boilerplate":
                assert now.article(e.post_id) == site.at_day(day - 1).article(e.post_id)
            else:
                deleted.add(e.post_id)
                with pytest.raises(KeyError):
                    now.article(e.post_id)
                assert now.by_path(e.path) is None
                assert now.deletion(e.post_id) == e.kind
                assert now.status(e.path) == (e.status, e.location)
                assert now.status(e.path + "amp/") == (e.status, e.location)
                assert now.status(f"/?p={e.post_id}&utm_source=x") == (e.status, e.location)
            if e.kind == "republish_copy":
                assert e.of_post_id is not None and e.of_path is not None
                copy, source = now.article(e.post_id), site.at_day(day - 1).article(e.of_post_id)
                assert copy.copy_of == source.post_id and copy.path != source.path
                assert copy.title == source.title
                if day % 2:
                    assert copy.paragraphs == source.paragraphs
                else:
                    assert copy.paragraphs[:-1] == source.paragraphs
                    assert copy.paragraphs[-1].startswith("This article was originally published")
    final = {a.post_id for a in site.iter_articles()}
    assert not final & deleted
    assert len(site) == site.count - len(deleted) == len(final)
    assert site.status(SEED_PATH) == (200, None)
    assert site.status(f"/?p={SEED_POST_ID}") == (301, SEED_PATH)
    with pytest.raises(ValueError):
        site.status("/category/world/")


def test_live_ranks_match_a_plain_list() -> None:
    gone = (0, 3, 4, 9, 15)
    ranks = LiveRanks(16, gone)
    plain = [k for k in range(15, -1, -1) if k not in gone]
    assert list(ranks) == plain == [ranks[i] for i in range(len(ranks))] == ranks[:]
    assert ranks[-1] == plain[-1] and ranks[2:5] == plain[2:5] and len(ranks) == len(plain)
    with pytest.raises(IndexError):
        ranks[len(plain)]


# ----- over HTTP -----


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    with ReplicaServer(articles=SIZE, seed=SEED, admin=True) as srv:
        yield srv


@pytest.mark.e2e
def test_days_over_http(server: ReplicaServer) -> None:
    port, base = server.port, server.base_url
    server.set_day(0)
    etags: dict[str, str] = {}
    modified: dict[str, str] = {}
    status: dict[str, int] = {}
    for k in range(server.site.count):
        path = server.site.path(k)
        reply = fetch(port, path)
        etags[path], modified[path], status[path] = (
            reply.header("ETag") or "",
            reply.header("Last-Modified") or "",
            reply.status,
        )
    lastmods = sitemap(port)
    for day in range(1, DAYS + 1):
        server.set_day(day)
        assert server.day == day and server.site.day == day
        site = server.site
        events = {e.path: e for e in site.events(day)}
        for path in list(etags):
            e = events.get(path)
            if status[path] != 200:  # deleted on an earlier day: stays deleted
                assert fetch(port, path).status == status[path]
                continue
            reply = fetch(port, path, {"If-None-Match": etags[path]})
            if e is None:
                assert reply.status == 304, (day, path)
                assert reply.header("ETag") == etags[path]
                continue
            if e.kind.startswith("delete_"):
                assert reply.status == e.status, (day, path, e.kind)
                if e.status == 301:
                    assert reply.header("Location") == base + "/"
                status[path] = e.status
                for variant in (path + "amp/", path + "?utm_source=x", f"/?p={e.post_id}"):
                    assert fetch(port, variant).status == e.status, variant
                continue
            assert reply.status == 200, (day, path, e.kind)
            assert reply.header("ETag") != etags[path]
            art = site.article(e.post_id)
            assert_carries(reply.body, art.byline_paragraphs + art.paragraphs)
            if e.kind == "boilerplate":  # same article, same Last-Modified, new teasers
                assert reply.header("Last-Modified") == modified[path]
                assert reply.status == 200
            else:
                assert reply.header("Last-Modified") == formatdate(
                    int(art.modified.timestamp()), usegmt=True
                )
                assert reply.header("Last-Modified") != modified[path]
                assert fetch(port, path, {"If-Modified-Since": modified[path]}).status == 200
            etags[path] = reply.header("ETag") or ""
            modified[path] = reply.header("Last-Modified") or ""
        for e in events.values():
            if e.kind not in ("new", "republish_copy"):
                continue
            reply = fetch(port, e.path)
            assert reply.status == 200
            art = site.article(e.post_id)
            assert_carries(reply.body, art.byline_paragraphs + art.paragraphs)
            assert f"<link rel='shortlink' href='{base}/?p={e.post_id}' />" in reply.body.decode()
            short = fetch(port, f"/?p={e.post_id}&utm_source=feed")
            assert short.status == 301 and short.header("Location") == base + e.path
            assert fetch(port, e.path + "amp/").status == 200
            etags[e.path], modified[e.path], status[e.path] = (
                reply.header("ETag") or "",
                reply.header("Last-Modified") or "",
                200,
            )
        # the sitemap: lastmod changes exactly for edited articles, new ones appear, deleted go
        now = sitemap(port)
        edited = {e.path for e in events.values() if e.kind.startswith("edit_")}
        added = {e.path for e in events.values() if e.kind in ("new", "republish_copy")}
        removed = {e.path for e in events.values() if e.kind.startswith("delete_")}
        assert set(now) == (set(lastmods) - removed) | added
        changed = {p for p in now if p in lastmods and now[p] != lastmods[p]}
        assert changed == edited
        lastmods = now
        # the feed: the newest live articles, with their current titles
        feed = ET.fromstring(fetch(port, "/feed/").body)
        links = [(i.findtext("link") or "").removeprefix(base) for i in feed.iter("item")]
        assert links == [a.path for a in list(site.iter_articles())[:10]]
        assert fetch(port, SEED_PATH).status == 200


@pytest.mark.e2e
def test_admin_endpoint(server: ReplicaServer) -> None:
    server.set_day(0)
    assert fetch(server.port, "/__replica__/day").body == b"0\n"
    reply = fetch(server.port, "/__replica__/day?d=2", method="POST")
    assert reply.status == 200 and reply.body == b"2\n" and server.day == 2
    assert fetch(server.port, "/__replica__/day?d=x", method="POST").status == 400
    gone = next(e for e in server.site.events(2) if e.kind == "delete_410")
    assert fetch(server.port, gone.path).status == 410
    with ReplicaServer(articles=SIZE, seed=SEED) as closed:
        assert fetch(closed.port, "/__replica__/day?d=2", method="POST").status == 404
        assert fetch(closed.port, "/__replica__/day").status == 404
        assert closed.day == 0


@pytest.mark.e2e
def test_module_entry_point_with_day_and_admin() -> None:
    with replica_process("--articles", "12", "--day", "1", "--admin") as (port, line, proc):
        assert line.startswith("replica: serving 12 articles")
        assert fetch(port, "/__replica__/day").body == b"1\n"
        assert fetch(port, "/__replica__/day?d=3", method="POST").body == b"3\n"
        site = Site(12, 1, 3)
        for e in site.events(3):
            expected = e.status if e.kind.startswith("delete_") else 200
            assert fetch(port, e.path).status == expected, e
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0


def test_hundred_thousand_articles_stay_lazy() -> None:
    site = Site(100_000, 7, 3)
    events = site.events(3)
    assert {e.kind for e in events} >= {"new", "republish_copy", "boilerplate"}
    newest = site.article(events[0].post_id)
    assert newest.day_published == 3 and site.by_path(newest.path) == newest
    assert site.count > 100_000
    router = Router(site)
    assert router.resolve(newest.path, "http://h").status == 200
    index = ET.fromstring(router.resolve("/sitemap_index.xml", "http://h").body)
    assert len([s for s in index.iter(f"{SM}sitemap")]) >= 100
    assert re.match(r"^/\d{4}/\d\d/", newest.path)
