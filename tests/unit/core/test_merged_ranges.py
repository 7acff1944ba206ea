"""Findings, notices and discrepancies name serial ranges merged, never the ledger's pieces.

The ledger keeps a range in pieces (a move carves a block in up to three); what the gateway
tells a registry or an operator joins adjacent pieces of one serial space. Entries already
logged keep the pieces they were written with, and every reader still takes them.
"""

from __future__ import annotations

from typing import Any

import pytest
from a6book import Book, only, ranges_of

from gateway.core import discrepancy as dsc
from gateway.core.blocks import Range
from gateway.core.model import Finding

MA, MB, JA = ("MNG01", "MN-A"), ("MNG01", "MN-B"), ("JPN01", "JP-A")
XFAIL = pytest.mark.xfail(strict=True, reason="issue 14 #9: findings list merged ranges")


def _pieces(book: Book) -> None:
    """MNG01's [1, 100] in five pieces: MN-A holds 1-10, 21-30, 41-100; MN-B 11-20, 31-40."""
    assert book.transfer(MA, MB, [(11, 20)], tx="P1").outcome == "accepted"
    assert book.transfer(MA, MB, [(31, 40)], tx="P2").outcome == "accepted"
    assert len([b for b in book.state.blocks() if b.origin == "MNG01"]) == 5


@XFAIL
def test_serials_already_issued_are_one_range(book: Book) -> None:
    _pieces(book)
    assert only(book.issue("MNG01", [(1, 100, "MN-A")]), "BLK-004") == [(1, 100)]


@XFAIL
def test_units_not_held_are_one_range(book: Book) -> None:
    _pieces(book)
    ev = book.transfer(JA, ("JPN01", "JP-B"), [(1, 100)], signer="JPN01")
    assert ranges_of(ev, "BLK-003") == [(1, 100)]


@XFAIL
def test_terminal_units_are_one_range(book: Book) -> None:
    assert book.terminal("retirement", "MNG01", "MN-A", [(1, 10)]).outcome == "accepted"
    assert book.terminal("retirement", "MNG01", "MN-A", [(11, 20)]).outcome == "accepted"
    assert only(book.transfer(MA, MB, [(1, 20)]), "BLK-007") == [(1, 20)]


@XFAIL
def test_a_proposal_notice_names_merged_ranges(book: Book) -> None:
    ev = book.transfer(MA, JA, [(11, 20), (1, 10), (30, 40)])
    (notice,) = ev.notices
    assert notice.body["ranges"] == [
        {"serial_start": "1", "serial_end": "20"},
        {"serial_start": "30", "serial_end": "40"},
    ]


def _old_entry(blocks: list[tuple[int, int]]) -> dict[str, Any]:
    """A decision entry as logged before ranges were merged: the result lists pieces."""
    return {
        "entry_type": "decision",
        "entry_id": "ev-old",
        "outcome": "discrepancy",
        "ca_id": "CA0001",
        "input": {"source": "MNG01", "signer": "MNG01", "id": "e1", "type": "a6gw.x.v1"},
        "results": [
            {
                "code": "BLK-004",
                "message": "serials already recorded elsewhere",
                "blocks": [{"serial_start": str(s), "serial_end": str(e)} for s, e in blocks],
            }
        ],
        "decided_at": "2026-11-29T10:00:00.000Z",
    }


@XFAIL
def test_a_discrepancy_read_from_an_old_entry_names_merged_blocks() -> None:
    found = dsc.decision_finding(_old_entry([(5001, 5010), (5011, 5100), (6000, 6001)]))
    assert found is not None
    assert found.blocks == (("CA0001", "", 5001, 5100), ("CA0001", "", 6000, 6001))


@XFAIL
def test_an_old_discrepancy_record_with_pieces_is_read_and_shown_merged() -> None:
    old = dsc.record(
        dsc.Discrepancy(
            id="dsc-old",
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
    entry = {"entry_type": dsc.ENTRY_TYPE, "discrepancy": old}
    (d,) = dsc.fold([entry]).values()
    assert d.blocks == (("CA0001", "MNG01", 5001, 5100), ("CA0001", "JPN01", 5101, 5200))


def test_a_finding_about_the_senders_own_ranges_keeps_them_as_sent(book: Book) -> None:
    """BLK-001 and BLK-002 name the ranges the sender wrote, backwards or overlapping."""
    ev = book.transfer(MA, MB, [(1, 50), (10, 20), (51, 60), (80, 70)])
    assert ranges_of(ev, "BLK-002") == [(1, 50), (10, 20)]
    assert ranges_of(ev, "BLK-001") == [(80, 70)]
    assert Finding("BLK-001", "x", (Range(9, 3),)).wire()["blocks"] == [
        {"serial_start": "9", "serial_end": "3"}
    ]
