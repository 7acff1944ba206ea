"""Block algebra properties (hypothesis) and the ledger's serial index against brute force."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.blocks import (
    Block,
    Range,
    block_key,
    carve,
    intersect,
    malformed,
    merge_ranges,
    overlapping_pairs,
)
from gateway.core.state import LedgerState, Put

SERIAL = st.integers(min_value=1, max_value=400)
FAST = settings(max_examples=300, deadline=None)


@st.composite
def ranges(draw: st.DrawFn, *, well_formed: bool = True) -> Range:
    a, b = draw(SERIAL), draw(SERIAL)
    if well_formed:
        a, b = min(a, b), max(a, b)
    return Range(a, b)


@st.composite
def tiling(draw: st.DrawFn) -> list[Block]:
    """Non-overlapping blocks of one serial space, with random gaps, in random order."""
    cuts = sorted(draw(st.sets(SERIAL, min_size=2, max_size=20)))
    keep = draw(st.lists(st.booleans(), min_size=len(cuts) - 1, max_size=len(cuts) - 1))
    blocks = [
        blk(s, e - 1, account=f"A{i % 3}")
        for i, (s, e, k) in enumerate(zip(cuts, cuts[1:], keep, strict=False))
        if k
    ]
    return draw(st.permutations(blocks))


def blk(start: int, end: int, **kw: object) -> Block:
    base = Block("CA0001", "MNG01", start, end, 2025, "JCM", "MNG01", "A")
    return replace(base, **kw)  # type: ignore[arg-type]


def serials(rs: list[Range]) -> list[int]:
    return [s for r in rs for s in range(r.start, r.end + 1)]


# ---- intersect ----------------------------------------------------------------------


@FAST
@given(tiling(), ranges())
def test_intersect_covered_and_gaps_tile_the_wanted_range(blocks: list[Block], want: Range) -> None:
    covered, gaps = intersect(blocks, want)
    pieces = sorted([part for _, part in covered] + gaps, key=lambda r: r.start)
    assert all(r.start <= r.end for r in pieces)
    assert serials(pieces) == list(range(want.start, want.end + 1))  # exact, ordered, no overlap
    # covered parts come in serial order, each inside its own block
    parts = [part for _, part in covered]
    assert parts == sorted(parts, key=lambda r: r.start)
    for b, part in covered:
        assert b.start <= part.start <= part.end <= b.end
    # gaps are in order and truly uncovered
    assert gaps == sorted(gaps, key=lambda r: r.start)
    held = {s for b in blocks for s in range(b.start, b.end + 1)}
    assert not held & set(serials(gaps))
    assert set(serials(parts)) == held & set(range(want.start, want.end + 1))


def test_intersect_examples() -> None:
    a, b = blk(10, 19), blk(30, 39)
    covered, gaps = intersect([b, a], Range(5, 35))
    assert covered == [(a, Range(10, 19)), (b, Range(30, 35))]
    assert gaps == [Range(5, 9), Range(20, 29)]
    assert intersect([], Range(1, 1)) == ([], [Range(1, 1)])
    assert intersect([a], Range(10, 19)) == ([(a, Range(10, 19))], [])


# ---- carve ---------------------------------------------------------------------------


@FAST
@given(ranges(), st.data())
def test_carve_tiles_the_block_and_changes_only_the_part(outer: Range, data: st.DataObject) -> None:
    block = blk(outer.start, outer.end, first_transferred=True)
    lo = data.draw(st.integers(outer.start, outer.end))
    hi = data.draw(st.integers(lo, outer.end))
    pieces = carve(block, Range(lo, hi), account="B", state="reserved", reserved_by="TX")
    assert 1 <= len(pieces) <= 3
    assert [(p.start, p.end) for p in pieces] == sorted((p.start, p.end) for p in pieces)
    assert serials([p.range for p in pieces]) == list(range(outer.start, outer.end + 1))
    assert pieces[0].key == block.key  # the original key is always overwritten
    for p in pieces:
        changed = lo <= p.start and p.end <= hi
        expect = replace(block, start=p.start, end=p.end)
        if changed:
            expect = replace(expect, account="B", state="reserved", reserved_by="TX")
            assert (p.start, p.end) == (lo, hi)
        assert p == expect
    assert len(pieces) == 1 + (lo > outer.start) + (hi < outer.end)


@pytest.mark.parametrize("part", [Range(5, 10), Range(10, 21), Range(12, 11), Range(9, 9)])
def test_carve_rejects_a_part_outside_the_block(part: Range) -> None:
    with pytest.raises(ValueError, match="not inside block"):
        carve(blk(10, 20), part, account="B")


# ---- malformed, overlapping_pairs, merge_ranges --------------------------------------


@FAST
@given(st.lists(ranges(well_formed=False), max_size=12))
def test_malformed_is_exactly_the_inverted_ranges(rs: list[Range]) -> None:
    assert malformed(rs) == [r for r in rs if r.start > r.end]


@FAST
@given(st.lists(ranges(well_formed=False), max_size=12))
def test_overlapping_pairs_names_every_range_that_overlaps_another(rs: list[Range]) -> None:
    ok = [r for r in rs if r.start <= r.end]
    expect = {
        a
        for i, a in enumerate(ok)
        for j, b in enumerate(ok)
        if i != j and a.start <= b.end and b.start <= a.end
    }
    got = overlapping_pairs(rs)
    assert set(got) == expect
    assert len(got) == len(set(got))


def test_overlapping_pairs_finds_a_range_nested_away_from_its_neighbour() -> None:
    # [30, 40] overlaps only [1, 100], which is not its neighbour in start order
    got = overlapping_pairs([Range(1, 100), Range(10, 20), Range(30, 40), Range(200, 300)])
    assert set(got) == {Range(1, 100), Range(10, 20), Range(30, 40)}
    assert overlapping_pairs([Range(1, 5), Range(6, 9), Range(7, 3)]) == []


@FAST
@given(st.lists(ranges(), max_size=12))
def test_merge_ranges_is_the_sorted_union_with_adjacent_ranges_joined(rs: list[Range]) -> None:
    merged = merge_ranges(rs)
    assert set(serials(merged)) == set(serials(rs))
    for prev, cur in zip(merged, merged[1:], strict=False):
        assert prev.end + 1 < cur.start  # sorted, disjoint and not even adjacent
    assert merge_ranges(merged) == merged


def test_block_keys_sort_by_serial_and_records_round_trip() -> None:
    keys = [block_key("CA0001", "MNG01", s) for s in (9, 10, 10**17, 10**18 - 1)]
    assert keys == sorted(keys)
    big = blk(10**18 - 5, 10**18 - 1, state="retired", first_transferred=True)
    rec = big.to_record()
    assert rec["start"] == str(10**18 - 5)
    assert Block.from_record(rec) == big


# ---- LedgerState.overlapping against a brute-force scan -------------------------------


def _random_layout(rnd: random.Random) -> list[Block]:
    """Blocks tiling random parts of two serial spaces of two approaches."""
    out: list[Block] = []
    for ca in ("CA0001", "CA0002"):
        for origin in ("MNG01", "JPN01"):
            cut = sorted(rnd.sample(range(1, 300), rnd.randint(0, 30)))
            for s, e in zip(cut, cut[1:], strict=False):
                if rnd.random() < 0.7:
                    out.append(blk(s, e - 1, ca_id=ca, origin=origin))
    return out


def test_overlapping_matches_a_brute_force_scan_over_random_layouts() -> None:
    rnd = random.Random(20260101)
    for _ in range(150):
        state = LedgerState()
        layout = _random_layout(rnd)
        # write the layout in pieces, with later versions splitting earlier blocks
        rnd.shuffle(layout)
        state.apply([Put("blocks", b.key, b.to_record()) for b in layout], version=0)
        splits = []
        for b in rnd.sample(layout, min(5, len(layout))):
            mid = rnd.randint(b.start, b.end)
            splits += [Put("blocks", p.key, p.to_record()) for p in carve(b, Range(mid, mid))]
        state.apply(splits, version=1)
        blocks = list(state.blocks())
        rebuilt = LedgerState(state.tables)  # the index rebuilt from the tables agrees
        for _ in range(40):
            ca, origin = rnd.choice(["CA0001", "CA0002"]), rnd.choice(["MNG01", "JPN01", "IDN01"])
            lo, hi = sorted((rnd.randint(1, 310), rnd.randint(1, 310)))
            want = Range(lo, hi)
            expect = sorted(
                (
                    x
                    for x in blocks
                    if (x.ca_id, x.origin) == (ca, origin)
                    and x.start <= want.end
                    and want.start <= x.end
                ),
                key=lambda x: x.start,
            )
            assert state.overlapping(ca, origin, want) == expect
            assert rebuilt.overlapping(ca, origin, want) == expect
