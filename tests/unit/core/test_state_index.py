"""The ledger state's indexes: every read is an index lookup, and each index says what a scan
of the tables would (the scans below are the reads the state made before it kept indexes)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.blocks import Block, Range
from gateway.core.decision_time import iso_ms
from gateway.core.state import VERSION, LedgerState, Put, TableName


def block(start: int, end: int, **changes: Any) -> Block:
    fields: dict[str, Any] = {
        "ca_id": "CA0001",
        "origin": "MNG01",
        "start": start,
        "end": end,
        "vintage": 2025,
        "unit_type": "A6.4ER",
        "registry": "MNG01",
        "account": "MN-A",
    }
    return Block(**(fields | changes))


def put_block(b: Block) -> Put:
    return Put("blocks", b.key, b.to_record())


def auth(aid: str, version: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "authorization_id": aid,
        "ca_id": "CA0001",
        "authorizing_party": "MNG",
        "version": version,
        "status": "granted",
        "purposes": "NDC",
        "first_transfer_definition": "First international transfer",
        "coverage": [{"originating_registry": "MNG01", "serial_start": "1", "serial_end": "9"}],
        "first_transferred_qty": "0",
    } | changes


def put_auth(rec: dict[str, Any]) -> Put:
    return Put("authorizations", f"{rec['ca_id']}|{rec['authorization_id']}", rec)


def transfer(tx: str, deadline_ms: int | None = 1_000, **changes: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "transaction_id": tx,
        "status": "proposed",
        "ca_id": "CA0001",
        "origin": "MNG01",
        "ranges": [{"serial_start": "1", "serial_end": "10"}],
        "first_transfer": [{"serial_start": "1", "serial_end": "10", "authorization_id": "A1"}],
    }
    if deadline_ms is not None:
        rec["deadline"] = iso_ms(deadline_ms)
    return rec | changes


def put_tx(rec: dict[str, Any]) -> Put:
    return Put("transfers", f"{rec['ca_id']}|{rec['transaction_id']}", rec)


# ---- the scans the indexes replace (the reference) ------------------------------------------


def scan(state: LedgerState, table: TableName, prefix: str) -> list[dict[str, Any]]:
    return [
        {k: v for k, v in rec.items() if k != VERSION}
        for key, rec in state.tables[table].items()
        if str(key).startswith(prefix)
    ]


def scanned_authorizations(state: LedgerState, ca_id: str, party: str) -> list[dict[str, Any]]:
    # before: highest version first, ties in table order (which a recovery could change);
    # now ties go by id, the same whatever order the tables were written in
    ordered = sorted(
        scan(state, "authorizations", f"{ca_id}|"),
        key=lambda a: (-a["version"], a["authorization_id"]),
    )
    return [a for a in ordered if a["status"] != "revoked" and a["authorizing_party"] == party]


def scanned_over(
    state: LedgerState, ca_id: str, party: str, origin: str, first: int, last: int
) -> list[dict[str, Any]]:
    # before: every authorization of the Party, whatever its coverage
    return [
        a
        for a in scanned_authorizations(state, ca_id, party)
        if any(
            c["originating_registry"] == origin
            and int(c["serial_start"]) <= last
            and int(c["serial_end"]) >= first
            for c in a.get("coverage", ())
        )
    ]


SPANS = [(1, 1), (5, 20), (9, 9), (10, 10), (11, 10**6), (0, 10**12)]


def scanned_pending(state: LedgerState, ca_id: str, auth_id: str) -> int:
    return sum(
        int(r["serial_end"]) - int(r["serial_start"]) + 1
        for tx in scan(state, "transfers", f"{ca_id}|")
        if tx["status"] == "proposed"
        for r in tx["first_transfer"]
        if r["authorization_id"] == auth_id
    )


def scanned_overdue(state: LedgerState, now_ms: int) -> list[tuple[str, str]]:
    now = iso_ms(now_ms)
    return sorted(
        (tx["deadline"], tx["transaction_id"])
        for tx in scan(state, "transfers", "")
        if tx["status"] == "proposed" and tx.get("deadline", now) < now
    )


def agrees_with_scans(state: LedgerState) -> None:
    """Every index of ``state`` (and of the state rebuilt from its tables) equals the scan."""
    for s in (state, LedgerState(state.tables)):
        for party in ("MNG", "JPN"):
            assert s.authorizations("CA0001", party) == scanned_authorizations(s, "CA0001", party)
            for origin in ("MNG01", "JPN01"):
                for first, last in SPANS:
                    want = scanned_over(s, "CA0001", party, origin, first, last)
                    assert s.authorizations_over("CA0001", party, origin, first, last) == want
        named = {a["authorization_id"] for a in scan(s, "authorizations", "")}
        for aid in sorted(named | {"A1", "A2", "A3"}):
            assert s.pending_first_transfer("CA0001", aid) == scanned_pending(s, "CA0001", aid)
        for now in (0, 1_500, 10**13):
            got = [(tx["deadline"], tx["transaction_id"]) for tx in s.overdue(now)]
            assert got == scanned_overdue(s, now)


# ---- blocks ----------------------------------------------------------------------------------


def test_blocks_are_found_by_serial_and_a_split_replaces_its_old_piece() -> None:
    state = LedgerState()
    state.apply([put_block(block(1, 100))], 1)
    assert state.overlapping("CA0001", "MNG01", Range(50, 60)) == [block(1, 100)]
    assert state.held("CA0001", "MNG01", "MNG01", "MN-A") == 100
    # a move splits the block: the piece under the same first serial replaces the old block
    pieces = [block(1, 49), block(50, 60, account="MN-B"), block(61, 100)]
    state.apply([put_block(b) for b in pieces], 2)
    assert state.overlapping("CA0001", "MNG01", Range(1, 100)) == pieces
    assert state.overlapping("CA0001", "MNG01", Range(55, 70)) == pieces[1:]
    assert state.overlapping("CA0001", "MNG01", Range(101, 200)) == []
    assert state.overlapping("CA0001", "JPN01", Range(1, 100)) == []
    assert state.held("CA0001", "MNG01", "MNG01", "MN-A") == 89
    assert state.held("CA0001", "MNG01", "MNG01", "MN-B") == 11
    # reserved units are not held
    state.apply([put_block(block(50, 60, account="MN-B", state="reserved", reserved_by="T"))], 3)
    assert state.held("CA0001", "MNG01", "MNG01", "MN-B") == 0
    assert sorted(LedgerState(state.tables).blocks(), key=lambda b: b.start) == [
        pieces[0],
        block(50, 60, account="MN-B", state="reserved", reserved_by="T"),
        pieces[2],
    ]


def test_an_older_version_is_not_applied_again_and_changes_no_index() -> None:
    state = LedgerState()
    state.apply([put_block(block(1, 10)), put_auth(auth("A1")), put_tx(transfer("T1"))], 5)
    newer = [put_block(block(1, 10, account="MN-B")), put_tx(transfer("T1", status="x"))]
    state.apply([*newer, put_auth(auth("A1", 2))], 7)
    # a redelivered older decision: no rollback in the tables or the indexes
    state.apply([put_block(block(1, 10)), put_tx(transfer("T1")), put_auth(auth("A1", 0))], 6)
    assert state.overlapping("CA0001", "MNG01", Range(1, 10)) == [block(1, 10, account="MN-B")]
    assert state.held("CA0001", "MNG01", "MNG01", "MN-A") == 0
    assert state.held("CA0001", "MNG01", "MNG01", "MN-B") == 10
    assert state.pending_first_transfer("CA0001", "A1") == 0
    assert state.overdue(10**13) == []
    assert [a["version"] for a in state.authorizations("CA0001", "MNG")] == [2]
    # the same decision re-applied is a no-op
    state.apply([put_block(block(1, 10, account="MN-B"))], 7)
    assert state.held("CA0001", "MNG01", "MNG01", "MN-B") == 10
    agrees_with_scans(state)


# ---- authorizations --------------------------------------------------------------------------


def test_authorizations_by_approach_and_party_highest_version_first_then_by_id() -> None:
    state = LedgerState()
    state.apply(
        [
            put_auth(auth("A3", 1)),
            put_auth(auth("A2", 2)),
            put_auth(auth("A1", 1)),
            put_auth(auth("J1", 1, authorizing_party="JPN")),
            put_auth(auth("B1", 1, ca_id="CA0002")),
        ],
        1,
    )
    ids = [a["authorization_id"] for a in state.authorizations("CA0001", "MNG")]
    assert ids == ["A2", "A1", "A3"]
    assert [a["authorization_id"] for a in state.authorizations("CA0001", "JPN")] == ["J1"]
    assert [a["authorization_id"] for a in state.authorizations("CA0002", "MNG")] == ["B1"]
    assert state.authorizations("CA0001", None) == []
    assert state.authorizations("CA0003", "MNG") == []
    # a new version of A3 moves it ahead; the id breaks ties
    state.apply([put_auth(auth("A3", 2))], 2)
    ids = [a["authorization_id"] for a in state.authorizations("CA0001", "MNG")]
    assert ids == ["A2", "A3", "A1"]
    # a revoked authorization leaves the index; granted again, it comes back
    state.apply([put_auth(auth("A2", 3, status="revoked"))], 3)
    assert [a["authorization_id"] for a in state.authorizations("CA0001", "MNG")] == ["A3", "A1"]
    agrees_with_scans(state)
    state.apply([put_auth(auth("A2", 4))], 4)
    ids = [a["authorization_id"] for a in state.authorizations("CA0001", "MNG")]
    assert ids == ["A2", "A3", "A1"]
    assert state.get("authorizations", "CA0001|A2") == auth("A2", 4)
    agrees_with_scans(state)


def cover(origin: str, first: int, last: int) -> dict[str, str]:
    return {"originating_registry": origin, "serial_start": str(first), "serial_end": str(last)}


def test_authorizations_over_a_span_are_those_whose_coverage_meets_it() -> None:
    state = LedgerState()
    wide = [cover("MNG01", 1, 10**9)]
    state.apply(
        [
            put_auth(auth("A1", 1, coverage=[cover("MNG01", 1, 9), cover("JPN01", 5, 20)])),
            put_auth(auth("A2", 2, coverage=[cover("MNG01", 15, 15), cover("MNG01", 30, 40)])),
            put_auth(auth("A3", 1, coverage=wide)),
            put_auth(auth("A4", 1, coverage=[])),
        ],
        1,
    )

    def over(origin: str, first: int, last: int) -> list[str]:
        found = state.authorizations_over("CA0001", "MNG", origin, first, last)
        return [a["authorization_id"] for a in found]

    assert over("MNG01", 9, 14) == ["A1", "A3"]
    assert over("MNG01", 10, 14) == ["A3"]
    assert over("MNG01", 14, 30) == ["A2", "A3"]  # A2 twice in the span, once in the answer
    assert over("JPN01", 1, 4) == []
    assert over("JPN01", 20, 25) == ["A1"]
    assert state.authorizations_over("CA0001", None, "MNG01", 1, 9) == []
    assert state.authorizations_over("CA0001", "JPN", "MNG01", 1, 9) == []
    # a new version replaces the old coverage; a revoked one leaves the index
    state.apply([put_auth(auth("A1", 3, coverage=[cover("MNG01", 100, 200)]))], 2)
    assert over("MNG01", 9, 14) == ["A3"]
    assert over("MNG01", 150, 150) == ["A1", "A3"]
    state.apply([put_auth(auth("A3", 2, status="revoked", coverage=wide))], 3)
    assert over("MNG01", 150, 150) == ["A1"]
    assert over("JPN01", 20, 25) == []
    agrees_with_scans(state)
    agrees_with_scans(state.copy())


# ---- transfers -------------------------------------------------------------------------------


def test_pending_first_transfers_count_open_transfers_only() -> None:
    state = LedgerState()
    two = [
        {"serial_start": "1", "serial_end": "10", "authorization_id": "A1"},
        {"serial_start": "20", "serial_end": "24", "authorization_id": "A2"},
    ]
    state.apply([put_tx(transfer("T1")), put_tx(transfer("T2", first_transfer=two))], 1)
    state.apply([put_tx(transfer("T3", first_transfer=[]))], 1)
    assert state.pending_first_transfer("CA0001", "A1") == 20
    assert state.pending_first_transfer("CA0001", "A2") == 5
    assert state.pending_first_transfer("CA0002", "A1") == 0
    agrees_with_scans(state)
    # answered: the transfer leaves the pending index (and the deadline index)
    state.apply([put_tx(transfer("T1", status="completed", answer="accepted"))], 2)
    assert state.pending_first_transfer("CA0001", "A1") == 10
    assert [t["transaction_id"] for t in state.overdue(10**13)] == ["T2", "T3"]
    state.apply([put_tx(transfer("T2", status="cancelled", answer=None))], 3)
    assert state.pending_first_transfer("CA0001", "A1") == 0
    assert state.pending_first_transfer("CA0001", "A2") == 0
    assert [t["transaction_id"] for t in state.overdue(10**13)] == ["T3"]
    agrees_with_scans(state)


def test_overdue_is_a_range_read_earliest_deadline_first() -> None:
    state = LedgerState()
    state.apply(
        [
            put_tx(transfer("T-late", 3_000)),
            put_tx(transfer("T-b", 1_000)),
            put_tx(transfer("T-a", 1_000)),
            put_tx(transfer("T-none", None)),  # no deadline: never overdue
            put_tx(transfer("T-done", 500, status="completed")),
        ],
        1,
    )
    assert state.overdue(1_000) == []  # a deadline is passed only after it
    assert [t["transaction_id"] for t in state.overdue(1_001)] == ["T-a", "T-b"]
    assert [t["transaction_id"] for t in state.overdue(10**13)] == ["T-a", "T-b", "T-late"]
    assert state.overdue(10**13)[0] == transfer("T-a", 1_000)  # the record, version left out
    agrees_with_scans(state)


def test_the_indexes_follow_backing_tables_after_a_rebuild() -> None:
    tables: dict[TableName, dict[str, Any]] = {"transfers": {}, "authorizations": {}}
    state = LedgerState(tables)
    state.apply([put_tx(transfer("T1")), put_auth(auth("A1"))], 1)
    assert "CA0001|T1" in tables["transfers"]
    # the backing table changes under the state (a changelog recovery): rebuild derives again
    tables["transfers"]["CA0001|T1"] = transfer("T1", status="completed") | {VERSION: 2}
    tables["authorizations"].clear()
    state.rebuild_index()
    assert state.overdue(10**13) == []
    assert state.pending_first_transfer("CA0001", "A1") == 0
    assert state.authorizations("CA0001", "MNG") == []


# ---- snapshots -------------------------------------------------------------------------------


def populated() -> LedgerState:
    state = LedgerState()
    state.apply([put_block(block(1, 100)), put_auth(auth("A1")), put_tx(transfer("T1"))], 1)
    state.apply([put_block(b) for b in (block(1, 9, state="reserved"), block(10, 100))], 2)
    state.apply([Put("accounts", "MNG01|MN-A", {"status": "open", "name": "é ✓"})], 3)
    return state


def test_a_snapshot_restores_the_tables_and_every_index() -> None:
    state = populated()
    data = state.snapshot()
    again = LedgerState.restore(data)
    assert {n: dict(t) for n, t in again.tables.items()} == {
        n: dict(t) for n, t in state.tables.items()
    }
    assert sorted(again.blocks(), key=lambda b: b.start) == sorted(
        state.blocks(), key=lambda b: b.start
    )
    assert again.held("CA0001", "MNG01", "MNG01", "MN-A") == 91
    assert again.authorizations("CA0001", "MNG") == state.authorizations("CA0001", "MNG")
    assert again.pending_first_transfer("CA0001", "A1") == 10
    assert again.overdue(10**13) == state.overdue(10**13)
    assert again.snapshot() == data  # deterministic: the same state, the same bytes
    # the version guard survives a restore
    again.apply([put_block(block(10, 100, account="MN-B"))], 1)
    assert again.held("CA0001", "MNG01", "MNG01", "MN-B") == 0


def test_equal_states_give_equal_snapshots_whatever_the_order_of_their_writes() -> None:
    a, b = LedgerState(), LedgerState()
    puts = [put_auth(auth("A1")), put_auth(auth("A2"))]
    a.apply(puts, 1)
    b.apply(puts[::-1], 1)
    assert a.snapshot() == b.snapshot()


@pytest.mark.parametrize(
    "data", [b"{}", b'{"format": "other", "tables": {}}', b'{"format": "a6gw.ledger-state.v1"}']
)
def test_restore_refuses_what_is_not_a_snapshot(data: bytes) -> None:
    with pytest.raises(ValueError):
        LedgerState.restore(data)


def test_a_copy_is_independent_of_its_original() -> None:
    state = populated()
    other = state.copy()
    other.apply([put_block(block(10, 100, account="MN-B")), put_tx(transfer("T2"))], 9)
    other.apply([put_auth(auth("A1", 3, status="revoked"))], 9)
    assert state.held("CA0001", "MNG01", "MNG01", "MN-A") == 91
    assert other.held("CA0001", "MNG01", "MNG01", "MN-A") == 0
    assert [t["transaction_id"] for t in state.overdue(10**13)] == ["T1"]
    assert [t["transaction_id"] for t in other.overdue(10**13)] == ["T1", "T2"]
    assert len(state.authorizations("CA0001", "MNG")) == 1
    assert other.authorizations("CA0001", "MNG") == []
    assert state.get("blocks", block(10, 100).key) == block(10, 100).to_record()
    agrees_with_scans(state)
    agrees_with_scans(other)
