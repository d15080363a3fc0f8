"""The replica's content: a deterministic, lazily generated Fort Russ archive with ground truth.

A ``Site`` of N articles holds the seed article plus N-1 generated ones, spread over 2015-2019.
Articles are addressed by their chronological position ``k`` (0 = oldest). Nothing is stored:

- *meta* (post id, dates, categories, tags, byline kind) comes from a hash of ``(seed, j, salt)``
  and costs about a microsecond, so indexes over 100,000 articles stay cheap;
- the *head* (title, names, lede) and the *body* (paragraphs, comments, layout) come from their
  own ``random.Random`` seeded from that hash, so article i is computed from ``(seed, i)`` alone.

Published times grow with ``j``, so a month is a contiguous range of ``k`` found by bisection and
slugs only need de-duplicating within one month. Same ``(seed, articles)``: same articles, on any
machine; no global random state and no clock.

A ``Site`` is the archive as of a ``day``. Day 0 is the archive as generated; later days add,
edit, delete and republish articles as ``days`` describes (``Site.events`` lists them). Posts
published after day 0 take positions ``articles, articles+1, ...`` and post ids continue the
generator's sequence. A ``Site`` never changes: ``Site.at_day(d)`` gives the site on another day
(Sites of one ``(articles, seed)`` share one ``days.Timeline``).
"""

from __future__ import annotations

import bisect
import hashlib
import random
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import overload
from urllib.parse import parse_qsl, urlsplit

from infra.replica import days as DY
from infra.replica import seed as S
from infra.replica import text as T
from infra.replica import words as W
from infra.replica.text import ordinal, slugify

BYLINE_KINDS: tuple[str, ...] = (
    "source_translated",  # "July 23rd, 2017 – Fort Russ News –" / "– Source – – translated by X –"
    "translated_for",  # "Translated by X for Fort Russ" / "18th February, 2016" / "Source"
    "fortruss_translation",  # "Fort Russ, March 24th, 2017" / "Translation by X"
    "written_by",  # "Written by X"
    "by",  # "By: X"
    "none",  # no byline
)
_KIND_WEIGHTS = (25, 15, 15, 15, 10, 20)  # percent, in BYLINE_KINDS order
SITE_AUTHOR = "Fort Russ"
_START = datetime(2015, 1, 5, tzinfo=UTC)
_END = datetime(2019, 12, 20, tzinfo=UTC)
_START_TS = int(_START.timestamp())
_SPAN = int(_END.timestamp()) - _START_TS
_PATH_RE = re.compile(r"^/(\d{4})/(\d{2})/([a-z0-9-]+)/$")
_ARTICLE_URL_RE = re.compile(r"^(/\d{4}/\d{2}/[a-z0-9-]+/)(?:amp/)?$")


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: int
    author: str
    date: datetime
    text: str


@dataclass(frozen=True, slots=True)
class Layout:
    """Presentation choices of one page (not ground truth): where the noise goes."""

    style_top: bool  # a pasted <style> block before the byline
    styles_bottom: int  # pasted <style> blocks after the last paragraph
    ad_after: int  # the inline ad follows this many body paragraphs
    byline_br: bool  # byline lines in one <p> joined by <br>
    kinds: tuple[str, ...]  # per paragraph: "p", "h2" or "blockquote"
    nbsp: frozenset[int]  # paragraphs whose <p> ends with a pasted "&nbsp;"
    wordads_id: str


@dataclass(frozen=True, slots=True)
class Teaser:
    """What listings, sidebars and sitemaps need: cheap to compute for any article."""

    post_id: int
    path: str
    title: str
    published: datetime
    modified: datetime
    categories: tuple[str, ...]
    author: str
    excerpt: str
    featured_image: str


@dataclass(frozen=True, slots=True)
class Article:
    """One article and its ground truth: ``paragraphs`` is exactly what a cleaner must output."""

    post_id: int
    slug: str
    path: str
    title: str
    published: datetime
    modified: datetime
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    author: str
    byline_kind: str
    byline_paragraphs: tuple[str, ...]
    original_source: str | None
    translator: str | None
    paragraphs: tuple[str, ...]
    featured_image: str
    excerpt: str
    comments: tuple[Comment, ...]
    views: int
    layout: Layout
    day_published: int = 0
    version: int = 1  # 1 as published; each edit adds one
    copy_of: int | None = None  # a republished copy: the post id it copies

    @property
    def category_slugs(self) -> tuple[str, ...]:
        return tuple(slugify(c) for c in self.categories)

    @property
    def tag_slugs(self) -> tuple[str, ...]:
        return tuple(slugify(t) for t in self.tags)


@dataclass(frozen=True, slots=True)
class Event:
    """Ground truth of one change on one day (``Site.events``).

    ``post_id``/``path`` name the article the event is about; for ``new`` and ``republish_copy``
    the new post, and then ``of_post_id``/``of_path`` name the copied article. ``version`` is the
    article's version after the event (unchanged by ``boilerplate`` and deletions). ``status`` is
    what the article URL answers after the event (200, or 404/410/301 for deletions) and
    ``location`` the redirect target path (``/`` for ``delete_redirect``).
    """

    day: int
    kind: str  # one of days.EVENT_KINDS
    post_id: int
    path: str
    when: datetime
    version: int
    status: int = 200
    location: str | None = None
    of_post_id: int | None = None
    of_path: str | None = None


class LiveRanks(Sequence[int]):
    """Positions ``0..count-1`` minus the (few, sorted) ``gone`` ones, newest first; lazy."""

    def __init__(self, count: int, gone: tuple[int, ...]) -> None:
        self._count, self._gone, self._gone_set = count, gone, frozenset(gone)

    def __len__(self) -> int:
        return self._count - len(self._gone)

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        want = n - 1 - index  # the want-th oldest live position (0-based)
        lo, hi = want, want + len(self._gone)
        while lo < hi:  # smallest p with p + 1 - gone(<= p) > want
            mid = (lo + hi) // 2
            if mid + 1 - bisect.bisect_right(self._gone, mid) > want:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def __iter__(self) -> Iterator[int]:
        return (k for k in range(self._count - 1, -1, -1) if k not in self._gone_set)

    def __contains__(self, k: object) -> bool:
        return isinstance(k, int) and 0 <= k < self._count and k not in self._gone_set


@dataclass(frozen=True, slots=True)
class _Meta:
    post_id: int
    published: datetime
    modified: datetime
    categories: tuple[int, ...]
    tags: tuple[int, ...]
    kind: str
    comments: int
    views: int


@dataclass(frozen=True, slots=True)
class _Head:
    title: str
    author: str
    byline_kind: str
    byline: tuple[str, ...]
    source: str | None
    translator: str | None
    lede: str


def _digest(seed: int, j: int, salt: str) -> bytes:
    return hashlib.blake2b(f"{seed}:{j}:{salt}".encode(), digest_size=32).digest()


def _rng(seed: int, j: int, salt: str) -> random.Random:
    return random.Random(int.from_bytes(_digest(seed, j, salt)[:8], "big"))


_END_TS = int(_END.timestamp())


def _modified_ts(pub_ts: int, d: bytes) -> int:
    if d[0] >= 115:
        return pub_ts
    return min(pub_ts + 60 * (10 + d[1] * 2300 + d[2]), max(_END_TS, pub_ts))


def _byline_kind(d: bytes) -> str:
    pick, acc = d[11] % 100, 0
    for name, weight in zip(BYLINE_KINDS, _KIND_WEIGHTS, strict=True):
        acc += weight
        if pick < acc:
            return name
    return BYLINE_KINDS[-1]


def _correct_title(title: str, r: int) -> str:
    """A corrected headline: one place, country or number swapped (else a qualifier added)."""
    rng = random.Random(r)
    words = title.split(" ")
    numbers = T.POOLS["number"]
    for i, word in enumerate(words):
        bare = word.rstrip(",:")
        for pool in (W.COUNTRIES, W.CITIES, numbers):
            if bare in pool:
                other = bare
                while other == bare:
                    other = T.pick(rng, pool)
                words[i] = other + word[len(bare) :]
                return " ".join(words)
    return f"{title} – Report"


def _rewrite(rng: random.Random, paragraph: str) -> str:
    """The paragraph with one sentence replaced (or the whole of it, if it is one sentence)."""
    sentences = re.split(r"(?<=[.!?”]) (?=[A-Z“])", paragraph)
    i = int(rng.random() * len(sentences))
    new = sentences[i]
    while new == sentences[i]:
        new = T.fill(rng, T.pick(rng, W.SENTENCES))
    sentences[i] = new
    return " ".join(sentences)


def _date_text(when: datetime) -> str:
    return f"{W.MONTHS[when.month - 1]} {when.day}, {when.year}"


@lru_cache(maxsize=32)
def _timeline(size: int, seed: int, seed_k: int) -> DY.Timeline:
    return DY.Timeline(size, seed, seed_k, _END_TS)


_SITES: OrderedDict[tuple[int, int, int], Site] = OrderedDict()
_SITES_LOCK = threading.Lock()
_SITES_MAX = 48


def _taxonomy(d: bytes) -> tuple[tuple[int, ...], tuple[int, ...]]:
    cats = [d[3] % len(W.CATEGORIES)]
    if d[4] < 64 and d[5] % len(W.CATEGORIES) != cats[0]:
        cats.append(d[5] % len(W.CATEGORIES))
    tags: list[int] = []
    for b in d[6 : 6 + 1 + d[10] % 4]:
        if b % len(W.TAGS) not in tags:
            tags.append(b % len(W.TAGS))
    return tuple(cats), tuple(tags)


class Site:
    """A Fort Russ replica of ``articles`` articles (the seed included), as of ``day``."""

    def __init__(self, articles: int = 200, seed: int = 1, day: int = 0) -> None:
        if articles < 1:
            raise ValueError("a replica site needs at least 1 article (the seed)")
        if day < 0:
            raise ValueError("the replica's day starts at 0")
        self.size = articles
        self.seed = seed
        self.day = day
        self._generated = articles - 1
        seed_ts = int(S.SEED_PUBLISHED.timestamp())
        self._seed_k = bisect.bisect_left(range(self._generated), seed_ts, key=self._ts)
        self._months: dict[tuple[int, int], tuple[dict[str, int], dict[int, str]]] = {}
        self.head = lru_cache(maxsize=4096)(self._head)
        self.meta = lru_cache(maxsize=8192)(self._meta)
        self.title = lru_cache(maxsize=8192)(self._title)
        self._cat_index: dict[int, list[int]] | None = None
        self._modified: array[int] | None = None
        self._tag_index: dict[int, list[int]] | None = None
        self._timeline = _timeline(articles, seed, self._seed_k)
        self._view = None if day == 0 else self._timeline.view(day)
        self._cat_live: dict[int, list[int]] = {}
        self._tag_live: dict[int, list[int]] = {}

    # ----- positions and cheap meta -----

    def __len__(self) -> int:
        """Live articles at ``day`` (all of them for day 0)."""
        return self.count - (0 if self._view is None else len(self._view.gone))

    @property
    def count(self) -> int:
        """Positions published by ``day``, deleted articles included (``size`` for day 0)."""
        return self.size if self._view is None else self._view.count

    # ----- time -----

    def at_day(self, day: int) -> Site:
        """This site on another day (cached; Sites of one (articles, seed) share their days)."""
        if day == self.day:
            return self
        key = (self.size, self.seed, day)
        with _SITES_LOCK:
            found = _SITES.get(key)
            if found is not None:
                _SITES.move_to_end(key)
                return found
        site = Site(self.size, self.seed, day)
        with _SITES_LOCK:
            found = _SITES.setdefault(key, site)
            _SITES.move_to_end(key)
            while len(_SITES) > _SITES_MAX:
                _SITES.popitem(last=False)
        return found

    def events(self, day: int) -> list[Event]:
        """What happened on ``day`` (none on day 0), in the order it happened."""
        if day <= 0:
            return []
        site = self.at_day(day)
        out: list[Event] = []
        for c in self._timeline.changes_on(day):
            version = 1 + len([e for e in self._timeline.edits.get(c.k, ()) if e.day <= day])
            status = DY.DELETE_STATUS.get(c.kind, 200)
            event = Event(
                day,
                c.kind,
                site.meta(c.k).post_id,
                site.path(c.k),
                datetime.fromtimestamp(c.ts, UTC),
                1 if c.kind in ("new", "republish_copy") else version,
                status,
                "/" if status == 301 else None,
            )
            if c.source is not None:
                event = replace(
                    event, of_post_id=site.meta(c.source).post_id, of_path=site.path(c.source)
                )
            out.append(event)
        return out

    def is_live(self, k: int) -> bool:
        """Position k is published by ``day`` and not deleted."""
        return 0 <= k < self.count and (self._view is None or k not in self._view.deleted)

    def deletion(self, post_id: int) -> str | None:
        """The deletion kind (``delete_404``, ``delete_410``, ``delete_redirect``) or None."""
        k = self.rank_of_post(post_id)
        if k is None or self._view is None or k >= self.count:
            return None
        found = self._view.deleted.get(k)
        return None if found is None else found.kind

    def status(self, url: str) -> tuple[int, str | None]:
        """What an article URL answers at ``day``: ``(200, None)``, ``(404, None)``,
        ``(410, None)`` or ``(301, location path)``.

        Takes the article path, its ``amp/`` variant or the ``/?p=ID`` shortlink (other query
        parameters ignored, a scheme and host too). ValueError for other URLs (listings, feeds).
        """
        parts = urlsplit(url)
        path = parts.path or "/"
        if path == "/":
            post = dict(parse_qsl(parts.query)).get("p")
            if post is None:
                raise ValueError(f"not an article URL: {url!r}")
            k = self.rank_of_post(int(post)) if post.isdigit() else None
            if k is None or k >= self.count:
                return (404, None)
            if self.is_live(k):
                return (301, self.path(k))
        else:
            m = _ARTICLE_URL_RE.match(path)
            if m is None:
                raise ValueError(f"not an article URL: {url!r}")
            k = self.rank_of_path(m.group(1))
            if k is None:
                return (404, None)
            if self.is_live(k):
                return (200, None)
        assert self._view is not None
        gone = self._view.deleted[k].status
        return (gone, "/" if gone == 301 else None)

    def render_day(self, k: int) -> int:
        """The day position k's page was last rendered (published, edited or re-rendered)."""
        if self._view is not None:
            found = self._view.render_day.get(k)
            if found is not None:
                return found
        return self.day_published(k)

    def day_published(self, k: int) -> int:
        new = self._new(k)
        return 0 if new is None else new.day

    def neighbour(self, k: int, step: int) -> int | None:
        """The nearest live position before (step -1) or after (step 1) k, or None."""
        k += step
        while 0 <= k < self.count:
            if self.is_live(k):
                return k
            k += step
        return None

    def last_change_ts(self) -> int | None:
        """Latest publication, edit or deletion after day 0 (None on day 0)."""
        return None if self._view is None else self._view.last_change_ts

    def _new(self, k: int) -> DY.NewPost | None:
        if k < self.size:
            return None
        return self._timeline.new_posts[k - self.size]

    def _edits(self, k: int) -> tuple[DY.Edit, ...]:
        return () if self._view is None else self._view.edits.get(k, ())

    @property
    def categories(self) -> tuple[str, ...]:
        return W.CATEGORIES

    @property
    def tags(self) -> tuple[str, ...]:
        return W.TAGS

    @property
    def seed_rank(self) -> int:
        """Chronological position of the seed article."""
        return self._seed_k

    def _ts(self, j: int) -> int:
        frac = int.from_bytes(_digest(self.seed, j, "t")[:4], "big") / 2**32
        ts = _START_TS + int((j + 0.05 + 0.85 * frac) * _SPAN / max(self._generated, 1))
        return ts - ts % 60

    def _j(self, k: int) -> int | None:
        """Generator index of chronological position k (None for the seed)."""
        if k == self._seed_k:
            return None
        return k if k < self._seed_k else k - 1

    def _meta(self, k: int) -> _Meta:
        j = self._j(k)
        if j is None:
            return _Meta(
                S.SEED_POST_ID,
                S.SEED_PUBLISHED,
                S.SEED_MODIFIED,
                tuple(W.CATEGORIES.index(c) for c in S.SEED_CATEGORIES),
                tuple(W.TAGS.index(t) for t in S.SEED_TAGS),
                "source_translated",
                3,
                1874,
            )
        d = _digest(self.seed, j, "m")
        modified_ts = self.modified_ts(k)
        new = self._new(k)
        if new is not None:
            if new.copy_of is not None:
                src = self.meta(new.copy_of)
                cats, tags, kind = src.categories, src.tags, src.kind
            else:
                (cats, tags), kind = _taxonomy(d), _byline_kind(d)
            return _Meta(
                1000 + 3 * j,
                datetime.fromtimestamp(new.ts, UTC),
                datetime.fromtimestamp(modified_ts, UTC),
                cats,
                tags,
                kind,
                d[12] % 3,
                40 + d[13] % 500,
            )
        pub_ts = self._ts(j)
        published = datetime.fromtimestamp(pub_ts, UTC)
        modified = datetime.fromtimestamp(modified_ts, UTC)
        cats, tags = _taxonomy(d)
        kind = _byline_kind(d)
        views = int.from_bytes(d[13:15], "big") % 20000 + 40
        return _Meta(1000 + 3 * j, published, modified, cats, tags, kind, d[12] % 6, views)

    def modified_ts(self, k: int) -> int:
        """Modified time of position k as a Unix timestamp (cheap, for sitemaps)."""
        edits = self._edits(k)
        if edits:
            return edits[-1].ts
        new = self._new(k)
        if new is not None:
            return new.ts
        j = self._j(k)
        if j is None:
            return int(S.SEED_MODIFIED.timestamp())
        return _modified_ts(self._ts(j), _digest(self.seed, j, "m"))

    def modified_index(self) -> array[int]:
        """Modified times (Unix seconds) of every position, built once: 8 bytes per article.

        Deleted positions hold -1.
        """
        if self._modified is None:
            if self._view is None:
                self._modified = array("q", (self.modified_ts(k) for k in range(self.count)))
            else:
                index = array("q", self.at_day(0).modified_index())
                index.extend(self.modified_ts(k) for k in range(self.size, self.count))
                for k in self._view.edits:
                    index[k] = self.modified_ts(k)
                for k in self._view.deleted:
                    index[k] = -1
                self._modified = index
        return self._modified

    def rank_of_post(self, post_id: int) -> int | None:
        """Chronological position of a post id, or None."""
        if post_id == S.SEED_POST_ID:
            return self._seed_k
        j, rest = divmod(post_id - 1000, 3)
        if rest or not 0 <= j < self.count - 1:
            return None
        return j if j < self._seed_k else j + 1

    def newest_ranks(self) -> Sequence[int]:
        """Chronological positions of the live articles, newest first (lazy)."""
        if self._view is None or not self._view.gone:
            return range(self.count - 1, -1, -1)
        return LiveRanks(self.count, self._view.gone)

    # ----- titles, heads and paths -----

    def _title(self, k: int) -> str:
        title = self._original_title(k)
        for edit in self._edits(k):
            if edit.kind == "edit_title":
                title = _correct_title(title, edit.r)
        return title

    def _original_title(self, k: int) -> str:
        """The title as published (slugs come from it)."""
        j = self._j(k)
        if j is None:
            return S.SEED_TITLE
        new = self._new(k)
        if new is not None and new.copy_of is not None:
            return self.at_day(new.day).title(new.copy_of)
        rng = _rng(self.seed, j, "title")
        return T.title_case(T.fill(rng, T.pick(rng, W.TITLE_TEMPLATES)))

    def _month_slugs(self, year: int, month: int) -> tuple[dict[str, int], dict[int, str]]:
        """slug -> position and position -> slug for one month (cached; safe across threads)."""
        key = (year, month)
        found = self._months.get(key)
        if found is None and self._view is not None:
            found = self._later_month_slugs(year, month)
        if found is None:
            lo_ts = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
            nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            hi_ts = int(nxt.timestamp())
            lo = bisect.bisect_left(range(self.count), lo_ts, key=self._rank_ts)
            hi = bisect.bisect_left(range(self.count), hi_ts, key=self._rank_ts)
            slugs: dict[str, int] = {}
            by_rank: dict[int, str] = {}
            if lo <= self._seed_k < hi:
                slugs[S.SEED_SLUG] = self._seed_k
                by_rank[self._seed_k] = S.SEED_SLUG
            for k in range(lo, hi):
                if k == self._seed_k:
                    continue
                base = self._base_slug(k, by_rank)
                slug, n = base, 2
                new = self._new(k)
                if new is not None and new.copy_of is not None:  # WordPress: "<slug>-2"
                    slug, n = f"{base}-2", 3
                while slug in slugs:
                    slug, n = f"{base}-{n}", n + 1
                slugs[slug] = k
                by_rank[k] = slug
            if len(self._months) > 256:
                self._months.clear()
            found = self._months[key] = (slugs, by_rank)
        return found

    def _later_month_slugs(self, year: int, month: int) -> tuple[dict[str, int], dict[int, str]]:
        """After day 0: the day-0 month (shared, slugs never change) plus the month's new posts."""
        slugs, by_rank = self.at_day(0)._month_slugs(year, month)
        lo_ts = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        lo = bisect.bisect_left(range(self.size, self.count), lo_ts, key=self._rank_ts)
        hi = bisect.bisect_left(
            range(self.size, self.count), int(nxt.timestamp()), key=self._rank_ts
        )
        if lo < hi:
            slugs, by_rank = dict(slugs), dict(by_rank)
            for k in range(self.size + lo, self.size + hi):
                base = self._base_slug(k, by_rank)
                slug, n = base, 2
                new = self._new(k)
                if new is not None and new.copy_of is not None:  # WordPress: "<slug>-2"
                    slug, n = f"{base}-2", 3
                while slug in slugs:
                    slug, n = f"{base}-{n}", n + 1
                slugs[slug] = k
                by_rank[k] = slug
        if len(self._months) > 256:
            self._months.clear()
        found = self._months[(year, month)] = (slugs, by_rank)
        return found

    def _rank_ts(self, k: int) -> int:
        new = self._new(k)
        if new is not None:
            return new.ts
        j = self._j(k)
        return int(S.SEED_PUBLISHED.timestamp()) if j is None else self._ts(j)

    def _base_slug(self, k: int, month: dict[int, str]) -> str:
        new = self._new(k)
        if new is not None and new.copy_of is not None:  # the copied article's slug
            src = new.copy_of
            return month.get(src) or self.path(src).rstrip("/").rsplit("/", 1)[-1][:186]
        slug = slugify(self._original_title(k))
        if self.meta(k).published.year >= 2018:
            return slug[:190].strip("-")
        out = ""
        for word in slug.split("-"):  # Blogger-era slugs: cut at ~40 characters
            if out and len(out) + 1 + len(word) > 39:
                break
            out = f"{out}-{word}" if out else word
        return out

    def path(self, k: int) -> str:
        published = self.meta(k).published
        slug = self._month_slugs(published.year, published.month)[1][k]
        return f"/{published.year:04d}/{published.month:02d}/{slug}/"

    def _head(self, k: int) -> _Head:
        j = self._j(k)
        if j is None:
            return _Head(
                S.SEED_TITLE,
                S.SEED_AUTHOR,
                "source_translated",
                S.SEED_BYLINE,
                S.SEED_SOURCE,
                S.SEED_TRANSLATOR,
                S.SEED_PARAGRAPHS[0],
            )
        new = self._new(k)
        if new is not None and new.copy_of is not None:
            return replace(self.at_day(new.day).head(new.copy_of), title=self.title(k))
        meta = self.meta(k)
        rng = _rng(self.seed, j, "head")
        p = meta.published
        name, source = T.pick(rng, W.TRANSLATORS), T.pick(rng, W.SOURCES)
        author = SITE_AUTHOR
        translator: str | None = name
        src: str | None = source
        kind = meta.kind
        byline: tuple[str, ...]
        if kind == "source_translated":
            date = f"{W.MONTHS[p.month - 1]} {ordinal(p.day)}, {p.year}"
            byline = (f"{date} – Fort Russ News –", f"– {source} – – translated by {name} –")
        elif kind == "translated_for":
            date = f"{ordinal(p.day)} {W.MONTHS[p.month - 1]}, {p.year}"
            byline = (f"Translated by {name} for Fort Russ", date, source)
        elif kind == "fortruss_translation":
            verb = "Translation and preface by" if rng.random() < 0.3 else "Translation by"
            date = f"{W.MONTHS[p.month - 1]} {ordinal(p.day)}, {p.year}"
            byline, src = (f"Fort Russ, {date}", f"{verb} {name}"), None
        elif kind in ("written_by", "by"):
            author, translator, src = T.pick(rng, W.WRITERS), None, None
            byline = (f"Written by {author}",) if kind == "written_by" else (f"By: {author}",)
        else:
            byline, translator, src = (), None, None
        return _Head(
            self.title(k), author, kind, byline, src, translator, T.sentence_paragraph(rng)
        )

    def teaser(self, k: int) -> Teaser:
        meta, head = self.meta(k), self.head(k)
        words = head.lede.split()
        excerpt = " ".join(words[:25]) + (" […]" if len(words) > 25 else "")
        return Teaser(
            meta.post_id,
            self.path(k),
            head.title,
            meta.published,
            meta.modified,
            tuple(W.CATEGORIES[c] for c in meta.categories),
            head.author,
            excerpt,
            self._image(k),
        )

    def _image(self, k: int) -> str:
        if self._j(k) is None:
            return S.SEED_FEATURED_IMAGE
        new = self._new(k)
        if new is not None and new.copy_of is not None:
            return self._image(new.copy_of)
        p = self.meta(k).published
        name = self.path(k).rstrip("/").rsplit("/", 1)[-1][:40].strip("-")
        return f"/wp-content/uploads/{p.year:04d}/{p.month:02d}/{name}.jpg"

    # ----- full articles -----

    def article_at(self, k: int) -> Article:
        """The article at chronological position k (0 = oldest)."""
        if not 0 <= k < self.count:
            raise IndexError(k)
        new = self._new(k)
        if new is not None and new.copy_of is not None:
            return self._apply_edits(k, self._copy(k, new, new.copy_of))
        meta, head = self.meta(k), self.head(k)
        j = self._j(k)
        rng = _rng(self.seed, -1 if j is None else j, "body")
        if j is None:
            paragraphs = S.SEED_PARAGRAPHS
            layout = Layout(
                False,
                2,
                len(paragraphs),
                False,
                ("p",) * len(paragraphs),
                S.SEED_TRAILING_NBSP,
                S.SEED_WORDADS_ID,
            )
        else:
            paragraphs, layout = self._body(rng, head)
        comments = tuple(
            Comment(
                meta.post_id * 10 + i,
                T.pick(rng, W.COMMENTERS),
                meta.published + timedelta(hours=1 + i * 5, minutes=T.between(rng, 0, 59)),
                T.pick(rng, W.COMMENT_TEXTS),
            )
            for i in range(meta.comments)
        )
        teaser = self.teaser(k)
        art = Article(
            post_id=meta.post_id,
            slug=teaser.path.rstrip("/").rsplit("/", 1)[-1],
            path=teaser.path,
            title=head.title,
            published=meta.published,
            modified=meta.modified,
            categories=teaser.categories,
            tags=tuple(W.TAGS[t] for t in meta.tags),
            author=head.author,
            byline_kind=head.byline_kind,
            byline_paragraphs=head.byline,
            original_source=head.source,
            translator=head.translator,
            paragraphs=paragraphs,
            featured_image=teaser.featured_image,
            excerpt=teaser.excerpt,
            comments=comments,
            views=meta.views,
            layout=layout,
            day_published=0 if new is None else new.day,
        )
        return self._apply_edits(k, art)

    def _copy(self, k: int, new: DY.NewPost, src_k: int) -> Article:
        """A republished copy: the source's text as of the copy's day, under a new post."""
        src = self.at_day(new.day).article_at(src_k)
        meta, teaser = self.meta(k), self.teaser(k)
        paragraphs, layout = src.paragraphs, src.layout
        if new.near:
            when = _date_text(src.published)
            paragraphs += (f"This article was originally published on Fort Russ on {when}.",)
            layout = replace(layout, kinds=(*layout.kinds, "p"))
        return replace(
            src,
            post_id=meta.post_id,
            slug=teaser.path.rstrip("/").rsplit("/", 1)[-1],
            path=teaser.path,
            title=self._original_title(k),
            published=meta.published,
            modified=meta.published,
            paragraphs=paragraphs,
            featured_image=teaser.featured_image,
            excerpt=teaser.excerpt,
            comments=(),
            views=meta.views,
            layout=layout,
            day_published=new.day,
            version=1,
            copy_of=src.post_id,
        )

    def _apply_edits(self, k: int, art: Article) -> Article:
        edits = self._edits(k)
        if not edits:
            return art
        paragraphs, kinds = list(art.paragraphs), list(art.layout.kinds)
        for edit in edits:
            rng = random.Random(edit.r)
            if edit.kind == "edit_text":
                slots = [i for i in range(1, len(paragraphs)) if kinds[i] == "p"] or [0]
                i = slots[edit.r % len(slots)]
                paragraphs[i] = _rewrite(rng, paragraphs[i])
            elif edit.kind == "edit_append":
                paragraphs.append(f"UPDATE: {T.sentence_paragraph(rng)}")
                kinds.append("p")
        return replace(
            art,
            title=self.title(k),
            modified=datetime.fromtimestamp(edits[-1].ts, UTC),
            paragraphs=tuple(paragraphs),
            layout=replace(art.layout, kinds=tuple(kinds)),
            version=art.version + len(edits),
        )

    @staticmethod
    def _body(rng: random.Random, head: _Head) -> tuple[tuple[str, ...], Layout]:
        total = T.between(rng, 4, 14)
        paragraphs, kinds = [head.lede], ["p"]
        h2_at = T.between(rng, 2, total - 1) if rng.random() < 0.2 else -1
        quote_at = T.between(rng, 1, total - 1) if rng.random() < 0.15 else -1
        for i in range(1, total):
            if i == h2_at:
                paragraphs.append(T.fill(rng, T.pick(rng, W.SUBHEADINGS)))
                kinds.append("h2")
            elif i == quote_at:
                paragraphs.append(T.pick(rng, W.QUOTES) + ".")
                kinds.append("blockquote")
            else:
                paragraphs.append(T.sentence_paragraph(rng))
                kinds.append("p")
        nbsp = frozenset(i for i in range(total) if kinds[i] == "p" and rng.random() < 0.08)
        bottom = (0, 0, 0, 0, 1, 2)[T.between(rng, 0, 5)]
        layout = Layout(
            style_top=rng.random() < 0.12,
            styles_bottom=bottom,
            ad_after=T.between(rng, 1, total - 1),
            byline_br=head.byline_kind == "translated_for" and rng.random() < 0.5,
            kinds=tuple(kinds),
            nbsp=nbsp,
            wordads_id=f"atatags-{T.between(rng, 10**9, 2 * 10**9)}-{rng.getrandbits(52):013x}",
        )
        return tuple(paragraphs), layout

    def article(self, post_id: int) -> Article:
        """The article with this WordPress post id; KeyError if there is none."""
        k = self.rank_of_post(post_id)
        if k is None or not self.is_live(k):
            raise KeyError(post_id)
        return self.article_at(k)

    def rank_of_path(self, path: str) -> int | None:
        m = _PATH_RE.match(path)
        if m is None:
            return None
        year, month = int(m.group(1)), int(m.group(2))
        if not 2000 <= year <= 2100 or not 1 <= month <= 12:
            return None
        k = self._month_slugs(year, month)[0].get(m.group(3))
        return k if k is not None and k < self.count else None

    def by_path(self, path: str) -> Article | None:
        """The article served at ``/YYYY/MM/slug/``, or None."""
        k = self.rank_of_path(path)
        return None if k is None or not self.is_live(k) else self.article_at(k)

    def iter_articles(self) -> Iterator[Article]:
        """Every visible article, newest first (generated one at a time)."""
        for k in self.newest_ranks():
            yield self.article_at(k)

    @property
    def seed_article(self) -> Article:
        return self.article_at(self._seed_k)

    # ----- taxonomy indexes (cheap: built from meta only) -----

    def _build_indexes(self) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
        if self._cat_index is None or self._tag_index is None:
            cats: dict[int, list[int]] = {}
            tags: dict[int, list[int]] = {}
            for k in self.newest_ranks():
                j = self._j(k)
                if j is None:
                    c_idx, t_idx = self.meta(k).categories, self.meta(k).tags
                else:
                    c_idx, t_idx = _taxonomy(_digest(self.seed, j, "m"))
                for c in c_idx:
                    cats.setdefault(c, []).append(k)
                for t in t_idx:
                    tags.setdefault(t, []).append(k)
            self._cat_index, self._tag_index = cats, tags
        return self._cat_index, self._tag_index

    def category_ranks(self, name: str) -> list[int]:
        """Positions of the live articles in a category, newest first."""
        return self._ranks(0, W.CATEGORIES.index(name))

    def tag_ranks(self, name: str) -> list[int]:
        """Positions of the live articles with a tag, newest first."""
        return self._ranks(1, W.TAGS.index(name))

    def _ranks(self, which: int, index: int) -> list[int]:
        if self._view is None:
            return self._build_indexes()[which].get(index, [])
        cache = self._tag_live if which else self._cat_live
        found = cache.get(index)
        if found is None:
            base = self.at_day(0)._build_indexes()[which].get(index, [])
            new = [
                k
                for k in range(self.count - 1, self.size - 1, -1)
                if index in (self.meta(k).tags if which else self.meta(k).categories)
            ]
            deleted = self._view.deleted
            found = cache[index] = [k for k in new + base if k not in deleted]
        return found

    def category_count(self, name: str) -> int:
        return len(self.category_ranks(name))

    def tag_count(self, name: str) -> int:
        return len(self.tag_ranks(name))

    def category_by_slug(self, slug: str) -> str | None:
        return next((c for c in W.CATEGORIES if slugify(c) == slug), None)

    def tag_by_slug(self, slug: str) -> str | None:
        return next((t for t in W.TAGS if slugify(t) == slug), None)
