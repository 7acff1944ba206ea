"""``tests.records_check.check_record``: a record of any topic the gateway writes, checked
against its published schema (chosen by topic and CloudEvents type, resolved by absolute
``$id``) and, for a CloudEvent, read back through the SDK's Kafka binding. Each check can
fail: a broken record of each kind is refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.partner_sim import PartnerSim
from gateway.core import binding
from gateway.core import discrepancy as dsc
from gateway.core.audit_records import CHECKPOINT_REQUEST
from gateway.core.canonical import canonical_bytes
from gateway.core.decision import decision_data
from gateway.core.ingest import RawInput
from gateway.core.steps import Signer
from gateway.core.topics import (
    AUDIT_TOPIC,
    CHECKPOINT_TOPIC,
    COMMANDS_TOPIC,
    DLQ_TOPIC,
    FINDINGS_TOPIC,
    LEDGER_TOPIC,
    changelog_topic,
    input_topic,
    inventory_output_topic,
    is_output,
    output_topic,
    retry_topic,
)
from gateway.demo.scenario import load_steps
from schemas.entries import ENTRY_KINDS
from schemas.gen import SCHEMA_DIR
from schemas.records import urn
from tests import records_check as rc
from tests.unit.core.test_decision_v2 import _entry
from tests.unit.worker.test_pipeline import MemoryPipeline

SIGNER = Signer("a6gw-test", "a6gw-test-1", Ed25519PrivateKey.generate())
AT = "2026-01-01T00:00:01.000Z"


def _rec(topic: str, value: bytes, key: bytes | None = b"k", headers: Any = None) -> RawInput:
    head = binding.headers_for(topic) if headers is None else headers
    return RawInput(topic, 0, 0, key, value, 0, 1, tuple(head))


def _decision(data: dict[str, Any], name: str = "decision") -> bytes:
    return SIGNER.envelope(name, "dec-1", AT, data)


def _none(_note: str) -> None:
    raise AssertionError("no checkpoint here")


def test_every_published_schema_has_an_absolute_id_in_the_registry() -> None:
    ids = {json.loads(p.read_text())["$id"] for p in SCHEMA_DIR.glob("*.schema.json")}
    assert all(i.startswith("urn:a6gw:schema:") for i in ids)
    assert ids == set(rc.registry()) and len(ids) == len(list(SCHEMA_DIR.glob("*.json")))


def test_a_signed_decision_passes_and_every_broken_one_fails() -> None:
    data = decision_data(_entry("accepted", actions=["Transfer"], quantity="5"))
    for topic in (output_topic("JPN01"), inventory_output_topic("JPN"), retry_topic("IDN01")):
        assert rc.check_record(_rec(topic, _decision(data)), _none) in (
            "out",
            "out.inventory",
            "retry",
        )
    assert rc.TYPE_SEEN["a6gw.decision.v2"] >= 3
    without_note = {k: v for k, v in data.items() if k != "note"}
    with pytest.raises(jsonschema.ValidationError, match="'note' is a required property"):
        rc.check_record(_rec(output_topic("JPN01"), _decision(without_note)), _none)
    with pytest.raises(jsonschema.ValidationError):  # the data of another type
        rc.check_record(_rec(output_topic("JPN01"), _decision(data, "notice")), _none)
    with pytest.raises(AssertionError):  # no content-type: a stock reader takes binary mode
        rc.check_record(_rec(output_topic("JPN01"), _decision(data), headers=()), _none)
    envelope = json.loads(_decision(data))
    envelope["type"] = "a6gw.decision.v1"  # the v2 members do not fit closed v1
    with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
        rc.check_record(_rec(output_topic("JPN01"), canonical_bytes(envelope)), _none)


def test_internal_records_pass_and_broken_ones_fail() -> None:
    found = dsc.Discrepancy(
        id="dsc-" + "1" * 40, code="REC-002", severity="error", registries=("JPN01",),
        blocks=(("CA0001", "MNG01", 1, 10),), first_seen=AT, summary="s",
    )  # fmt: skip
    ledger: dict[str, Any] = {
        "event": {"source": "JPN01", "id": "e-1", "type": "a6gw.transfer.v1", "time": AT},
        "data": "{}",
        "sha256": "ab" * 32,
        "signer": "JPN01",
        "role": "registry",
        "owner": {"registry": "JPN01", "party": "JPN"},
        "timestamp_ms": 1,
    }
    # the envelope's optional attributes ride along when it had them (docs/cloudevents.md)
    traced = {"subject": "S-1", "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}
    good = [
        (FINDINGS_TOPIC, None, dsc.record(found)),
        (LEDGER_TOPIC, None, ledger),
        (LEDGER_TOPIC, None, ledger | {"event": ledger["event"] | traced}),
        (AUDIT_TOPIC, None, _entry("recorded")),
        (AUDIT_TOPIC, CHECKPOINT_REQUEST, {}),
    ]
    bad = [
        (FINDINGS_TOPIC, None, dsc.record(found) | {"severity": "grave"}),
        (LEDGER_TOPIC, None, ledger | {"extra": 1}),
        (LEDGER_TOPIC, None, {**ledger, "owner": {"registry": "JPN01"}}),
        (AUDIT_TOPIC, None, _entry("recorded") | {"entry_type": "nope"}),
        (AUDIT_TOPIC, CHECKPOINT_REQUEST, {"x": 1}),
        (DLQ_TOPIC, None, {"reason_code": "bad"}),
    ]
    for topic, key, value in good:
        rc.check_record(_rec(topic, canonical_bytes(value), key), _none)
    for topic, key, value in bad:
        with pytest.raises(jsonschema.ValidationError):
            rc.check_record(_rec(topic, canonical_bytes(value), key), _none)


def test_checkpoints_go_to_the_checker_and_other_topics_are_refused() -> None:
    opened: list[str] = []
    rc.check_record(_rec(CHECKPOINT_TOPIC, b"origin\n1\nroot\n"), opened.append)
    assert opened == ["origin\n1\nroot\n"]
    others = (input_topic("JPN01"), changelog_topic("a6gw", "decisions"), COMMANDS_TOPIC)
    for topic in others:
        with pytest.raises(AssertionError, match="not a topic the gateway writes"):
            rc.check_record(_rec(topic, b"{}"), _none)


def test_every_record_of_the_demo_scenario_in_memory_fits(tmp_path: Path) -> None:
    """The demo scenario through the in-memory pipeline: every record routed to any topic
    (with the headers the worker writes) passes ``check_record``."""
    pipe = MemoryPipeline(tmp_path)
    for step in load_steps(pipe.world):
        if step.awaits:
            pipe.fire_timers(pipe.ts + 10**9)
        else:
            pipe.publish(step.topic, step.key, step.value)
    kinds = {rc.check_record(_rec(t, v, k.encode()), _none) for t, k, v in pipe.sent}
    assert {"out", "out.inventory", "dlq", "audit.log", "ledger", "discrepancies"} <= kinds
    notes = [
        json.loads(v)["data"]["note"]
        for t, _, v in pipe.sent
        if is_output(t) and b'"a6gw.decision.v2"' in v
    ]
    assert any(" cancelled: no answer by " in n for n in notes), notes


def test_the_partner_simulators_holdings_pages_fit_and_broken_ones_fail(tmp_path: Path) -> None:
    row = {
        "account_id": "IDN01-HOLD-1",
        "ca_id": "CA0002",
        "origin": "IDN01",
        "serial_start": "1",
        "serial_end": "10",
        "unit_type": "JCM",
        "vintage": 2025,
        "extra": "dropped by the simulator",
    }
    sim = PartnerSim("IDN01", tmp_path, gateway_keys={}, holdings=[row])
    rc.check_holdings_page({"rows": sim.holdings, "next": None})
    rc.check_holdings_page({"rows": [], "next": "100"})
    for broken in (
        {"rows": sim.holdings},  # no next
        {"rows": [row], "next": None},  # a member the schema does not name
        {"rows": [sim.holdings[0] | {"serial_start": 1}], "next": None},  # not a decimal string
        {"rows": [sim.holdings[0] | {"origin": "idn"}], "next": None},
    ):
        with pytest.raises(jsonschema.ValidationError):
            rc.check_holdings_page(broken)


def test_every_entry_kind_is_in_the_published_audit_entry_schema() -> None:
    """Each kind of :data:`schemas.entries.ENTRY_KINDS` (the union the writers' models
    make) is a branch of ``audit-entry.schema.json`` that accepts exactly its entry_type."""
    schema = json.loads((SCHEMA_DIR / "audit-entry.schema.json").read_text(encoding="utf-8"))
    mapping = schema["discriminator"]["mapping"]
    kinds = {get_args(kind.model_fields["entry_type"].annotation)[0] for kind in ENTRY_KINDS}
    assert kinds == set(mapping) and len(schema["oneOf"]) == len(ENTRY_KINDS)
    entry = _entry("recorded")
    rc.by_id(urn("audit-entry")).validate(entry)
    with pytest.raises(jsonschema.ValidationError):
        rc.by_id(urn("audit-entry")).validate(entry | {"entry_type": "a-kind-nobody-wrote"})
