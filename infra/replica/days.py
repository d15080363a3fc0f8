"""Replica time: what happens to the site on each day after day 0, and the state it leaves.

Day 0 is the site as generated (``content.Site`` with ``day=0``): nothing here runs for it. Each
day ``D >= 1`` is drawn from ``(seed, articles, D)`` and the state after day ``D - 1`` (which
articles exist and are still live), so the state for day ``D`` is the fold of days ``1..D``. A day
costs a few dozen hash and ``random`` calls whatever the site's size, and never renders a page.

Articles are addressed by chronological position ``k`` as in ``content``: the day-0 archive holds
positions ``0..articles-1``; posts published later take ``articles, articles+1, ...`` in order.

The day model (per day ``D``; timestamps fall on ``2019-12-20 + D days``, after every day-0 date):

- ``new``: 2-4 fresh articles (06:00, 08:00, ... UTC);
- ``republish_copy``: 1 copy of an older live article under a new post id and slug (the source's
  slug + ``-2``), published after the fresh ones: the same text on odd days, the same text plus one
  added line on even days (a near duplicate);
- edits, 3-4: ``edit_append`` (an ``UPDATE:`` paragraph) and ``edit_text`` (one paragraph
  rewritten) on recent articles (the newest 40 positions), ``edit_title`` (a corrected headline,
  same slug) on any article, and on about half the days another ``edit_text`` on any article;
  each bumps the article's ``version`` and its ``modified`` time;
- ``boilerplate``: 2 articles whose page is re-rendered with the day's sidebar, related posts and
  footer (new teasers) while the article itself is unchanged: new bytes, same version, same
  ``modified`` (so the same ``Last-Modified`` and sitemap ``lastmod``);
- deletions, 1-2: ``delete_404``, ``delete_410`` and ``delete_redirect`` (301 to the home page,
  a soft 404) in turn (day 1: 404, day 2: 410, day 3: redirect, ...), on about a quarter of the
  days a second one of a random kind;
- ``theme_update`` (site-wide, not an article ``Event``): on day ``THEME_UPDATE_DAY`` (2) the
  theme's stylesheet changes (``style.css``: a new accent colour and rules) and its ``?ver=`` goes
  from 9.2.2 to 9.2.3 (``assets.style_version``). The file's URL serves the new bytes whatever the
  ``ver`` asked for (a query string does not pick a file); pages rendered from that day on link
  the new ``ver``, cached article pages (below) keep linking the old one until re-rendered.

No article gets two events on one day, posts of the day itself get none, the seed article gets
none, and a copy is never the source of another copy.

Pages follow a *page cache* rule: an article page is rendered as of its *render day*, the last day
its post was published, edited or given a ``boilerplate`` event. Sidebar, related posts, next and
previous links and footer show the site as it was on that day; so a page that no event touched
keeps its bytes (and ETag) from one day to the next, and answers ``304``.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass

EVENT_KINDS: tuple[str, ...] = (
    "new",
    "edit_text",
    "edit_title",
    "edit_append",
    "boilerplate",
    "delete_404",
    "delete_410",
    "delete_redirect",
    "republish_copy",
)
EDIT_KINDS: tuple[str, ...] = ("edit_text", "edit_title", "edit_append")
DELETE_KINDS: tuple[str, ...] = ("delete_404", "delete_410", "delete_redirect")
DELETE_STATUS: dict[str, int] = {"delete_404": 404, "delete_410": 410, "delete_redirect": 301}
DAY_SECONDS = 86_400
THEME_UPDATE_DAY = 2  # the theme's stylesheet changes (see the module docstring)
RECENT = 40  # "recent" articles: the newest RECENT positions


@dataclass(frozen=True, slots=True)
class NewPost:
    """A post published after day 0 (position ``articles + n`` for the n-th one)."""

    day: int
    ts: int  # published, Unix seconds
    copy_of: int | None  # position of the source article for a republished copy
    near: bool  # the copy has a line added


@dataclass(frozen=True, slots=True)
class Edit:
    day: int
    kind: str  # one of EDIT_KINDS
    ts: int  # the article's new modified time
    r: int  # the edit's random parameter (which paragraph, which word, what text)


@dataclass(frozen=True, slots=True)
class Deletion:
    day: int
    kind: str  # one of DELETE_KINDS
    ts: int

    @property
    def status(self) -> int:
        return DELETE_STATUS[self.kind]


@dataclass(frozen=True, slots=True)
class Change:
    """One event by position (``content.Site.events`` turns it into an ``Event``)."""

    day: int
    kind: str
    k: int
    ts: int
    source: int | None = None  # republish_copy: the source position


@dataclass(frozen=True, slots=True)
class View:
    """The fold of days 1..day: what a ``Site`` at ``day`` needs, copied out of the timeline."""

    day: int
    count: int  # positions published so far (deleted ones included)
    edits: dict[int, tuple[Edit, ...]]
    deleted: dict[int, Deletion]
    gone: tuple[int, ...]  # deleted positions, ascending
    render_day: dict[int, int]  # positions re-rendered after they were published
    last_change_ts: int | None  # latest edit, publication or deletion


def _day_rng(seed: int, size: int, day: int) -> random.Random:
    digest = hashlib.blake2b(f"{seed}:{size}:{day}:day".encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


class Timeline:
    """Days 1..N of one ``(articles, seed)`` site, computed on demand and shared by its Sites."""

    def __init__(self, size: int, seed: int, seed_k: int, day0_end_ts: int) -> None:
        self.size, self.seed, self.seed_k = size, seed, seed_k
        self.day0_end_ts = day0_end_ts
        self.lock = threading.RLock()
        self.new_posts: list[NewPost] = []
        self.counts: list[int] = [size]  # positions after day d
        self.changes: list[list[Change]] = [[]]
        self.edits: dict[int, list[Edit]] = {}
        self.deleted: dict[int, Deletion] = {}
        self.touched: dict[int, list[int]] = {}  # k -> days its page was re-rendered

    def is_copy(self, k: int) -> bool:
        return k >= self.size and self.new_posts[k - self.size].copy_of is not None

    @property
    def through(self) -> int:
        return len(self.counts) - 1

    def day_start(self, day: int) -> int:
        return self.day0_end_ts + day * DAY_SECONDS

    def ensure(self, day: int) -> None:
        with self.lock:
            while self.through < day:
                self._advance()

    def changes_on(self, day: int) -> list[Change]:
        self.ensure(day)
        return list(self.changes[day])

    def view(self, day: int) -> View:
        with self.lock:
            self.ensure(day)
            count = self.counts[day]
            edits = {
                k: kept
                for k, items in self.edits.items()
                if (kept := tuple(e for e in items if e.day <= day))
            }
            deleted = {k: d for k, d in self.deleted.items() if d.day <= day}
            render: dict[int, int] = {}
            for k, days in self.touched.items():
                seen = [d for d in days if d <= day]
                if seen:
                    render[k] = max(seen)
            stamps = [c.ts for d in range(1, day + 1) for c in self.changes[d]]
            return View(
                day,
                count,
                edits,
                deleted,
                tuple(sorted(deleted)),
                render,
                max(stamps, default=None),
            )

    # ----- one day -----

    def _advance(self) -> None:
        day = self.through + 1
        rng = _day_rng(self.seed, self.size, day)
        before = self.counts[-1]
        start = self.day_start(day)
        taken: set[int] = set()
        changes: list[Change] = []

        def usable(k: int) -> bool:
            return 0 <= k < before and k != self.seed_k and k not in taken and k not in self.deleted

        def pick(recent: bool, originals_only: bool = False) -> int | None:
            span = min(RECENT, before) if recent else before
            for _ in range(64):
                k = before - 1 - int(rng.random() * span)
                if not usable(k):
                    continue
                if originals_only and self.is_copy(k):
                    continue
                taken.add(k)
                return k
            return None

        # publications: fresh articles, then one republished copy
        fresh = 2 + int(rng.random() * 3)
        source = pick(recent=False, originals_only=True)
        for i in range(fresh):
            ts = start + 6 * 3600 + i * 7200 + int(rng.random() * 50) * 60
            changes.append(Change(day, "new", before + i, ts))
            self.new_posts.append(NewPost(day, ts, None, False))
        if source is not None:
            ts = start + 6 * 3600 + fresh * 7200 + int(rng.random() * 50) * 60
            changes.append(Change(day, "republish_copy", before + fresh, ts, source))
            self.new_posts.append(NewPost(day, ts, source, day % 2 == 0))
        # edits and boilerplate-only changes: after the day's publications
        plan = [("edit_append", True), ("edit_text", True), ("edit_title", False)]
        if rng.random() < 0.5:
            plan.append(("edit_text", False))
        plan += [("boilerplate", False), ("boilerplate", False)]
        for i, (kind, recent) in enumerate(plan):
            k = pick(recent)
            if k is None:
                continue
            ts = start + 17 * 3600 + i * 1200 + int(rng.random() * 19) * 60
            changes.append(Change(day, kind, k, ts))
            if kind != "boilerplate":
                self.edits.setdefault(k, []).append(Edit(day, kind, ts, rng.getrandbits(32)))
            self.touched.setdefault(k, []).append(day)
        # deletions
        kinds = [DELETE_KINDS[(day - 1) % 3]]
        if rng.random() < 0.25:
            kinds.append(DELETE_KINDS[int(rng.random() * 3)])
        for i, kind in enumerate(kinds):
            k = pick(recent=False)
            if k is None:
                continue
            ts = start + 22 * 3600 + i * 600
            changes.append(Change(day, kind, k, ts))
            self.deleted[k] = Deletion(day, kind, ts)
        self.changes.append(changes)
        self.counts.append(before + fresh + (source is not None))
