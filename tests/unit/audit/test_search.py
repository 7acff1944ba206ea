"""Searching the log: index terms from entries, and the store's search over them."""

from __future__ import annotations

import json

import pytest

from gateway.audit.search import Query, SerialRange, index_of_entry, parse_itmo
from gateway.errors import AuditError


def entry(
    n: int,
    *,
    source: str = "MNG01",
    outcome: str = "accepted",
    codes: tuple[str, ...] = (),
    blocks: tuple[tuple[int, int], ...] = (),
    tx: str | None = None,
    day: str = "2026-11-29",
) -> tuple[str, bytes]:
    doc = {
        "entry_id": f"ev-{n}",
        "input": {"id": f"e{n}", "source": source, "type": "a6gw.transfer.v1"},
        "ca_id": "CA0001",
        "outcome": outcome,
        "results": [{"code": c, "severity": "error"} for c in codes],
        "blocks": [
            {"ca_id": "CA0001", "origin": "MNG01", "start": str(a), "end": str(b)}
            for a, b in blocks
        ],
        "decided_at": f"{day}T08:00:00.000Z",
    } | ({"transaction_id": tx} if tx else {})
    return f"ev-{n}", json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


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
