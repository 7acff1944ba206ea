"""Searching the log: index terms from entries, and the store's search over them."""

from __future__ import annotations

import json

import pytest

from gateway.audit.search import Query, SerialRange, index_of_entry, parse_itmo
from gateway.core import discrepancy as dsc
from gateway.errors import AuditError
from tests.unit.schemas import factories as fx


def entry(
    n: int,
    *,
    source: str = "MNG01",
    outcome: fx.Outcome = "accepted",
    codes: tuple[str, ...] = (),
    blocks: tuple[tuple[int, int], ...] = (),
    tx: str | None = None,
    day: str = "2026-11-29",
) -> tuple[str, bytes]:
    e = fx.decision(
        f"e{n}",
        source=source,
        outcome=outcome,
        results=[fx.result(c) for c in codes],
        blocks=[fx.block(a, b) for a, b in blocks],
        transaction_id=tx,
        decided_at=f"{day}T08:00:00.000Z",
    )
    return e.entry_id, fx.wire_bytes(e)


def test_index_terms_of_an_entry() -> None:
    _, body = entry(1, codes=("BLK-003", "BLK-007"), blocks=((1, 10), (50, 60)), tx="T-1")
    terms, decided, ranges = index_of_entry(body)
    assert ("code", "BLK-003") in terms and ("code", "BLK-007") in terms
    assert ("transaction", "T-1") in terms and ("event", "e1") in terms
    assert ("source", "MNG01") in terms and ("ca", "CA0001") in terms
    assert decided == "2026-11-29T08:00:00.000Z"
    assert ranges == [SerialRange("CA0001", "MNG01", 1, 10), SerialRange("CA0001", "MNG01", 50, 60)]
    assert index_of_entry(b"not json") == ([], "", [])
    assert index_of_entry(b'{"input": 5}') == ([], "", [])
    # a JSON object the entry models refuse is stored but not searchable
    partial = {"entry_id": "ev-1", "input": {"id": "e1"}, "outcome": "accepted"}
    assert index_of_entry(json.dumps(partial).encode()) == ([], "", [])


def test_index_terms_of_a_discrepancy_entry() -> None:
    d = dsc.Discrepancy(
        id=dsc.discrepancy_id("decision", "ev-1"),
        code="BLK-004",
        severity="error",
        registries=("MNG01",),
        blocks=(),
        first_seen="2026-11-29T10:00:00.000Z",
        found_by="decision",
        source_entry="ev-1",
    )
    terms, decided, ranges = index_of_entry(fx.wire_bytes(fx.opened(d)))
    assert ("discrepancy", d.id) in terms and ("code", "BLK-004") in terms
    assert ("outcome", "open") in terms and ("source", "decision") in terms
    assert decided == "2026-11-29T10:00:00.000Z" and ranges == []


def test_itmo_identifiers() -> None:
    assert parse_itmo("CA0001:MNG01:42") == SerialRange("CA0001", "MNG01", 42, 42)
    assert parse_itmo("CA0001:MNG01:1-5000") == SerialRange("CA0001", "MNG01", 1, 5000)
    for bad in ("CA0001:MNG01", "CA0001:MNG01:x", "CA0001:MNG01:9-1", "::1"):
        with pytest.raises(AuditError) as err:
            parse_itmo(bad)
        assert err.value.code == "AUD-QUERY"


def test_a_query_needs_a_known_criterion() -> None:
    with pytest.raises(AuditError):
        Query()
    with pytest.raises(AuditError):
        Query((("colour", "red"),))
