"""The catalog of a replica site on one day: which positions exist and are live, with their cheap
meta (post id, dates, taxonomy), titles and permalinks, and what each article URL answers.

Articles are addressed by their chronological position ``k`` (0 = oldest). The day-0 archive
holds the seed article plus N-1 generated ones (``generator``); posts published after day 0 take
positions ``articles, articles+1, ...`` and post ids continue the generator's sequence. Nothing is
stored: everything comes from ``(seed, articles, day)``, so a 100,000-article catalog stays cheap.
A catalog never changes: ``at_day(d)`` gives the one of another day (all days of one
``(articles, seed)`` share one ``days.Timeline``).
"""

from __future__ import annotations

import bisect
import re
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Self, cast
from urllib.parse import parse_qsl, urlsplit

from infra.replica import days as DY
from infra.replica import generator as G
from infra.replica import seed as S
from infra.replica import words as W
from infra.replica.edits import correct_title
from infra.replica.live_ranks import LiveRanks
from infra.replica.permalinks import Permalinks
from infra.replica.text import slugify

_PATH_RE = re.compile(r"^/(\d{4})/(\d{2})/([a-z0-9-]+)/$")
_ARTICLE_URL_RE = re.compile(r"^(/\d{4}/\d{2}/[a-z0-9-]+/)(?:amp/)?$")


@lru_cache(maxsize=32)
def _timeline(size: int, seed: int, seed_k: int) -> DY.Timeline:
    return DY.Timeline(size, seed, seed_k, G.END_TS)


_SITES: OrderedDict[tuple[type, int, int, int], Catalog] = OrderedDict()
_SITES_LOCK = threading.Lock()
_SITES_MAX = 48


class Catalog:
    """The positions of a replica of ``articles`` articles (the seed included), as of ``day``."""

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
        self.meta = lru_cache(maxsize=8192)(self._meta)
        self.title = lru_cache(maxsize=8192)(self._title)
        self._modified: array[int] | None = None
        self._timeline = _timeline(articles, seed, self._seed_k)
        self._view = None if day == 0 else self._timeline.view(day)
        if self._view is None:
            positions, day0 = range(self.size), None
        else:
            positions, day0 = range(self.size, self.count), self._day0_permalinks
        self._permalinks = Permalinks(
            positions,
            self.published_ts,
            self._base_slug,
            self._timeline.is_copy,
            self._seed_k,
            day0,
        )

    def __len__(self) -> int:
        """Live articles at ``day`` (all of them for day 0)."""
        return self.count - (0 if self._view is None else len(self._view.gone))

    @property
    def count(self) -> int:
        """Positions published by ``day``, deleted articles included (``size`` for day 0)."""
        return self.size if self._view is None else self._view.count

    # ----- time -----

    def at_day(self, day: int) -> Self:
        """This site on another day (cached; Sites of one (articles, seed) share their days)."""
        if day == self.day:
            return self
        key = (type(self), self.size, self.seed, day)
        with _SITES_LOCK:
            found = _SITES.get(key)
            if found is not None:
                _SITES.move_to_end(key)
                return cast(Self, found)
        site = type(self)(self.size, self.seed, day)
        with _SITES_LOCK:
            found = _SITES.setdefault(key, site)
            _SITES.move_to_end(key)
            while len(_SITES) > _SITES_MAX:
                _SITES.popitem(last=False)
        return cast(Self, found)

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

    # ----- positions and cheap meta -----

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
        return G.published_ts(self.seed, j, self._generated)

    def _j(self, k: int) -> int | None:
        """Generator index of chronological position k (None for the seed)."""
        if k == self._seed_k:
            return None
        return k if k < self._seed_k else k - 1

    def _meta(self, k: int) -> G.Meta:
        j = self._j(k)
        if j is None:
            return G.SEED_META
        d = G.digest(self.seed, j, "m")
        modified_ts = self.modified_ts(k)
        new = self._new(k)
        if new is not None:
            source = None if new.copy_of is None else self.meta(new.copy_of)
            return G.later_meta(j, new.ts, modified_ts, d, source)
        return G.day0_meta(j, self._ts(j), modified_ts, d)

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
        return G.modified_ts(self._ts(j), G.digest(self.seed, j, "m"))

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

    # ----- titles and paths -----

    def _title(self, k: int) -> str:
        title = self.original_title(k)
        for edit in self._edits(k):
            if edit.kind == "edit_title":
                title = correct_title(title, edit.r)
        return title

    def original_title(self, k: int) -> str:
        """The title as published (slugs come from it)."""
        j = self._j(k)
        if j is None:
            return S.SEED_TITLE
        new = self._new(k)
        if new is not None and new.copy_of is not None:
            return self.at_day(new.day).title(new.copy_of)
        return G.original_title(self.seed, j)

    def published_ts(self, k: int) -> int:
        """Published time of position k (Unix seconds; grows with k)."""
        new = self._new(k)
        if new is not None:
            return new.ts
        j = self._j(k)
        return int(S.SEED_PUBLISHED.timestamp()) if j is None else self._ts(j)

    def _day0_permalinks(self) -> Permalinks:
        return self.at_day(0)._permalinks

    def _base_slug(self, k: int, month: dict[int, str]) -> str:
        new = self._new(k)
        if new is not None and new.copy_of is not None:  # the copied article's slug
            src = new.copy_of
            return month.get(src) or self.path(src).rstrip("/").rsplit("/", 1)[-1][:186]
        slug = slugify(self.original_title(k))
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
        slug = self._permalinks.month(published.year, published.month)[1][k]
        return f"/{published.year:04d}/{published.month:02d}/{slug}/"

    def rank_of_path(self, path: str) -> int | None:
        m = _PATH_RE.match(path)
        if m is None:
            return None
        year, month = int(m.group(1)), int(m.group(2))
        if not 2000 <= year <= 2100 or not 1 <= month <= 12:
            return None
        k = self._permalinks.month(year, month)[0].get(m.group(3))
        return k if k is not None and k < self.count else None
