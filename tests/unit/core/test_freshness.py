"""MSG-005 in stage A: a proposal older than the limit, or ahead of its arrival, is rejected.

UKETS transaction log check -1; the worker passes ``limits.max_proposal_age_s`` and
``limits.max_clock_skew_s`` to ``ingest_step``. Notifications report acts already done and
are never stale.
"""

from __future__ import annotations

import json

import pytest

from gateway.core.decision_time import iso_ms
from gateway.core.topics import AUDIT_TOPIC
from tests.unit.core.a6kit import Kit, Pipe, rng
from tests.unit.core.arrival import AUTH, HOUR, MNG, T0, TX, issued_pipe, outcome, send


@pytest.fixture()
def pipe(kit: Kit) -> Pipe:
    return issued_pipe(kit)


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
    sent = send(pipe, "MNG01", "transfer", TX, "tx-1", T0, T0 + age_ms)
    if fresh:
        assert outcome(sent) == ("accepted", [])
    else:
        assert outcome(sent) == ("rejected", ["MSG-005"])
        assert {(b.start, b.end, b.account) for b in pipe.state.blocks()} == blocks


def test_msg005_message_says_old_or_ahead(pipe: Pipe) -> None:
    for eid, arrives, words in (("a", T0 + 2 * HOUR, "h old"), ("b", T0 - HOUR, "s ahead")):
        sent = send(pipe, "MNG01", "transfer", TX, eid, T0, arrives)
        (entry,) = [json.loads(v) for t, _, v in sent if t == AUDIT_TOPIC]
        assert entry["results"][0]["code"] == "MSG-005"
        assert words in entry["results"][0]["message"]


def test_notifications_are_never_stale(pipe: Pipe) -> None:
    sent = send(pipe, "MNG", "authorization", AUTH, "auth-1", T0, T0 + 30 * 24 * HOUR)
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
    sent = send(p, "MNG01", "transfer", TX, "tx-1", T0, T0 + 30 * 24 * HOUR)
    assert outcome(sent) == ("rejected", ["BLK-003", "QTY-002"])  # judged by the ledger
