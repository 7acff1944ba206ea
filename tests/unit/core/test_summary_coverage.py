"""The first-transfer coverage behind CTF-004 answers as a plain set of serials would."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.core.blocks import Range
from gateway.core.summary_log import _Coverage

ranges = st.tuples(st.integers(1, 200), st.integers(0, 30)).map(lambda t: (t[0], t[0] + t[1]))


def _gaps_of(have: set[int], first: int, last: int) -> list[Range]:
    out: list[Range] = []
    for s in range(first, last + 1):
        if s in have:
            continue
        if out and out[-1].end == s - 1:
            out[-1] = Range(out[-1].start, s)
        else:
            out.append(Range(s, s))
    return out


@given(st.lists(ranges, max_size=40), st.lists(ranges, min_size=1, max_size=10))
def test_gaps_are_the_serials_never_added(
    added: list[tuple[int, int]], asked: list[tuple[int, int]]
) -> None:
    cov = _Coverage()
    have: set[int] = set()
    for first, last in added:
        cov.add("CA0001", "MNG01", first, last)
        have.update(range(first, last + 1))
        starts, ends = cov.spaces[("CA0001", "MNG01")]
        # sorted, disjoint, never touching
        assert all(e + 1 < s for e, s in zip(ends, starts[1:], strict=False))
        assert all(s <= e for s, e in zip(starts, ends, strict=True))
    for first, last in asked:
        assert cov.gaps("CA0001", "MNG01", first, last) == _gaps_of(have, first, last)
    assert cov.gaps("CA0001", "JPN01", 1, 5) == [Range(1, 5)]  # another space
