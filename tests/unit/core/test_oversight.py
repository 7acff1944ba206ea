"""The discrepancy stage's step: findings open, signed commands move them, nothing is lost."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes
from gateway.core.ingest import RawInput
from gateway.core.oversight import (
    OversightResult,
    command_entry_id,
    command_envelope,
    oversight_step,
)
from gateway.core.signing import public_key_b64
from gateway.core.topics import AUDIT_TOPIC, COMMANDS_TOPIC, FINDINGS_TOPIC
from gateway.core.trust import Trust, TrustedKey
from tests.unit.schemas import factories as fx

OPS = Ed25519PrivateKey.generate()
REGISTRY = Ed25519PrivateKey.generate()
T0 = 1_790_000_000_000  # ms
FOUND = dsc.Discrepancy(
    id=dsc.discrepancy_id("reconciliation", "rec-1", 0),
    code="REC-002",
    severity="error",
    registries=("JPN01",),
    blocks=(("CA0001", "MNG01", 1001, 2000),),
    first_seen="2026-11-29T10:00:00.000Z",
    source_entry="rec-1",
    summary="JPN01 misses 1001-2000",
    detail={"kind": "missing-at-registry"},
)


def _key(kid: str, principal: str, role: str, key: Ed25519PrivateKey, **kw: Any) -> TrustedKey:
    return TrustedKey(
        key_id=kid,
        public_key=public_key_b64(key.public_key()),
        principal=principal,
        role=role,
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        **kw,
    )


TRUST = Trust(
    keys=(
        _key("ops-1", "ops-1", "operator", OPS),
        _key("JPN01-1", "JPN01", "registry", REGISTRY),
        _key("ops-old", "ops-old", "operator", OPS, status="revoked"),
    )
)


class Stage:
    """The step with a dict for a table, and every audit entry it wrote."""

    def __init__(self) -> None:
        self.table: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.offset = 0

    def feed(self, topic: str, key: str | bytes, value: bytes) -> OversightResult:
        raw = RawInput(
            topic,
            0,
            self.offset,
            key.encode() if isinstance(key, str) else key,
            value,
            T0 + self.offset,
        )
        self.offset += 1
        result = oversight_step(raw, self.table, TRUST, {}, max_bytes=65536)
        for out in result.outputs:
            if out.topic == AUDIT_TOPIC:
                self.entries.append(json.loads(out.value))
        if result.put is not None:
            self.table[result.put[0]] = result.put[1]
        return result

    def find(self, d: dsc.Discrepancy = FOUND) -> OversightResult:
        return self.feed(FINDINGS_TOPIC, d.id, canonical_bytes(dsc.record(d)))

    def command(self, action: str, *, key: Any = OPS, kid: str = "ops-1", **kw: Any) -> bytes:
        value = command_envelope(
            key,
            key_id=kid,
            principal=kw.pop("principal", "ops-1"),
            discrepancy_id=kw.pop("discrepancy_id", FOUND.id),
            action=action,  # type: ignore[arg-type]
            time="2026-11-29T11:00:00.000Z",
            **kw,
        )
        self.feed(COMMANDS_TOPIC, FOUND.id, value)
        return value

    def state(self) -> dsc.Discrepancy:
        return dsc.fold(self.entries)[FOUND.id]


def test_a_finding_opens_once_and_its_record_round_trips() -> None:
    stage = Stage()
    assert dsc.from_record(json.loads(canonical_bytes(dsc.record(FOUND)))) == FOUND
    stage.find()
    stage.find()  # seen again (a redelivery, a re-sent run): the same entry, no new row
    assert [e["outcome"] for e in stage.entries] == ["open", "open"]
    assert stage.entries[0] == stage.entries[1]
    assert stage.entries[0]["results"][0]["code"] == "REC-002"
    assert stage.state() == FOUND


def test_acknowledge_then_resolve_by_hand_each_an_entry_with_the_signer() -> None:
    stage = Stage()
    stage.find()
    ack = stage.command("acknowledge")
    stage.command("resolve-by-hand", note="JPN01 re-keyed", correction="JP-GOV-1 holds 1001-2000")
    assert [e["outcome"] for e in stage.entries] == ["open", "acknowledged", "resolved"]
    assert stage.entries[1]["entry_id"] == command_entry_id(ack)
    assert stage.entries[1]["input"]["signer"] == "ops-1"
    final = stage.state()
    assert (final.status, final.owner, final.manual) == ("resolved", "ops-1", True)
    assert [a for a, _, _ in final.history] == ["acknowledge", "resolve-by-hand"]
    assert dsc.run_status("totals-inconsistent", [final]) == "completed-with-manual-intervention"


def test_a_replayed_command_is_the_same_entry() -> None:
    stage = Stage()
    stage.find()
    stage.command("acknowledge")
    stage.command("acknowledge")  # the same bytes again: refused, under the same entry id
    first, again = stage.entries[1], stage.entries[2]
    assert first["entry_id"] == again["entry_id"]  # the sequencer keeps the first
    assert stage.state().status == "acknowledged"


def test_refusals_are_coded_entries_and_leave_the_state() -> None:
    stage = Stage()
    stage.command("acknowledge")  # nothing found yet
    assert stage.entries[-1]["outcome"] == "refused"
    assert stage.entries[-1]["results"][0]["code"] == "REC-101"
    stage.find()
    stage.command("resolve")  # no note
    assert stage.entries[-1]["results"][0]["code"] == "REC-103"
    stage.command("resolve", note="JPN01 re-exported its holdings")
    stage.command("acknowledge", note="late")
    assert stage.entries[-1]["results"][0]["code"] == "REC-102"
    assert stage.state().status == "resolved"


def test_commands_not_from_an_active_operator_are_dead_lettered() -> None:
    stage = Stage()
    stage.find()
    stage.command("acknowledge", key=REGISTRY, kid="JPN01-1", principal="JPN01")  # wrong role
    stage.command("acknowledge", key=Ed25519PrivateKey.generate())  # forged signature
    stage.command("acknowledge", kid="ops-old", principal="ops-old")  # revoked
    stage.feed(COMMANDS_TOPIC, FOUND.id, b"{not json")
    other = dsc.discrepancy_id("decision", "ev-x")
    stage.command("acknowledge", discrepancy_id=other)  # keyed under another id
    codes = [e["results"][0]["code"] for e in stage.entries[1:]]
    assert codes == ["MSG-002", "MSG-003", "MSG-002", "MSG-001", "MSG-007"]
    assert {e["outcome"] for e in stage.entries[1:]} == {"dead-lettered"}
    assert stage.state().status == "open"


def test_bad_finding_records_are_dead_lettered_never_raised() -> None:
    stage = Stage()
    stage.feed(FINDINGS_TOPIC, FOUND.id, b"[]")
    stage.feed(FINDINGS_TOPIC, FOUND.id, canonical_bytes({"discrepancy_id": FOUND.id}))
    stage.feed(FINDINGS_TOPIC, b"other", canonical_bytes(dsc.record(FOUND)))
    stage.feed(FINDINGS_TOPIC, FOUND.id, b"x" * 70000)
    codes = [e["results"][0]["code"] for e in stage.entries]
    assert codes == ["MSG-001", "MSG-001", "MSG-007", "MSG-008"]
    assert stage.table == {}


def test_a_failed_notification_is_a_finding() -> None:
    entry = fx.decision(
        "e1",
        source="JPN01",
        type_="a6gw.x.v1",
        kind="notification",
        outcome="discrepancy",
        results=[fx.result("TRN-001", "no transfer"), fx.result("A6-015", "short", [(8, 10)])],
        decided_at="2026-11-29T10:00:00.000Z",
    )
    found = dsc.decision_finding(fx.wire_bytes(entry))
    assert found is not None
    assert (found.code, found.registries, found.found_by) == ("TRN-001", ("JPN01",), "decision")
    assert found.blocks == (("CA0001", "", 8, 10),)
    assert found.id == dsc.decision_finding(entry).id  # type: ignore[union-attr]
    assert dsc.decision_finding(entry.model_copy(update={"outcome": "rejected"})) is None
