"""Findings, notices and discrepancies name serial ranges merged, never the ledger's pieces.

The ledger keeps a range in pieces (a move carves a block in up to three); what the gateway
tells a registry or an operator joins adjacent pieces of one serial space. Entries already
logged keep the pieces they were written with, and every reader still takes them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import discrepancy as dsc
from gateway.core.blocks import Range, coalesce
from gateway.core.model import Finding
from gateway.core.summary_check import refs
from gateway.core.summary_log import Counted
from tests.unit.core.a6book import Book, only, ranges_of
from tests.unit.schemas import factories as fx

MA, MB, JA = ("MNG01", "MN-A"), ("MNG01", "MN-B"), ("JPN01", "JP-A")


def _pieces(book: Book) -> None:
    """MNG01's [1, 100] in five pieces: MN-A holds 1-10, 21-30, 41-100; MN-B 11-20, 31-40."""
    assert book.transfer(MA, MB, [(11, 20)], tx="P1").outcome == "accepted"
    assert book.transfer(MA, MB, [(31, 40)], tx="P2").outcome == "accepted"
    assert len([b for b in book.state.blocks() if b.origin == "MNG01"]) == 5


def test_serials_already_issued_are_one_range(book: Book) -> None:
    _pieces(book)
    assert only(book.issue("MNG01", [(1, 100, "MN-A")]), "BLK-004") == [(1, 100)]


def test_units_not_held_are_one_range(book: Book) -> None:
    _pieces(book)
    ev = book.transfer(JA, ("JPN01", "JP-B"), [(1, 100)], signer="JPN01")
    assert ranges_of(ev, "BLK-003") == [(1, 100)]


def test_terminal_units_are_one_range(book: Book) -> None:
    assert book.terminal("retirement", "MNG01", "MN-A", [(1, 10)]).outcome == "accepted"
    assert book.terminal("retirement", "MNG01", "MN-A", [(11, 20)]).outcome == "accepted"
    assert only(book.transfer(MA, MB, [(1, 20)]), "BLK-007") == [(1, 20)]


def test_a_proposal_notice_names_merged_ranges(book: Book) -> None:
    ev = book.transfer(MA, JA, [(11, 20), (1, 10), (30, 40)])
    (notice,) = ev.notices
    assert notice.body["ranges"] == [
        {"serial_start": "1", "serial_end": "20"},
        {"serial_start": "30", "serial_end": "40"},
    ]


def _old_entry(blocks: list[tuple[int, int]]) -> bytes:
    """A decision entry as logged before ranges were merged: the result lists pieces."""
    entry = fx.decision(
        "e1",
        type_="a6gw.x.v1",
        kind="notification",
        outcome="discrepancy",
        results=[fx.result("BLK-004", "serials already recorded elsewhere", blocks)],
        decided_at="2026-11-29T10:00:00.000Z",
    )
    return fx.wire_bytes(entry)


def test_a_discrepancy_read_from_an_old_entry_names_merged_blocks() -> None:
    found = dsc.decision_finding(_old_entry([(5001, 5010), (5011, 5100), (6000, 6001)]))
    assert found is not None
    assert found.blocks == (("CA0001", "", 5001, 5100), ("CA0001", "", 6000, 6001))


OLD_ID = dsc.discrepancy_id("reconciliation", "rec-old")


def test_an_old_discrepancy_record_with_pieces_is_read_and_shown_merged() -> None:
    old = dsc.record(
        dsc.Discrepancy(
            id=OLD_ID,
            code="REC-002",
            severity="error",
            registries=("JPN01",),
            blocks=(),
            first_seen="2026-11-29T10:00:00.000Z",
        )
    ) | {
        "blocks": [
            {"ca_id": "CA0001", "origin": "MNG01", "start": "5001", "end": "5010"},
            {"ca_id": "CA0001", "origin": "MNG01", "start": "5011", "end": "5100"},
            {"ca_id": "CA0001", "origin": "JPN01", "start": "5101", "end": "5200"},
        ]
    }
    entry = fx.opened(
        dsc.Discrepancy(
            id=OLD_ID,
            code="REC-002",
            severity="error",
            registries=("JPN01",),
            blocks=(),
            first_seen="2026-11-29T10:00:00.000Z",
        )
    ).wire()
    entry["discrepancy"] = old  # as logged: the ledger's pieces
    (d,) = dsc.fold([entry]).values()
    assert d.blocks == (("CA0001", "MNG01", 5001, 5100), ("CA0001", "JPN01", 5101, 5200))


def test_a_summary_finding_names_the_blocks_behind_a_row_merged() -> None:
    """The blocks behind a computed row come from action rows, one per ledger piece."""
    rows = [
        Counted("ev-1", "CA0001", "MNG01", 1, 1000, 1000, "First transfer"),
        Counted("ev-1", "CA0001", "MNG01", 1001, 2000, 1000, "First transfer"),
        Counted("ev-2", "CA0001", "MNG01", 2401, 2500, 100, "First transfer"),
        Counted("ev-3", "CA0002", "IDN01", 1, 10, 10, "First transfer"),
    ]
    assert refs(rows) == (
        ("CA0001", "MNG01", 1, 2000),
        ("CA0001", "MNG01", 2401, 2500),
        ("CA0002", "IDN01", 1, 10),
    )


def test_a_finding_about_the_senders_own_ranges_keeps_them_as_sent(book: Book) -> None:
    """BLK-001 and BLK-002 name the ranges the sender wrote, backwards or overlapping."""
    ev = book.transfer(MA, MB, [(1, 50), (10, 20), (51, 60), (80, 70)])
    assert ranges_of(ev, "BLK-002") == [(1, 50), (10, 20)]
    assert ranges_of(ev, "BLK-001") == [(80, 70)]
    assert Finding("BLK-001", "x", (Range(9, 3),)).wire()["blocks"] == [
        {"serial_start": "9", "serial_end": "3"}
    ]


# ---- the merge, against a set-of-serials model -------------------------------------------

KEYS = [("CA0001", "MNG01", 2025), ("CA0001", "MNG01", 2026), ("CA0001", "JPN01", 2025)]
Piece = tuple[tuple[str, str, int], Range]


@st.composite
def pieces(draw: st.DrawFn) -> list[Piece]:
    """Pieces of a few keys, small serials so that they touch and overlap often; now and
    then a backwards one."""
    out: list[Piece] = []
    for _ in range(draw(st.integers(0, 12))):
        start = draw(st.integers(0, 60))
        end = start + draw(st.integers(-3, 12))
        out.append((draw(st.sampled_from(KEYS)), Range(start, end)))
    return out


def _serials(ps: list[Piece]) -> set[tuple[tuple[str, str, int], int]]:
    return {(k, s) for k, r in ps for s in range(r.start, r.end + 1)}


def _runs(serials: set[int]) -> int:
    """How many maximal runs of consecutive serials the set has."""
    return sum(1 for s in serials if s - 1 not in serials)


@settings(max_examples=400, deadline=None)
@given(pieces())
def test_coalesce_keeps_each_keys_serials_in_the_fewest_ranges(ps: list[Piece]) -> None:
    out = coalesce(ps)
    assert _serials(out) == _serials(ps)  # no serial gained or lost, none changes its key
    for key in {k for k, _ in ps}:
        well = [r for k, r in out if k == key and r.start <= r.end]
        # sorted, disjoint and never adjacent: one range per maximal run of serials
        assert all(b.start > a.end + 1 for a, b in zip(well, well[1:], strict=False))
        assert len(well) == _runs({s for k, s in _serials(ps) if k == key})
        # a backwards range names no serial: kept as it was, in its order
        assert [r for k, r in out if k == key and r.start > r.end] == [
            r for k, r in ps if k == key and r.start > r.end
        ]
    assert coalesce(out) == out  # merging a merged list changes nothing


@settings(max_examples=200, deadline=None)
@given(pieces(), st.randoms(use_true_random=False))
def test_coalesce_does_not_depend_on_the_order_of_pieces(ps: list[Piece], rnd: Any) -> None:
    shuffled = list(ps)
    rnd.shuffle(shuffled)

    def by_key(xs: list[Piece]) -> dict[Any, list[Range]]:
        out: dict[Any, list[Range]] = {}
        for k, r in coalesce(xs):
            if r.start <= r.end:
                out.setdefault(k, []).append(r)
        return out

    assert by_key(shuffled) == by_key(ps)


@settings(max_examples=200, deadline=None)
@given(pieces())
def test_findings_and_discrepancies_name_the_serials_they_were_given(ps: list[Piece]) -> None:
    ranges = [r for _, r in ps]
    finding = Finding("BLK-003", "x", tuple(ranges))
    anywhere = ("", "", 0)
    assert _serials([(anywhere, r) for r in finding.ranges]) == _serials(
        [(anywhere, r) for r in ranges]
    )
    assert Finding("BLK-002", "x", tuple(ranges), as_sent=True).ranges == tuple(ranges)
    blocks = tuple((k[0], k[1], r.start, r.end) for k, r in ps if r.start <= r.end)
    d = dsc.Discrepancy("dsc-1", "REC-002", "error", ("JPN01",), blocks, "2026-11-29T10:00:00Z")
    want = {((c, o), s) for c, o, a, b in blocks for s in range(a, b + 1)}
    assert {((c, o), s) for c, o, a, b in d.blocks for s in range(a, b + 1)} == want
    assert dsc.from_record(dsc.record(d)) == d  # a merged record reads back unchanged
