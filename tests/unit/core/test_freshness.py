"""MSG-005 in stage A: a proposal older than the limit, or ahead of its arrival, is rejected.

UKETS transaction log check -1; the worker passes ``limits.max_proposal_age_s`` and
``limits.max_clock_skew_s`` to ``ingest_step``. Notifications report acts already done and
are never stale.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.core.decision_time import iso_ms
from gateway.core.topics import AUDIT_TOPIC
from tests.unit.core.a6kit import TS, Kit, Pipe, rng

MNG, JPN = "a6.in.MNG01", "a6.in.JPN01"
HOUR = 3600_000
T0 = TS + 10 * HOUR  # well inside the demo keys' validity
TX = {
    "transaction_id": "TX-1",
    "ca_id": "CA0001",
    "originating_registry": "MNG01",
    "transferring": {"registry_id": "MNG01", "account_id": "MN-A"},
    "acquiring": {"registry_id": "MNG01", "account_id": "MN-B"},
    "blocks": [rng(1, 10)],
}


@pytest.fixture()
def pipe(kit: Kit) -> Pipe:
    """Limits of one hour and 300 s; MN-A holds MNG01 [1, 100]."""
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
    assert outcome(publish(p, "JC-JPN-MNG", "jcm.issuance.decided", jc, "jc-1", T0, T0)) == (
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
    assert outcome(publish(p, "MNG01", "issuance", iss, "iss-1", T0, T0)) == ("accepted", [])
    return p


def publish(
    p: Pipe, signer: str, name: str, data: dict[str, Any], eid: str, stamped: int, arrives: int
) -> list[tuple[str, str, bytes]]:
    """``signer`` stamps the event ``stamped`` (ms); it reaches the gateway at ``arrives``."""
    value = p.kit.event_bytes(signer, name, data, event_id=eid, time=iso_ms(stamped))
    return p.publish(MNG, eid.encode(), value, ts=arrives)


def outcome(sent: list[tuple[str, str, bytes]]) -> tuple[str, list[str]]:
    (entry,) = [json.loads(v) for t, _, v in sent if t == AUDIT_TOPIC]
    return entry["outcome"], [r["code"] for r in entry["results"]]


@pytest.mark.parametrize(
    ("age_ms", "fresh"),
    [
        (0, True),
        (HOUR, True),  # the limit itself is still fresh
        (HOUR + 1000, False),
        (30 * 24 * HOUR, False),
        (-300_000, True),  # ahead of its arrival by the tolerated skew
        (-301_000, False),
        (-9 * HOUR, False),  # (the keys are valid from T0 - 10 h)
    ],
)
def test_msg005_stale_or_future_proposal(pipe: Pipe, age_ms: int, fresh: bool) -> None:
    blocks = {(b.start, b.end, b.account) for b in pipe.state.blocks()}
    sent = publish(pipe, "MNG01", "transfer", TX, "tx-1", T0, T0 + age_ms)
    if fresh:
        assert outcome(sent) == ("accepted", [])
    else:
        assert outcome(sent) == ("rejected", ["MSG-005"])
        assert {(b.start, b.end, b.account) for b in pipe.state.blocks()} == blocks


def test_msg005_message_says_old_or_ahead(pipe: Pipe) -> None:
    for eid, arrives, words in (("a", T0 + 2 * HOUR, "h old"), ("b", T0 - HOUR, "s ahead")):
        sent = publish(pipe, "MNG01", "transfer", TX, eid, T0, arrives)
        (entry,) = [json.loads(v) for t, _, v in sent if t == AUDIT_TOPIC]
        assert entry["results"][0]["code"] == "MSG-005"
        assert words in entry["results"][0]["message"]


def test_notifications_are_never_stale(pipe: Pipe) -> None:
    auth = {
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
    sent = publish(pipe, "MNG", "authorization", auth, "auth-1", T0, T0 + 30 * 24 * HOUR)
    assert outcome(sent) == ("recorded", [])


def test_a_decided_proposal_keeps_its_decision_whenever_redelivered(pipe: Pipe) -> None:
    """One input, one decision: a redelivery is never judged fresh or stale again."""
    value = pipe.kit.event_bytes("MNG01", "transfer", TX, event_id="tx-1", time=iso_ms(T0))
    first = pipe.publish(MNG, b"tx-1", value, ts=T0)
    assert outcome(first) == ("accepted", [])
    again = pipe.publish(MNG, b"tx-1", value, ts=T0 + 48 * HOUR)
    assert outcome(again) == ("accepted", []) and again == first
    # and a proposal from the future stays rejected when it arrives again later, on time
    tx2 = TX | {"transaction_id": "TX-2", "blocks": [rng(11, 20)]}
    value = pipe.kit.event_bytes("MNG01", "transfer", tx2, event_id="tx-2", time=iso_ms(T0))
    early = pipe.publish(MNG, b"tx-2", value, ts=T0 - HOUR)
    assert outcome(early) == ("rejected", ["MSG-005"])
    assert outcome(pipe.publish(MNG, b"tx-2", value, ts=T0)) == ("rejected", ["MSG-005"])
    held = {(b.start, b.end) for b in pipe.state.blocks() if b.account == "MN-A"}
    assert (11, 20) not in held and any(s <= 11 and 20 <= e for s, e in held)


def test_no_limit_no_freshness_check(kit: Kit) -> None:
    """``ingest_step`` without ``max_age_s`` (the default) does not judge freshness."""
    p = Pipe(kit)
    p.open_accounts()
    sent = publish(p, "MNG01", "transfer", TX, "tx-1", T0, T0 + 30 * 24 * HOUR)
    assert outcome(sent) == ("rejected", ["BLK-003", "QTY-002"])  # judged by the ledger
