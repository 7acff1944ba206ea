"""The sequencer's pieces of a batch (``gateway.core.audit_records.in_pieces``)."""

from __future__ import annotations

import pytest

from gateway.core.audit_records import in_pieces
from gateway.core.ingest import RawInput
from gateway.core.topics import AUDIT_TOPIC


def _records(*sizes: int) -> list[RawInput]:
    return [
        RawInput(AUDIT_TOPIC, 0, offset, b"k", b"x" * size, 0) for offset, size in enumerate(sizes)
    ]


def _offsets(pieces: list[list[RawInput]]) -> list[list[int]]:
    return [[r.offset for r in piece] for piece in pieces]


def test_a_piece_ends_with_the_record_that_reaches_the_bound() -> None:
    pieces = in_pieces(_records(4, 4, 4, 30, 9, 1, 1), 10)
    # 4+4+4 >= 10; 30 alone; 9+1 >= 10; the rest
    assert _offsets(pieces) == [[0, 1, 2], [3], [4, 5], [6]]


def test_records_under_the_bound_are_one_piece_and_nothing_is_no_piece() -> None:
    assert _offsets(in_pieces(_records(1, 2, 3), 1 << 20)) == [[0, 1, 2]]
    assert in_pieces([], 10) == []


def test_every_record_is_in_one_piece_in_order() -> None:
    records = _records(*[(7 * i) % 23 for i in range(200)])
    pieces = in_pieces(records, 50)
    assert [r for piece in pieces for r in piece] == records
    assert all(sum(len(r.value) for r in piece[:-1]) < 50 for piece in pieces)


def test_a_bound_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one byte"):
        in_pieces(_records(1), 0)
