"""Searching the log: index terms from entries, and the store's search over them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.search import MAX_SERIAL, Query, SerialRange, index_of_entry, parse_itmo
from gateway.core import discrepancy as dsc
from gateway.errors import AuditError
from schemas import entries as en
from tests.unit.schemas import factories as fx

GOLDEN: dict[str, str] = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "entries-golden.json").read_text()
)


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


def by_the_models(body: bytes) -> tuple[list[tuple[str, str]], str, list[SerialRange]]:
    """What the entry models say an entry is found by (the index reads the JSON)."""
    entry = en.read_entry(body)
    assert entry is not None
    if isinstance(entry, en.TrustKeyEntry | en.PartySettingsEntry):
        who = entry.principal if isinstance(entry, en.TrustKeyEntry) else entry.party
        return sorted({("type", entry.entry_type), ("source", who)}), entry.recorded_at, []
    inp = entry.input
    found = [
        ("event", getattr(inp, "id", None)),
        ("source", getattr(inp, "source", None)),
        ("type", getattr(inp, "type", None)),
        ("outcome", entry.outcome),
        *(("code", r.code) for r in entry.results),
    ]
    ranges = set()
    if isinstance(entry, en.DecisionEntry):
        found += [("ca", entry.ca_id), ("transaction", entry.transaction_id)]
        ranges = {SerialRange(b.ca_id, b.origin, int(b.start), int(b.end)) for b in entry.blocks}
    elif isinstance(entry, en.DiscrepancyEntry) and entry.discrepancy is not None:
        found.append(("discrepancy", entry.discrepancy.discrepancy_id))
    terms = sorted({(f, v) for f, v in found if v})
    return terms, entry.decided_at, sorted(ranges, key=lambda r: (r.ca_id, r.origin, r.start))


@pytest.mark.parametrize("case", sorted(GOLDEN))
def test_the_index_reads_what_the_entry_models_read(case: str) -> None:
    body = GOLDEN[case].encode()
    assert index_of_entry(body) == by_the_models(body)
    assert index_of_entry(body)[1]  # every kind has a time


def decision_with(**changes: Any) -> bytes:
    _, body = entry(1, codes=("BLK-003",), blocks=((1, 10),), tx="T-1")
    obj = json.loads(body)
    obj.update(changes)
    return json.dumps(obj).encode()


def test_what_cannot_be_indexed() -> None:
    nothing: tuple[list[Any], str, list[Any]] = ([], "", [])
    deep = b'{"entry_type":"decision","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for body in (b"[]", b'"x"', b"{", json.dumps({"entry_type": "novel"}).encode(), deep):
        assert index_of_entry(body) == nothing
    assert index_of_entry(decision_with(input=[])) == nothing
    assert index_of_entry(decision_with(results={})) == nothing
    assert index_of_entry(decision_with(decided_at=5)) == nothing
    trust = json.loads(GOLDEN["trust-key-registered"])
    assert index_of_entry(json.dumps({**trust, "principal": 7}).encode()) == nothing
    # a field of another type is left out, the rest indexed
    terms, at, _ = index_of_entry(decision_with(ca_id=5, results=[{"code": 1}, "x", {}]))
    assert at and ("ca", "CA0001") not in terms and not [t for t in terms if t[0] == "code"]
    assert ("event", "e1") in terms


@pytest.mark.parametrize(
    ("start", "end"),
    [("01", "5"), ("1", "x"), (1, "5"), ("-1", "5"), ("9", "5"), ("1", str(MAX_SERIAL + 1))],
)
def test_a_block_that_is_not_a_serial_range_is_not_a_range(start: Any, end: Any) -> None:
    block = {"ca_id": "CA0001", "origin": "MNG01", "start": start, "end": end}
    good = {"ca_id": "CA0001", "origin": "MNG01", "start": "20", "end": "30"}
    _, _, ranges = index_of_entry(decision_with(blocks=[block, good, "x"]))
    assert ranges == [SerialRange("CA0001", "MNG01", 20, 30)]


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
