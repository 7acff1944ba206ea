"""An input's time is its arrival: the broker's LogAppendTime, or the gateway's clock.

A producer's own record timestamp (CreateTime) is believed only within
``limits.max_clock_skew_s`` of the gateway's clock when stage A first reads the record;
freshness (MSG-005), key validity (MSG-002), the notification clock check (MSG-009) and
``decided_at`` are judged at that arrival, and a redelivery keeps the first reading's time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.core.decision_time import iso_ms
from gateway.core.ingest import CREATE_TIME
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC, FINDINGS_TOPIC
from tests.unit.core.a6kit import Kit, Pipe
from tests.unit.core.arrival import AUTH, HOUR, MNG, T0, TX, entry_of, issued_pipe, send

DAY = 24 * HOUR


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture()
def pipe(kit: Kit) -> Pipe:
    return issued_pipe(kit)


def codes(entry: dict[str, Any]) -> list[str]:
    return [r["code"] for r in entry["results"]]


def test_a_back_dated_create_time_proposal_is_stale(pipe: Pipe) -> None:
    """Signed three days ago and published with a matching back-dated CreateTime."""
    now = T0 + 3 * DAY
    sent = send(pipe, "MNG01", "transfer", TX, "tx-1", T0, T0, ts_type=CREATE_TIME, now=now)
    entry = entry_of(sent)
    assert (entry["outcome"], codes(entry)) == ("rejected", ["MSG-005"])
    assert entry["decided_at"] == iso_ms(now)


def test_a_create_time_within_the_skew_is_believed(pipe: Pipe) -> None:
    ts = T0 + 100_000
    now = ts + 250_000
    sent = send(pipe, "MNG01", "transfer", TX, "tx-1", T0, ts, ts_type=CREATE_TIME, now=now)
    entry = entry_of(sent)
    assert (entry["outcome"], entry["decided_at"]) == ("accepted", iso_ms(ts))


def test_log_append_time_is_the_arrival_however_late_it_is_read(pipe: Pipe) -> None:
    """The broker's time: a worker reading a backlog three days late judges it on time."""
    sent = send(pipe, "MNG01", "transfer", TX, "tx-1", T0, T0 + 1000, now=T0 + 3 * DAY)
    entry = entry_of(sent)
    assert (entry["outcome"], entry["decided_at"]) == ("accepted", iso_ms(T0 + 1000))


def test_a_key_expired_at_arrival_is_refused_despite_a_back_dated_record(kit: Kit) -> None:
    """The demo keys expire at 2031-01-01; the event and its record say December 2030."""
    p = Pipe(kit)
    data = {
        "registry_id": "MNG01",
        "account_id": "MN-NEW",
        "account_type": "participant-holding",
        "holder": "someone",
    }
    back = _ms("2030-12-01T00:00:00")
    now = _ms("2031-01-02T00:00:00")
    sent = send(p, "MNG01", "account.opened", data, "acc-1", back, back, ts_type=0, now=now)
    entry = entry_of(sent)
    assert (entry["outcome"], codes(entry)) == ("dead-lettered", ["MSG-002"])
    assert "not valid at 2031-01-02" in entry["results"][0]["message"]
    assert entry["decided_at"] == iso_ms(now)
    assert [t for t, _, _ in sent] == [DLQ_TOPIC, AUDIT_TOPIC]


def test_a_redelivery_keeps_the_first_arrival(kit: Kit) -> None:
    """Read first just before the key expires, redelivered after: still the one decision."""
    p = Pipe(kit)
    data = {
        "registry_id": "MNG01",
        "account_id": "MN-NEW",
        "account_type": "participant-holding",
        "holder": "someone",
    }
    ts = _ms("2030-12-31T23:58:00")
    value = kit.event_bytes("MNG01", "account.opened", data, event_id="acc-1", time=iso_ms(ts))
    first = p.publish(MNG, b"acc-1", value, ts=ts, ts_type=CREATE_TIME, now=ts + 1000)
    assert entry_of(first)["outcome"] == "recorded"
    later = _ms("2031-01-03T00:00:00")
    again = p.publish(MNG, b"acc-1", value, ts=ts, ts_type=CREATE_TIME, now=later)
    assert again == first
    assert p.seen["MNG01|acc-1"]["arrival_ms"] == ts


def test_an_unreadable_record_is_dated_at_its_arrival(kit: Kit) -> None:
    p = Pipe(kit)
    sent = p.publish(MNG, b"x", b"junk", ts=T0 - 3 * DAY, ts_type=CREATE_TIME, now=T0)
    entry = entry_of(sent)
    assert (entry["outcome"], entry["decided_at"]) == ("dead-lettered", iso_ms(T0))


@pytest.mark.parametrize(("ahead_ms", "late"), [(300_000, False), (301_000, True)])
def test_msg009_a_notification_dated_after_its_arrival(
    pipe: Pipe, ahead_ms: int, late: bool
) -> None:
    sent = send(pipe, "MNG", "authorization", AUTH, "auth-1", T0 + ahead_ms, T0, now=T0)
    entry = entry_of(sent)
    if not late:
        assert (entry["outcome"], codes(entry)) == ("recorded", [])
        return
    assert (entry["outcome"], codes(entry)) == ("discrepancy", ["MSG-009"])
    assert "after its arrival" in entry["results"][0]["message"]
    (finding,) = [json.loads(v) for t, _, v in sent if t == FINDINGS_TOPIC]
    assert finding["code"] == "MSG-009"
    assert pipe.state.get("authorizations", "A-1|1") is None
