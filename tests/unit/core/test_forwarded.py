"""The ledger record ingest forwards, and the handoff that spares its second reading."""

from __future__ import annotations

import json

from gateway.core.forwarded import Handoff, forward, parse_forwarded
from gateway.core.ingest import RawInput, authenticate
from gateway.core.topics import input_topic
from tests.unit.core.a6kit import Kit


def _forwarded(kit: Kit, n: int) -> list[bytes]:
    topic = input_topic("MNG01")
    owner = kit.owner(topic)
    jcs = kit.lc.config.joint_committees_of(owner.party)
    out = []
    for i in range(n):
        data = {"registry_id": "MNG01", "account_id": f"MN-{i}", "account_type": "retirement"}
        value = kit.event_bytes("MNG01", "account.opened", data | {"holder": "h\u2028é"})
        raw = RawInput(topic, 0, i, None, value, 1_772_323_200_000 + i, 1)
        event = authenticate(raw, owner, kit.trust, kit.public_keys, jcs, max_bytes=kit.max_bytes)
        fwd = forward(event, owner, raw.timestamp_ms, None)
        assert json.loads(fwd.value) == fwd.record
        assert parse_forwarded(fwd.record) == fwd.event
        out.append(fwd.value)
    return out


def test_the_handoff_gives_back_each_record_once_and_keeps_the_latest(kit: Kit) -> None:
    topic = input_topic("MNG01")
    owner = kit.owner(topic)
    jcs = kit.lc.config.joint_committees_of(owner.party)
    handoff = Handoff(size=3)
    kept = []
    for i in range(5):
        data = {"registry_id": "MNG01", "account_id": f"MN-{i}", "account_type": "retirement"}
        value = kit.event_bytes("MNG01", "account.opened", data | {"holder": "h"})
        raw = RawInput(topic, 0, i, None, value, 1_772_323_200_000 + i, 1)
        event = authenticate(raw, owner, kit.trust, kit.public_keys, jcs, max_bytes=kit.max_bytes)
        fwd = forward(event, owner, raw.timestamp_ms, None)
        handoff.put(fwd)
        kept.append(fwd)
    # the two oldest were dropped: read back from their bytes, without an event
    for fwd in kept[:2]:
        record, got = handoff.read(bytes(fwd.value))
        assert record == fwd.record and got is None
    for fwd in kept[2:]:
        record, got = handoff.read(bytes(fwd.value))  # equal bytes, another object
        assert record is fwd.record and got is fwd.event
        assert handoff.take(fwd.value) is None  # taken once
    assert (handoff.hits, handoff.misses) == (3, 5)


def test_a_forwarded_record_reads_back_to_what_ingest_kept(kit: Kit) -> None:
    assert len(set(_forwarded(kit, 4))) == 4
