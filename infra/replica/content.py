"""The replica's content: a deterministic, lazily generated Fort Russ archive with ground truth.

A ``Site`` of N articles holds the seed article plus N-1 generated ones, spread over 2015-2019,
addressed by chronological position ``k`` (0 = oldest). ``catalog`` knows the positions and their
cheap meta, ``generator`` draws each article's parts from ``(seed, k)`` alone, ``edits`` applies
what later days did to it; a ``Site`` puts them together into ``Article``s with their ground truth,
and indexes them by category and tag. Same ``(seed, articles)``: same articles, on any machine; no
global random state and no clock.

A ``Site`` is the archive as of a ``day``. Day 0 is the archive as generated; later days add,
edit, delete and republish articles as ``days`` describes (``Site.events`` lists them). A ``Site``
never changes: ``Site.at_day(d)`` gives the site on another day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache

from infra.replica import days as DY
from infra.replica import generator as G
from infra.replica import seed as S
from infra.replica import words as W
from infra.replica.catalog import Catalog
from infra.replica.edits import apply_edits, republished
from infra.replica.records import Article, Event, Teaser
from infra.replica.text import slugify


class Site(Catalog):
    """A Fort Russ replica of ``articles`` articles (the seed included), as of ``day``."""

    def __init__(self, articles: int = 200, seed: int = 1, day: int = 0) -> None:
        super().__init__(articles, seed, day)
        self.head = lru_cache(maxsize=4096)(self._head)
        self._cat_index: dict[int, list[int]] | None = None
        self._tag_index: dict[int, list[int]] | None = None
        self._cat_live: dict[int, list[int]] = {}
        self._tag_live: dict[int, list[int]] = {}

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

    # ----- heads and teasers -----

    def _head(self, k: int) -> G.Head:
        j = self._j(k)
        if j is None:
            return G.SEED_HEAD
        new = self._new(k)
        if new is not None and new.copy_of is not None:
            return replace(self.at_day(new.day).head(new.copy_of), title=self.title(k))
        return G.head(self.seed, j, self.meta(k), self.title(k))

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

    def images_of_month(self, year: int, month: int) -> dict[str, int]:
        """Featured-image paths of the posts published in a month (deleted ones included: media
        outlive posts) -> the oldest position using each; a republished copy adds none."""
        if not 2000 <= year <= 2100 or not 1 <= month <= 12:
            return {}
        out: dict[str, int] = {}
        for k in sorted(self._permalinks.month(year, month)[1]):
            if k < self.count and not self._timeline.is_copy(k):
                out.setdefault(self._image(k), k)
        return out

    # ----- full articles -----

    def article_at(self, k: int) -> Article:
        """The article at chronological position k (0 = oldest)."""
        if not 0 <= k < self.count:
            raise IndexError(k)
        new = self._new(k)
        if new is not None and new.copy_of is not None:
            src = self.at_day(new.day).article_at(new.copy_of)
            copy = republished(src, new, self.teaser(k), self.original_title(k), self.meta(k).views)
            return apply_edits(copy, self._edits(k), self.title(k))
        meta, head = self.meta(k), self.head(k)
        j = self._j(k)
        rng = G.random_for(self.seed, -1 if j is None else j, "body")
        if j is None:
            paragraphs, layout = S.SEED_PARAGRAPHS, G.SEED_LAYOUT
        else:
            paragraphs, layout = G.body(rng, head)
        comments = G.comments(rng, meta)
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
        return apply_edits(art, self._edits(k), self.title(k))

    def article(self, post_id: int) -> Article:
        """The article with this WordPress post id; KeyError if there is none."""
        k = self.rank_of_post(post_id)
        if k is None or not self.is_live(k):
            raise KeyError(post_id)
        return self.article_at(k)

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
                    c_idx, t_idx = G.taxonomy(G.digest(self.seed, j, "m"))
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
