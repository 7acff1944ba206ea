"""The interval index answers what a scan of its intervals would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.intervals import Intervals

bounds = st.one_of(st.integers(0, 64), st.integers(0, 2**40))
spans = st.tuples(bounds, bounds).map(sorted).map(tuple)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(spans, st.integers(0, 5)), max_size=40),
    st.lists(st.integers(0, 39), max_size=20),
    st.lists(spans, min_size=1, max_size=10),
)
def test_overlapping_is_what_a_scan_finds(
    added: list[tuple[tuple[int, int], int]], removed: list[int], queries: list[tuple[int, int]]
) -> None:
    index = Intervals()
    kept: list[tuple[int, int, int]] = []
    for (start, end), tag in added:
        index.add(start, end, tag)
        kept.append((start, end, tag))
    for i in removed:
        if i < len(kept):
            start, end, tag = kept.pop(i)
            index.discard(start, end, tag)
    assert len(index) == len(kept)
    copy = index.copy()
    for lo, hi in queries:
        want = {tag for start, end, tag in kept if start <= hi and end >= lo}
        assert index.overlapping(lo, hi) == want
        assert copy.overlapping(lo, hi) == want


def test_discarding_what_is_not_there_changes_nothing() -> None:
    index = Intervals()
    index.add(1, 10, "a")
    index.discard(1, 10, "b")
    index.discard(5, 5, "a")
    assert index.overlapping(3, 3) == {"a"}
    index.discard(1, 10, "a")
    assert index.overlapping(0, 100) == set()
    assert len(index) == 0
