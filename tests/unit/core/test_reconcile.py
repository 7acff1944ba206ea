"""Snapshot reconciliation: hand-made cases with exact diffs, and properties (hypothesis)
against a brute-force oracle that looks at every unit (allowed here, never in the module)."""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.blocks import Block
from gateway.core.reconcile import (
    BlockDiff,
    Cell,
    CellDiff,
    Holding,
    Place,
    block_diffs,
    compare_totals,
    holdings_from_blocks,
    reconcile,
    resolve_manually,
    trail_candidates,
)

FAST = settings(max_examples=250, deadline=None)
CA, ORIGIN = "CA0001", "MNG01"


def h(
    start: int,
    end: int,
    account: str = "MN-A",
    *,
    registry: str = "MNG01",
    account_type: str = "participant-holding",
    ca_id: str = CA,
    origin: str = ORIGIN,
    vintage: int = 2025,
    unit_type: str = "JCM",
) -> Holding:
    return Holding(registry, account, account_type, ca_id, origin, vintage, unit_type, start, end)


def place(x: Holding) -> Place:
    return (x.registry, x.account, x.account_type, x.vintage, x.unit_type)


def diff(kind: str, start: int, end: int, ours: list[Holding], theirs: list[Holding]) -> BlockDiff:
    code = {
        "missing-at-registry": "REC-002",
        "extra-at-registry": "REC-003",
        "account-differs": "REC-004",
        "attributes-differ": "REC-005",
        "held-twice": "REC-006",
    }[kind]
    return BlockDiff(
        code,
        kind,  # type: ignore[arg-type]
        CA,
        ORIGIN,
        start,
        end,
        tuple(sorted(place(x) for x in ours)),
        tuple(sorted(place(x) for x in theirs)),
    )


# ---- hand-made cases ------------------------------------------------------------------------


def test_split_range_is_missing_exactly_in_the_gap() -> None:
    ours = [h(1, 100)]
    theirs = [h(1, 40), h(60, 100)]
    r = reconcile(ours, theirs)
    assert r.status == "totals-inconsistent"
    assert r.cell_diffs == (CellDiff(("MNG01", "participant-holding", CA, 2025, "JCM"), 100, 81),)
    assert r.block_diffs == (diff("missing-at-registry", 41, 59, ours, []),)
    assert r.trail == ((CA, ORIGIN, 41, 59),)
    assert r.codes == ["REC-001", "REC-002"]
    assert (r.cells_compared, r.blocks_compared) == (1, 3)


def test_agreement_is_completed_whatever_the_fragmentation() -> None:
    ours = [h(1, 100), h(200, 250, "MN-B"), h(1, 10, origin="JPN01")]
    theirs = [h(1, 10, origin="JPN01"), h(200, 230, "MN-B"), h(51, 100), h(231, 250, "MN-B")]
    theirs.append(h(1, 50))
    r = reconcile(ours, theirs)
    assert r.status == "completed"
    assert r.cell_diffs == () and r.block_diffs == () and r.trail == ()
    assert r.scope == "every-cell"
    assert r.blocks_compared == 8
    assert r.codes == []


def test_nothing_on_either_side_is_completed() -> None:
    r = reconcile([], [])
    assert r.status == "completed" and r.cells_compared == r.blocks_compared == 0


def test_equal_totals_other_serials_is_blocks_inconsistent() -> None:
    ours = [h(1, 10)]
    theirs = [h(11, 20)]
    r = reconcile(ours, theirs)
    assert r.status == "blocks-inconsistent"
    assert r.cell_diffs == ()
    assert r.block_diffs == (
        diff("missing-at-registry", 1, 10, ours, []),
        diff("extra-at-registry", 11, 20, [], theirs),
    )
    assert r.trail == ((CA, ORIGIN, 1, 20),)  # adjacent ranges: one search


def test_moved_within_one_account_type_keeps_totals() -> None:
    ours = [h(1, 100)]
    theirs = [h(1, 30), h(31, 60, "MN-B"), h(61, 100)]
    r = reconcile(ours, theirs)
    assert r.status == "blocks-inconsistent"
    assert r.block_diffs == (diff("account-differs", 31, 60, ours, [theirs[1]]),)
    assert r.codes == ["REC-004"]


def test_moved_to_another_account_type_changes_two_cells() -> None:
    ours = [h(1, 100)]
    gov = h(31, 60, "MN-GOV", account_type="government-holding")
    theirs = [h(1, 30), gov, h(61, 100)]
    r = reconcile(ours, theirs)
    assert r.status == "totals-inconsistent"
    assert [(d.cell[1], d.ours, d.theirs) for d in r.cell_diffs] == [
        ("government-holding", 0, 30),
        ("participant-holding", 100, 70),
    ]
    assert r.block_diffs == (diff("account-differs", 31, 60, ours, [gov]),)
    assert r.codes == ["REC-001", "REC-004"]


def test_moved_to_another_registry_is_account_differs() -> None:
    ours = [h(1, 10)]
    theirs = [h(1, 10, "JP-A", registry="JPN01")]
    r = reconcile(ours, theirs)
    assert [d.kind for d in r.block_diffs] == ["account-differs"]


def test_extra_units_at_the_registry() -> None:
    ours = [h(1, 10)]
    theirs = [h(1, 10), h(11, 15), h(500, 509, origin="JPN01")]
    r = reconcile(ours, theirs)
    assert r.status == "totals-inconsistent"
    assert r.block_diffs == (
        replace(diff("extra-at-registry", 500, 509, [], [theirs[2]]), origin="JPN01"),
        diff("extra-at-registry", 11, 15, [], [theirs[1]]),
    )
    assert r.trail == ((CA, "JPN01", 500, 509), (CA, ORIGIN, 11, 15))


@pytest.mark.parametrize(
    ("change", "cells"),
    [({"vintage": 2024}, 2), ({"unit_type": "ITMO"}, 2), ({"account_type": "other"}, 2)],
)
def test_attribute_mismatch(change: dict[str, object], cells: int) -> None:
    ours = [h(1, 100)]
    theirs = [h(1, 19), replace(h(20, 29), **change), h(30, 100)]  # type: ignore[arg-type]
    r = reconcile(ours, theirs)
    assert r.status == "totals-inconsistent"
    assert len(r.cell_diffs) == cells
    assert r.block_diffs == (diff("attributes-differ", 20, 29, ours, [theirs[1]]),)
    assert r.codes == ["REC-001", "REC-005"]


def test_serials_held_twice_are_reported_once_as_rec_006() -> None:
    ours = [h(1, 20)]
    theirs = [h(1, 20), h(11, 30, "MN-B")]
    r = reconcile(ours, theirs)
    assert r.block_diffs == (
        diff("held-twice", 11, 20, ours, [theirs[0], theirs[1]]),
        diff("extra-at-registry", 21, 30, [], [theirs[1]]),
    )
    # an exact duplicate row counts twice too
    dup = reconcile([h(1, 5), h(1, 5)], [h(1, 5)])
    assert dup.block_diffs == (diff("held-twice", 1, 5, [h(1, 5), h(1, 5)], [h(1, 5)]),)
    # ... even when the other side holds it twice in the same places
    both = [h(1, 5), h(3, 9, "MN-B")]
    same = reconcile(both, list(reversed(both)))
    assert same.status == "blocks-inconsistent"
    assert same.block_diffs == (diff("held-twice", 3, 5, both, both),)


def test_des_scope_compares_only_the_inconsistent_cells() -> None:
    """A move inside one cell is invisible to totals; with other totals differing, DES
    compares blocks of those cells only. ``every_cell`` compares them all."""
    ours = [h(1, 10), h(100, 110, vintage=2024)]
    theirs = [h(1, 10, "MN-B"), h(100, 105, vintage=2024)]
    des = reconcile(ours, theirs)
    assert des.scope == "inconsistent-cells"
    assert [d.kind for d in des.block_diffs] == ["missing-at-registry"]
    assert des.blocks_compared == 2
    full = reconcile(ours, theirs, every_cell=True)
    assert full.scope == "every-cell" and full.status == "totals-inconsistent"
    assert [d.kind for d in full.block_diffs] == ["account-differs", "missing-at-registry"]
    assert full.blocks_compared == 4


def test_block_diffs_of_a_cell_subset() -> None:
    ours = [h(1, 10), h(20, 30, vintage=2024)]
    theirs: list[Holding] = []
    cell_2024: Cell = ("MNG01", "participant-holding", CA, 2024, "JCM")
    assert [(d.start, d.end) for d in block_diffs(ours, theirs, [cell_2024])] == [(20, 30)]
    assert [(d.start, d.end) for d in block_diffs(ours, theirs)] == [(1, 10), (20, 30)]
    assert block_diffs(ours, theirs, []) == []


def test_compare_totals() -> None:
    c2025: Cell = ("MNG01", "participant-holding", CA, 2025, "JCM")
    c2024: Cell = ("MNG01", "participant-holding", CA, 2024, "JCM")
    assert compare_totals({c2025: 15, c2024: 3}, {c2025: 15}) == [CellDiff(c2024, 3, 0)]


def test_trail_candidates_join_touching_ranges_per_space() -> None:
    diffs = [
        diff("missing-at-registry", 50, 60, [h(50, 60)], []),
        diff("extra-at-registry", 1, 10, [], [h(1, 10)]),
        diff("extra-at-registry", 11, 20, [], [h(11, 20, "MN-B")]),
        diff("held-twice", 55, 70, [h(55, 70)], []),
        replace(diff("extra-at-registry", 21, 30, [], [h(21, 30)]), ca_id="CA0002"),
    ]
    assert trail_candidates(diffs) == [
        (CA, ORIGIN, 1, 20),
        (CA, ORIGIN, 50, 70),
        ("CA0002", ORIGIN, 21, 30),
    ]
    assert trail_candidates([]) == []


def test_big_serials_are_exact_and_rendered_as_strings() -> None:
    big = 10**18
    r = reconcile([h(big, big + 9)], [h(big, big + 4)])
    assert r.block_diffs[0].start == big + 5
    doc = json.loads(r.to_json())
    assert doc["blocks"][0]["start"] == str(big + 5)
    assert doc["trail"] == [
        {"ca_id": CA, "origin": ORIGIN, "start": str(big + 5), "end": str(big + 9)}
    ]
    assert doc["cells"][0]["ours"] == "10" and doc["cells"][0]["theirs"] == "5"


def test_holding_must_be_a_range() -> None:
    with pytest.raises(ValueError):
        h(5, 4)
    with pytest.raises(ValueError):
        h(-1, 4)


def test_resolve_manually() -> None:
    r = reconcile([h(1, 10)], [])
    done = resolve_manually(r)
    assert done.status == "completed-with-manual-intervention"
    assert done.block_diffs == r.block_diffs
    with pytest.raises(ValueError):
        resolve_manually(reconcile([h(1, 10)], [h(1, 10)]))
    with pytest.raises(ValueError):
        resolve_manually(done)


def test_holdings_from_blocks_keeps_held_blocks_with_their_account_types() -> None:
    blocks = [
        Block(CA, ORIGIN, 1, 10, 2025, "JCM", "MNG01", "MN-A").to_record(),
        Block(CA, ORIGIN, 11, 20, 2025, "JCM", "MNG01", "MN-A", state="reserved").to_record(),
        Block(CA, ORIGIN, 21, 30, 2025, "JCM", "MNG01", "MN-RET", state="retired").to_record(),
        Block(CA, ORIGIN, 31, 40, 2024, "JCM", "JPN01", "JP-X").to_record(),
    ]
    types = {("MNG01", "MN-A"): "participant-holding"}
    assert holdings_from_blocks(blocks, types) == [
        h(1, 10),
        h(31, 40, "JP-X", registry="JPN01", account_type="unknown", vintage=2024),
    ]
    assert holdings_from_blocks([], types) == []


# ---- the per-unit oracle --------------------------------------------------------------------


def oracle_totals(holdings: Iterable[Holding]) -> dict[Cell, int]:
    out: dict[Cell, int] = defaultdict(int)
    for x in holdings:
        for _ in range(x.start, x.end + 1):
            out[x.cell] += 1
    return dict(out)


def oracle_diffs(
    ours: Iterable[Holding], theirs: Iterable[Holding], cells: Collection[Cell] | None
) -> list[BlockDiff]:
    """Every unit's places on each side, then maximal runs of the same disagreement."""

    def units(side: Iterable[Holding]) -> dict[tuple[str, str, int], tuple[Place, ...]]:
        held: dict[tuple[str, str, int], list[Place]] = defaultdict(list)
        for x in side:
            if cells is None or x.cell in cells:
                for s in range(x.start, x.end + 1):
                    held[(x.ca_id, x.origin, s)].append(place(x))
        return {k: tuple(sorted(v)) for k, v in held.items()}

    mine, other = units(ours), units(theirs)
    runs: list[list[Any]] = []
    for key in sorted(mine.keys() | other.keys()):
        op, tp = mine.get(key, ()), other.get(key, ())
        if len(op) == 1 and op == tp:
            continue
        ca_id, origin, s = key
        last = runs[-1] if runs else None
        if last and last[:2] == [ca_id, origin] and last[3] == s - 1 and last[4:] == [op, tp]:
            last[3] = s
        else:
            runs.append([ca_id, origin, s, s, op, tp])
    out = []
    for ca_id, origin, s, e, op, tp in runs:
        if len(op) > 1 or len(tp) > 1:
            kind, code = "held-twice", "REC-006"
        elif not tp:
            kind, code = "missing-at-registry", "REC-002"
        elif not op:
            kind, code = "extra-at-registry", "REC-003"
        elif (op[0][0], op[0][1]) != (tp[0][0], tp[0][1]):
            kind, code = "account-differs", "REC-004"
        else:
            kind, code = "attributes-differ", "REC-005"
        out.append(BlockDiff(code, kind, ca_id, origin, s, e, op, tp))  # type: ignore[arg-type]
    return out


# ---- random holdings ------------------------------------------------------------------------

SPACES = [(CA, ORIGIN), (CA, "JPN01"), ("CA0002", ORIGIN)]
PLACES: st.SearchStrategy[Place] = st.tuples(
    st.sampled_from(["MNG01", "JPN01"]),
    st.sampled_from(["A", "B"]),
    st.sampled_from(["ph", "gh"]),
    st.sampled_from([2024, 2025]),
    st.sampled_from(["JCM", "ITMO"]),
)
SERIAL = st.integers(min_value=0, max_value=40)


def make(space: tuple[str, str], p: Place, start: int, end: int) -> Holding:
    registry, account, account_type, vintage, unit_type = p
    return Holding(registry, account, account_type, *space, vintage, unit_type, start, end)


@st.composite
def tiling(draw: st.DrawFn) -> list[Holding]:
    """One side: per space, consecutive pieces, each held somewhere or not held."""
    out: list[Holding] = []
    for space in draw(st.lists(st.sampled_from(SPACES), min_size=1, max_size=2, unique=True)):
        cuts = sorted(draw(st.sets(SERIAL, min_size=2, max_size=10)))
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            p = draw(st.none() | PLACES)
            if p is not None:
                out.append(make(space, p, lo, hi - 1))
    return out


CHANGES = ("drop", "move", "split", "cut", "shift", "rename")


@st.composite
def variant(draw: st.DrawFn, base: list[Holding]) -> list[Holding]:
    """The other side as a registry might see it: mostly the same, a few changes."""
    out: list[Holding] = []
    for x in base:
        action = draw(st.sampled_from(["keep"] * 8 + [*CHANGES]))
        if action == "keep":
            out.append(x)
        elif action == "move":
            out.append(make((x.ca_id, x.origin), draw(PLACES), x.start, x.end))
        elif action == "split" and x.start < x.end:
            cut = draw(st.integers(x.start, x.end - 1))
            out += [replace(x, end=cut), replace(x, start=cut + 1)]
        elif action == "cut" and x.end - x.start >= 2:
            out += [replace(x, end=x.start), replace(x, start=x.end)]
        elif action == "rename":  # another account, same cell: totals cannot see it
            out.append(replace(x, account="B" if x.account == "A" else "A"))
        elif action == "shift":
            out.append(replace(x, start=x.start + 1, end=x.end + 1))
    extra = draw(st.lists(st.tuples(st.sampled_from(SPACES), PLACES, SERIAL, SERIAL), max_size=2))
    out += [make(space, p, min(a, b), max(a, b)) for space, p, a, b in extra]
    return out


@st.composite
def pairs(draw: st.DrawFn) -> tuple[list[Holding], list[Holding]]:
    ours = draw(tiling())
    theirs = draw(st.one_of(variant(ours), tiling()))
    if draw(st.booleans()):
        ours, theirs = theirs, ours
    return ours, theirs


# ---- properties -----------------------------------------------------------------------------


@FAST
@given(pairs())
def test_every_cell_matches_the_per_unit_oracle(pair: tuple[list[Holding], list[Holding]]) -> None:
    ours, theirs = pair
    r = reconcile(ours, theirs, every_cell=True)
    expected = oracle_diffs(ours, theirs, None)
    assert list(r.block_diffs) == expected
    cells = sorted(oracle_totals(ours).keys() | oracle_totals(theirs).keys())
    assert r.cells_compared == len(cells)
    differ = [c for c in cells if oracle_totals(ours).get(c, 0) != oracle_totals(theirs).get(c, 0)]
    assert [d.cell for d in r.cell_diffs] == differ
    t_ours, t_theirs = oracle_totals(ours), oracle_totals(theirs)
    assert [(d.ours, d.theirs) for d in r.cell_diffs] == [
        (t_ours.get(c, 0), t_theirs.get(c, 0)) for c in differ
    ]
    if differ:
        assert r.status == "totals-inconsistent" and expected
    elif expected:
        assert r.status == "blocks-inconsistent"
    else:
        assert r.status == "completed"


@FAST
@given(pairs())
def test_des_scope_matches_the_oracle_on_the_inconsistent_cells(
    pair: tuple[list[Holding], list[Holding]],
) -> None:
    ours, theirs = pair
    r = reconcile(ours, theirs)
    differ = {d.cell for d in r.cell_diffs}
    scope = differ if differ else None
    assert list(r.block_diffs) == oracle_diffs(ours, theirs, scope)
    assert r.status == reconcile(ours, theirs, every_cell=True).status
    if differ:
        assert r.block_diffs, "differing totals always show in the blocks of those cells"


@FAST
@given(pairs(), st.randoms(use_true_random=False))
def test_report_is_deterministic_and_canonical(
    pair: tuple[list[Holding], list[Holding]], rnd: random.Random
) -> None:
    """Shuffling either side, or splitting its blocks further, changes nothing."""
    ours, theirs = pair
    first = reconcile(ours, theirs).to_json()
    assert first == reconcile(ours, theirs).to_json()

    def reshape(side: list[Holding]) -> list[Holding]:
        out: list[Holding] = []
        for x in side:
            if x.start < x.end and rnd.random() < 0.5:
                cut = rnd.randint(x.start, x.end - 1)
                out += [replace(x, end=cut), replace(x, start=cut + 1)]
            else:
                out.append(x)
        rnd.shuffle(out)
        return out

    again = reconcile(reshape(ours), reshape(theirs))
    doc = json.loads(again.to_json())
    doc["counts"]["blocks_compared"] = json.loads(first)["counts"]["blocks_compared"]
    assert json.dumps(doc, sort_keys=True, separators=(",", ":")) == first


@FAST
@given(pairs())
def test_swapping_sides_mirrors_the_report(pair: tuple[list[Holding], list[Holding]]) -> None:
    ours, theirs = pair
    mirror = {
        "missing-at-registry": "extra-at-registry",
        "extra-at-registry": "missing-at-registry",
    }
    there = reconcile(ours, theirs, every_cell=True)
    back = reconcile(theirs, ours, every_cell=True)
    assert [(d.kind, d.start, d.end, d.ours, d.theirs) for d in there.block_diffs] == [
        (mirror.get(d.kind, d.kind), d.start, d.end, d.theirs, d.ours) for d in back.block_diffs
    ]
    assert [(d.cell, d.ours, d.theirs) for d in there.cell_diffs] == [
        (d.cell, d.theirs, d.ours) for d in back.cell_diffs
    ]


@FAST
@given(pairs())
def test_trail_covers_exactly_the_serials_in_dispute(
    pair: tuple[list[Holding], list[Holding]],
) -> None:
    ours, theirs = pair
    r = reconcile(ours, theirs, every_cell=True)
    disputed = {(d.ca_id, d.origin, s) for d in r.block_diffs for s in range(d.start, d.end + 1)}
    covered = {(c, o, s) for c, o, lo, hi in r.trail for s in range(lo, hi + 1)}
    assert covered == disputed
    for a, b in zip(r.trail, r.trail[1:], strict=False):
        assert a[:2] < b[:2] or a[3] + 1 < b[2], "joined: no two trail ranges touch"
