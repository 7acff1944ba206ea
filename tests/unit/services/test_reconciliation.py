"""The reconciliation run's plain parts: the gateway's view from entries, snapshot rows, records."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gateway.core.blocks import Block
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision import decision_entry
from gateway.core.discrepancy import from_record
from gateway.core.model import Evaluation, Event, Outcome
from gateway.core.reconcile import reconcile
from gateway.core.topics import AUDIT_TOPIC, FINDINGS_TOPIC
from gateway.services.reconciliation import gateway_view, records, snapshot_holdings
from schemas.events import AccountOpened
from tests.unit.schemas.entry_cases import ISSUANCE


def entry(n: int, payload: Any, outcome: Outcome, blocks: Sequence[Block] = ()) -> bytes:
    """The stored bytes of IDN01's ``n``-th input's decision."""
    name, kind = ("account.opened", "notification") if outcome == "recorded" else ("x", "proposal")
    event = Event(
        source="IDN01",
        id=f"e-{n}",
        type=f"a6gw.{name}.v1",
        name=name,
        kind=kind,
        time="2026-05-04T03:02:00Z",
        payload=payload,
        sha256=sha256_hex(f"e-{n}".encode()),
        signer_principal="User:idn01",
        signer_role="registry",
    )
    at = "2026-05-04T03:02:01.123Z"
    return canonical_bytes(
        decision_entry(event, Evaluation(outcome), decided_at=at, blocks_after=blocks)
    )


def block(start: int, end: int, account: str, registry: str = "IDN01") -> Block:
    return Block("CA0002", "IDN01", start, end, 2025, "JCM", registry, account)


OPENED = AccountOpened(
    registry_id="IDN01", account_id="ID-PP-1", account_type="participant-holding", holder="H"
)
LOG = [
    entry(0, OPENED, "recorded"),
    entry(1, ISSUANCE, "accepted", [block(1, 2000, "ID-PP-1")]),
    entry(2, ISSUANCE, "accepted", [block(1, 500, "ID-PP-1", registry="JPN01")]),  # to Japan
    entry(3, ISSUANCE, "accepted", [block(501, 2000, "ID-PP-1")]),
]


def test_the_gateway_view_folds_the_latest_block_states() -> None:
    # The last record per (ca, origin, start) wins: 1-500 went to Japan, 501-2000 stayed.
    holdings, types = gateway_view(LOG, "IDN01")
    assert types == {("IDN01", "ID-PP-1"): "participant-holding"}
    assert [(h.start, h.end, h.account_type) for h in holdings] == [
        (501, 2000, "participant-holding")
    ]


def test_a_snapshot_that_agrees_completes_and_one_short_is_found() -> None:
    ours, types = gateway_view(LOG, "IDN01")
    rows = [
        {
            "account_id": "ID-PP-1",
            "ca_id": "CA0002",
            "origin": "IDN01",
            "serial_start": "501",
            "serial_end": "2000",
            "unit_type": "JCM",
            "vintage": 2025,
        }
    ]
    assert reconcile(ours, snapshot_holdings(rows, "IDN01", types)).status == "completed"
    rows[0]["serial_end"] = "1900"
    report = reconcile(ours, snapshot_holdings(rows, "IDN01", types))
    assert report.status == "totals-inconsistent"
    assert report.codes == ["REC-001", "REC-002"]
    items = records("IDN01", report, at_ms=1_700_000_000_000)
    topics = [topic for topic, _, _ in items]
    assert topics == [AUDIT_TOPIC, FINDINGS_TOPIC, FINDINGS_TOPIC]
    audit = json.loads(items[0][2])
    assert audit["entry_type"] == "reconciliation" and audit["outcome"] == "totals-inconsistent"
    assert [r["code"] for r in audit["results"]] == ["REC-001", "REC-002"]
    found = [from_record(json.loads(v)) for _, _, v in items[1:]]
    assert [(d.code, d.status, d.source_entry) for d in found] == [
        ("REC-001", "open", audit["entry_id"]),
        ("REC-002", "open", audit["entry_id"]),
    ]
    assert found[1].blocks == (("CA0002", "IDN01", 1901, 2000),)
    assert [k for _, k, _ in items[1:]] == [d.id.encode() for d in found]
    # The same run records the same ids (a re-sent record is deduplicated downstream).
    assert records("IDN01", report, at_ms=1_700_000_000_000) == items
