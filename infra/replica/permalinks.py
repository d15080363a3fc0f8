"""Permalinks: the slug of every position, unique within its month as WordPress makes them.

Published times grow with the position, so a month is a contiguous range of positions found by
bisection and slugs only need de-duplicating within one month: oldest first, a taken slug gets
``-2``, ``-3``... (a republished copy starts at ``-2``, as WordPress names a copy). After day 0 a
month is the day-0 month (shared: slugs never change) plus the posts published since.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import UTC, datetime

from infra.replica import seed as S

Month = tuple[dict[str, int], dict[int, str]]  # slug -> position, position -> slug


class Permalinks:
    """Slugs of ``positions``, month by month (built on first use, cached; safe across threads).

    ``published_ts(k)`` orders positions by time, ``base_slug(k, month)`` is the slug position k
    wants (``month``: the month's position -> slug so far); ``day0`` gives the day-0 permalinks a
    later day builds on (None on day 0, whose ``positions`` hold the seed article at ``seed_k``).
    """

    def __init__(
        self,
        positions: range,
        published_ts: Callable[[int], int],
        base_slug: Callable[[int, dict[int, str]], str],
        is_copy: Callable[[int], bool],
        seed_k: int,
        day0: Callable[[], Permalinks] | None = None,
    ) -> None:
        self._positions = positions
        self._published_ts = published_ts
        self._base_slug = base_slug
        self._is_copy = is_copy
        self._seed_k = seed_k
        self._day0 = day0
        self._months: dict[tuple[int, int], Month] = {}

    def month(self, year: int, month: int) -> Month:
        """slug -> position and position -> slug for one month."""
        key = (year, month)
        found = self._months.get(key)
        if found is None:
            found = self._build(year, month)
            if len(self._months) > 256:
                self._months.clear()
            self._months[key] = found
        return found

    def _build(self, year: int, month: int) -> Month:
        lo_ts = int(datetime(year, month, 1, tzinfo=UTC).timestamp())
        nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        hi_ts = int(nxt.timestamp())
        lo = bisect.bisect_left(self._positions, lo_ts, key=self._published_ts)
        hi = bisect.bisect_left(self._positions, hi_ts, key=self._published_ts)
        slugs: dict[str, int]
        by_rank: dict[int, str]
        if self._day0 is not None:
            slugs, by_rank = self._day0().month(year, month)
            if lo < hi:
                slugs, by_rank = dict(slugs), dict(by_rank)
        else:
            slugs, by_rank = {}, {}
            if lo <= self._seed_k < hi:
                slugs[S.SEED_SLUG] = self._seed_k
                by_rank[self._seed_k] = S.SEED_SLUG
        for k in self._positions[lo:hi]:
            if k == self._seed_k:
                continue
            base = self._base_slug(k, by_rank)
            slug, n = base, 2
            if self._is_copy(k):  # WordPress: "<slug>-2"
                slug, n = f"{base}-2", 3
            while slug in slugs:
                slug, n = f"{base}-{n}", n + 1
            slugs[slug] = k
            by_rank[k] = slug
        return slugs, by_rank
