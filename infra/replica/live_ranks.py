"""The live positions of a site after deletions, newest first, without building the list."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import overload


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
