"""Signed events that reach the gateway at a time of their own, for the core's time tests.

A signer stamps an event at ``stamped``; its record reaches the gateway with timestamp ``ts`` of
``ts_type`` (the broker's append time by default); stage A reads it at ``now`` (by default
``ts``). ``issued_pipe`` lays out the ledger the freshness and record-time tests start from.
Imported as ``tests.unit.core.arrival``.
"""

from __future__ import annotations

import json
from typing import Any, cast

from gateway.core.decision_time import iso_ms
from gateway.core.ingest import LOG_APPEND_TIME
from gateway.core.topics import AUDIT_TOPIC, input_topic
from tests.unit.core.a6kit import TS, Kit, Pipe, rng

MNG = input_topic("MNG01")
HOUR = 3600_000
T0 = TS + 10 * HOUR  # well inside the demo keys' validity
TX = {  # MNG01 [1, 10] from MN-A to MN-B
    "transaction_id": "TX-1",
    "ca_id": "CA0001",
    "originating_registry": "MNG01",
    "transferring": {"registry_id": "MNG01", "account_id": "MN-A"},
    "acquiring": {"registry_id": "MNG01", "account_id": "MN-B"},
    "blocks": [rng(1, 10)],
}
AUTH = {  # MNG authorizes MNG01 [1, 100] (a notification: an act already done)
    "authorization_id": "A-1",
    "version": 1,
    "status": "granted",
    "ca_id": "CA0001",
    "authorizing_party": "MNG",
    "date": "2025-09-01",
    "purposes": "NDC",
    "first_transfer_definition": "First international transfer",
    "coverage": [rng(1, 100) | {"originating_registry": "MNG01"}],
}


def send(
    p: Pipe,
    signer: str,
    name: str,
    data: dict[str, Any],
    eid: str,
    stamped: int,
    ts: int,
    *,
    ts_type: int = LOG_APPEND_TIME,
    now: int | None = None,
) -> list[tuple[str, str, bytes]]:
    """``signer`` signs the event at ``stamped``; its record has timestamp ``ts`` of
    ``ts_type``; stage A reads it at ``now``."""
    value = p.kit.event_bytes(signer, name, data, event_id=eid, time=iso_ms(stamped))
    return p.publish(MNG, eid.encode(), value, ts=ts, ts_type=ts_type, now=now)


def entry_of(sent: list[tuple[str, str, bytes]]) -> dict[str, Any]:
    """The one audit entry among what a publish sent."""
    (entry,) = [json.loads(v) for t, _, v in sent if t == AUDIT_TOPIC]
    return cast(dict[str, Any], entry)


def outcome(sent: list[tuple[str, str, bytes]]) -> tuple[str, list[str]]:
    """The audit entry's outcome and the codes of its results."""
    entry = entry_of(sent)
    return entry["outcome"], [r["code"] for r in entry["results"]]


def issued_pipe(kit: Kit) -> Pipe:
    """Limits of one hour and 300 s; decision D1 recorded and MNG01 [1, 100] issued into MN-A,
    both at ``T0``."""
    p = Pipe(kit, max_age_s=3600, skew_s=300)
    p.open_accounts()
    jc = {
        "decision_id": "D1",
        "ca_id": "CA0001",
        "project_id": "MN003",
        "monitoring_period": {"start": "2025-01-01", "end": "2025-06-30"},
        "vintage": 2025,
        "quantity": "100",
        "allocation": [{"registry_id": "MNG01", "quantity": "100"}],
    }
    assert outcome(send(p, "JC-JPN-MNG", "jcm.issuance.decided", jc, "jc-1", T0, T0)) == (
        "recorded",
        [],
    )
    iss = {
        "transaction_id": "ISS-1",
        "ca_id": "CA0001",
        "registry_id": "MNG01",
        "decision_id": "D1",
        "vintage": 2025,
        "unit_type": "JCM",
        "blocks": [rng(1, 100) | {"account_id": "MN-A"}],
    }
    assert outcome(send(p, "MNG01", "issuance", iss, "iss-1", T0, T0)) == ("accepted", [])
    return p
