"""What the worker's hooks count: facts of audit entries, a sequenced batch's counts, which
items a store appended, and the partition gauges of the partitions owned now."""

from __future__ import annotations

import json
from pathlib import Path

from gateway.observe import metrics as m
from gateway.observe.tally import (
    UNKNOWN,
    EntryTally,
    InputTally,
    Positions,
    arrival_s,
    entry_facts,
    split_appended,
)

GOLDEN = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "entries-golden.json").read_text()
)


def value(name: str, **labels: str) -> float:
    got = m.REGISTRY.get_sample_value(name, labels)
    return 0.0 if got is None else got


def test_facts_of_every_kind_of_entry() -> None:
    rejected = entry_facts(GOLDEN["decision-rejected"].encode())
    assert (rejected.entry_type, rejected.outcome) == ("decision", "rejected")
    assert rejected.codes and all(c.count("-") == 1 for c in rejected.codes)
    accepted = entry_facts(GOLDEN["decision-accepted"].encode())
    assert accepted.codes == () and accepted.decided_at == "2026-05-04T03:02:01.123Z"
    dead = entry_facts(GOLDEN["dead-letter"].encode())
    assert (dead.entry_type, dead.outcome, dead.codes) == (
        "dead-letter",
        "dead-lettered",
        ("MSG-001",),
    )
    opened = entry_facts(GOLDEN["discrepancy-opened"].encode())
    assert opened.discrepancy is not None and opened.discrepancy[1] == "open"
    command = entry_facts(GOLDEN["discrepancy-command"].encode())
    assert command.discrepancy is not None and command.discrepancy[1] in (
        "acknowledged",
        "resolved",
    )
    assert entry_facts(GOLDEN["discrepancy-refused-unknown"].encode()).discrepancy is None
    for name, body in GOLDEN.items():
        facts = entry_facts(body.encode())
        assert facts.entry_type == json.loads(body)["entry_type"], name


def test_bytes_that_are_no_entry_are_unknown() -> None:
    assert entry_facts(b"not json") == UNKNOWN
    assert entry_facts(b"[1, 2]") == UNKNOWN


def test_arrival_is_read_from_decided_at() -> None:
    assert arrival_s("1970-01-01T00:00:01.500Z") == 1.5
    assert arrival_s("yesterday") is None


def test_a_batch_is_counted_by_kind_outcome_and_code() -> None:
    state = m.AuditState()
    tally = EntryTally(state, clock=lambda: arrival_s("2026-05-04T03:02:03.123Z") or 0.0)
    names = ("decision-accepted", "decision-rejected", "dead-letter", "discrepancy-opened")
    before = {
        "accepted": value("a6gw_decisions_total", outcome="accepted"),
        "rejected": value("a6gw_decisions_total", outcome="rejected"),
        "dead": value("a6gw_dead_letters_total", code="MSG-001"),
        "latency": value("a6gw_decision_latency_seconds_count"),
        "le2": value("a6gw_decision_latency_seconds_bucket", le="2.5"),
        "opened": value("a6gw_audit_entries_total", entry_type="discrepancy", outcome="open"),
    }
    tally.appended([GOLDEN[n].encode() for n in names])
    assert value("a6gw_decisions_total", outcome="accepted") == before["accepted"] + 1
    assert value("a6gw_decisions_total", outcome="rejected") == before["rejected"] + 1
    assert value("a6gw_dead_letters_total", code="MSG-001") == before["dead"] + 1
    opened = value("a6gw_audit_entries_total", entry_type="discrepancy", outcome="open")
    assert opened == before["opened"] + 1
    # two decisions, each 2 s after its arrival
    assert value("a6gw_decision_latency_seconds_count") == before["latency"] + 2
    assert value("a6gw_decision_latency_seconds_bucket", le="2.5") == before["le2"] + 2
    assert list(state.statuses().values()).count(1) == 1


def test_re_sent_decisions_are_counted_apart() -> None:
    before = value("a6gw_decisions_resent_total", outcome="accepted")
    decided = value("a6gw_decisions_total", outcome="accepted")
    dup = value("a6gw_audit_duplicates_total", entry_type="decision")
    EntryTally(m.AuditState()).duplicates([GOLDEN["decision-accepted"].encode()])
    assert value("a6gw_decisions_resent_total", outcome="accepted") == before + 1
    assert value("a6gw_audit_duplicates_total", entry_type="decision") == dup + 1
    assert value("a6gw_decisions_total", outcome="accepted") == decided


def test_gateway_faults_are_dead_letters_with_a_gwf_code() -> None:
    body = json.loads(GOLDEN["dead-letter"])
    body["results"] = [{"blocks": [], "code": "GWF-001", "message": "ledger: KeyError"}]
    faults = value("a6gw_gateway_faults_total", code="GWF-001")
    EntryTally(m.AuditState()).appended([json.dumps(body).encode()])
    assert value("a6gw_gateway_faults_total", code="GWF-001") == faults + 1


def test_split_appended_looks_nothing_up_when_all_were_appended() -> None:
    items = [("a", b"1"), ("b", b"2")]

    def index_of(_: str) -> int | None:
        raise AssertionError("no lookup when the store appended them all")

    assert split_appended(items, 2, index_of, 10) == ([b"1", b"2"], [])


def test_split_appended_tells_new_from_already_logged_and_repeated() -> None:
    items = [("old", b"o"), ("new", b"n"), ("new", b"n2"), ("next", b"x")]
    where = {"old": 3, "new": 10, "next": 11}
    assert split_appended(items, 2, where.get, 10) == ([b"n", b"x"], [b"o", b"n2"])


def test_inputs_are_counted_per_topic_a_batch_at_a_time() -> None:
    tally = InputTally("unit-agent")
    tally.inputs(["a.in.X", "a.in.X", "a.in.Y"])
    tally.inputs(["a.in.X"])
    tally.batch()
    assert value("a6gw_inputs_total", agent="unit-agent", topic="a.in.X") == 3
    assert value("a6gw_inputs_total", agent="unit-agent", topic="a.in.Y") == 1
    assert value("a6gw_batches_total", agent="unit-agent") == 1


def test_partitions_no_longer_owned_leave_the_gauges() -> None:
    positions = Positions()
    lag = positions.update([("t.unit", 0, "ingest", 10, 7), ("t.unit", 1, "ingest", 5, 5)])
    assert lag == {"t.unit": 3}
    assert value("a6gw_partition_lag", topic="t.unit", partition="0", agent="ingest") == 3
    positions.update([("t.unit", 1, "ingest", 6, 6)])
    assert (
        m.REGISTRY.get_sample_value(
            "a6gw_partition_lag", {"topic": "t.unit", "partition": "0", "agent": "ingest"}
        )
        is None
    )
    assert value("a6gw_partition_end_offset", topic="t.unit", partition="1", agent="ingest") == 6
