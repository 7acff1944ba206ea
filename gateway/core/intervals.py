"""Closed integer intervals found by overlap in O(c log n + k): :class:`Intervals`.

Each interval goes into the *length class* of its length (the bit length of ``end - start``):
an interval of class ``c`` is shorter than ``2**c``, so it can only overlap ``[lo, hi]`` if
it starts in ``[lo - 2**c + 1, hi]``. A query is one range scan per class present (at most
65 for serials up to 2**64), whatever the number of intervals; ``k`` is how many are found.
The audit store's serial index (``gateway.audit.sqlindex``) finds blocks the same way.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from sortedcontainers import SortedList


class Intervals:
    """Intervals ``[start, end]``, each with a tag (comparable, hashable: it tells apart
    intervals with the same bounds)."""

    def __init__(self) -> None:
        self._by_class: dict[int, SortedList] = {}

    def __len__(self) -> int:
        return sum(len(sl) for sl in self._by_class.values())

    def add(self, start: int, end: int, tag: Hashable) -> None:
        cls = (end - start).bit_length()
        sl = self._by_class.get(cls)
        if sl is None:
            sl = self._by_class[cls] = SortedList()
        sl.add((start, end, tag))

    def discard(self, start: int, end: int, tag: Hashable) -> None:
        cls = (end - start).bit_length()
        sl = self._by_class.get(cls)
        if sl is not None:
            sl.discard((start, end, tag))
            if not sl:
                del self._by_class[cls]

    def overlapping(self, lo: int, hi: int) -> set[Any]:
        """The tags of the intervals that share at least one integer with ``[lo, hi]``."""
        found: set[Any] = set()
        for cls, sl in self._by_class.items():
            # starts in [lo - 2**cls + 1, hi]: a tuple (hi + 1,) sorts after every (hi, ...)
            for start, end, tag in sl.irange((lo - (1 << cls) + 1,), (hi + 1,)):
                if end >= lo and start <= hi:
                    found.add(tag)
        return found

    def copy(self) -> Intervals:
        other = Intervals()
        other._by_class = {cls: SortedList(sl) for cls, sl in self._by_class.items()}
        return other
