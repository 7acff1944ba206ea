"""The reconciliation run's plain parts: the gateway's view from entries, snapshot rows, records."""

from __future__ import annotations

import json

from gateway.core.discrepancy import from_record
from gateway.core.reconcile import reconcile
from gateway.core.topics import AUDIT_TOPIC, FINDINGS_TOPIC
from gateway.services.reconciliation import gateway_view, records, snapshot_holdings


def entry(blocks: list[dict[str, object]], **extra: object) -> bytes:
    doc = {"entry_type": "decision", "outcome": "accepted", "blocks": blocks} | extra
    return json.dumps(doc).encode()


def block(
    start: int, end: int, account: str, state: str = "held", registry: str = "IDN01"
) -> dict[str, object]:
    return {
        "ca_id": "CA0002",
        "origin": "IDN01",
        "start": str(start),
        "end": str(end),
        "vintage": 2025,
        "unit_type": "JCM",
        "registry": registry,
        "account": account,
        "state": state,
    }


ACCOUNT = {"registry": "IDN01", "account_id": "ID-PP-1", "account_type": "participant-holding"}
LOG = [
    entry([], outcome="recorded", account=ACCOUNT),
    entry([block(1, 2000, "ID-PP-1")]),
    entry([block(1, 500, "ID-PP-1", registry="JPN01")]),  # later: 1-500 moved to Japan
    entry([block(501, 2000, "ID-PP-1")]),
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
