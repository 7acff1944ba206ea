"""ingest_step and ledger_step: redelivery, conflicts, dead letters, signed decisions."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from typing import Any

import pytest

from gateway.core.canonical import canonical_bytes
from gateway.core.ingest import RawInput, parse_envelope
from gateway.core.signing import load_public_key_b64, sign_envelope, verify_envelope
from gateway.core.steps import forwarded_key, ingest_step, parse_forwarded
from gateway.core.topics import (
    AUDIT_TOPIC,
    DLQ_TOPIC,
    FINDINGS_TOPIC,
    LEDGER_TOPIC,
    OUTPUT_PREFIX,
    input_topic,
    output_topic,
)
from gateway.errors import SchemaError
from schemas.decisions import DecisionV2
from schemas.events import EVENT_TYPES, GatewayNotice
from tests.unit.core.a6kit import TS, Kit, Pipe, envelope, rng
from tests.unit.core.arrival import AUTH

MNG, JPN = input_topic("MNG01"), input_topic("JPN01")
JC = {
    "decision_id": "D1",
    "ca_id": "CA0001",
    "project_id": "MN003",
    "monitoring_period": {"start": "2025-01-01", "end": "2025-06-30"},
    "vintage": 2025,
    "quantity": "200",
    "allocation": [
        {"registry_id": "MNG01", "quantity": "100"},
        {"registry_id": "JPN01", "quantity": "100"},
    ],
}


def issuance(start: int, end: int, tx: str = "ISS-1") -> dict[str, Any]:
    return {
        "transaction_id": tx,
        "ca_id": "CA0001",
        "registry_id": "MNG01",
        "decision_id": "D1",
        "vintage": 2025,
        "unit_type": "JCM",
        "blocks": [rng(start, end) | {"account_id": "MN-A"}],
    }


@pytest.fixture()
def pipe(kit: Kit) -> Pipe:
    p = Pipe(kit)
    p.open_accounts()
    p.publish(
        MNG, b"jc-1", kit.event_bytes("JC-JPN-MNG", "jcm.issuance.decided", JC, event_id="jc-1")
    )
    return p


def send(
    pipe: Pipe,
    topic: str,
    principal: str,
    name: str,
    data: dict[str, Any],
    eid: str,
    *,
    key: bytes | None = None,
) -> list[tuple[str, str, bytes]]:
    value = pipe.kit.event_bytes(principal, name, data, event_id=eid)
    return pipe.publish(topic, eid.encode() if key is None else key, value)


def entries(sent: list[tuple[str, str, bytes]]) -> list[dict[str, Any]]:
    return [json.loads(v) for t, _, v in sent if t == AUDIT_TOPIC]


def decision(kit: Kit, sent: list[tuple[str, str, bytes]]) -> dict[str, Any]:
    """The one signed decision among ``sent``, verified with the gateway's trusted key."""
    (value,) = [v for t, _, v in sent if t.startswith(OUTPUT_PREFIX) and b'"a6gw.decision.v2"' in v]
    return checked(kit, value, DecisionV2)


def checked(
    kit: Kit, value: bytes, model: type[DecisionV2] | type[GatewayNotice]
) -> dict[str, Any]:
    obj, env = parse_envelope(value, kit.max_bytes)
    gateway_key = kit.trust.by_id[kit.lc.config.gateway.signing_key_id]
    assert (env.source, env.a6keyid, gateway_key.role) == (
        "a6gw-demo",
        gateway_key.key_id,
        "gateway",
    )
    verify_envelope(obj, load_public_key_b64(gateway_key.public_key))
    model.model_validate_json(json.dumps(env.data))
    return env.data


# ---- redelivery and conflicts ---------------------------------------------------------


@pytest.mark.parametrize("where", ["ledger", "ingest"])
def test_byte_identical_redelivery_re_emits_identical_outputs(pipe: Pipe, where: str) -> None:
    data = issuance(1, 50) if where == "ledger" else issuance(1, 50) | {"colour": "red"}
    value = pipe.kit.event_bytes("MNG01", "issuance", data, event_id="iss-1")
    first = pipe.publish(MNG, b"iss-1", value)
    audit, state = dict(pipe.audit), {t: dict(v) for t, v in pipe.state.tables.items()}
    again = pipe.publish(MNG, b"iss-1", value)
    assert again == first
    assert pipe.audit == audit and {t: dict(v) for t, v in pipe.state.tables.items()} == state
    outcome = decision(pipe.kit, again)["outcome"]
    assert outcome == ("accepted" if where == "ledger" else "rejected")


def test_same_id_with_other_bytes_is_msg004(pipe: Pipe) -> None:
    first = send(pipe, MNG, "MNG01", "issuance", issuance(1, 50), "iss-1")
    other = send(pipe, MNG, "MNG01", "issuance", issuance(51, 60), "iss-1")
    (entry,) = entries(other)
    assert (entry["outcome"], [r["code"] for r in entry["results"]]) == ("rejected", ["MSG-004"])
    assert entry["entry_id"] != entries(first)[0]["entry_id"]
    assert decision(pipe.kit, other)["audit_entry_id"] == entry["entry_id"]
    assert [(b.start, b.end) for b in pipe.state.blocks()] == [(1, 50)]
    # the original still re-emits its own decision
    assert decision(pipe.kit, send(pipe, MNG, "MNG01", "issuance", issuance(1, 50), "iss-1")) == (
        decision(pipe.kit, first)
    )


def test_record_key_other_than_event_id_is_msg007(pipe: Pipe) -> None:
    sent = send(pipe, MNG, "MNG01", "issuance", issuance(1, 50), "iss-1", key=b"iss-2")
    (entry,) = entries(sent)
    assert [r["code"] for r in entry["results"]] == ["MSG-007"]
    assert decision(pipe.kit, sent)["outcome"] == "rejected"
    assert list(pipe.state.blocks()) == []
    sent = send(pipe, MNG, "MNG01", "issuance", issuance(1, 50), "iss-3", key=None)
    assert decision(pipe.kit, sent)["outcome"] == "accepted"


def test_decided_input_redelivered_under_another_key_keeps_its_decision(pipe: Pipe) -> None:
    """The record key is not part of an input's identity: one entry id, one decision."""
    first = send(pipe, MNG, "MNG01", "issuance", issuance(1, 50), "iss-1")
    again = send(pipe, MNG, "MNG01", "issuance", issuance(1, 50), "iss-1", key=b"other")
    assert decision(pipe.kit, again) == decision(pipe.kit, first)
    assert entries(again) == entries(first)


# ---- dead letters ---------------------------------------------------------------------


def test_dead_letter_is_one_dlq_record_and_one_audit_entry(pipe: Pipe) -> None:
    value = b'{"specversion": "1.0", "id": "oops", '
    sent = pipe.publish(JPN, b"oops", value, offset=41)
    assert sorted(t for t, _, _ in sent) == sorted([DLQ_TOPIC, AUDIT_TOPIC])
    (dlq,) = [json.loads(v) for t, _, v in sent if t == DLQ_TOPIC]
    (entry,) = entries(sent)
    assert entry["outcome"] == "dead-lettered" and entry["results"][0]["code"] == "MSG-001"
    assert dlq["reason_code"] == "MSG-001" and dlq["audit_entry_id"] == entry["entry_id"]
    assert (dlq["topic"], dlq["partition"], dlq["offset"]) == (JPN, 0, 41)
    assert base64.b64decode(dlq["value_b64"]) == value and dlq["truncated"] is False
    assert dlq["sha256"] == entry["input"]["sha256"] == hashlib.sha256(value).hexdigest()
    # the entry id depends on where the record was read, never on what it says
    other = pipe.publish(JPN, None, b"\xff\xfe", offset=41)
    assert entries(other)[0]["entry_id"] == entry["entry_id"]
    for topic, offset in ((JPN, 42), (MNG, 41)):
        moved = pipe.publish(topic, b"oops", value, offset=offset)
        assert entries(moved)[0]["entry_id"] != entry["entry_id"]


@pytest.mark.parametrize(
    ("code", "make"),
    [
        (
            "MSG-008",
            lambda k: k.event_bytes("MNG01", "issuance", issuance(1, 2)) + b" " * k.max_bytes,
        ),
        ("MSG-002", lambda k: k.event_bytes("JPN01", "issuance", issuance(1, 2))),
        (
            "MSG-003",
            lambda k: k.event_bytes("MNG01", "issuance", issuance(1, 2)).replace(b'"1"', b'"3"'),
        ),
    ],
)
def test_every_authentication_failure_is_dead_lettered(pipe: Pipe, code: str, make: Any) -> None:
    value = make(pipe.kit)
    sent = pipe.publish(MNG, b"ev-1", value)
    (dlq,) = [json.loads(v) for t, _, v in sent if t == DLQ_TOPIC]
    assert dlq["reason_code"] == code and len(entries(sent)) == 1
    assert dlq["truncated"] is (len(value) > 64 * 1024)
    assert base64.b64decode(dlq["value_b64"]) == value[: 64 * 1024]


# ---- what the gateway sends -----------------------------------------------------------


def test_every_gateway_message_is_a_valid_signed_envelope(pipe: Pipe) -> None:
    kit = pipe.kit
    sent = list(
        pipe.publish(
            MNG, b"x", kit.event_bytes("MNG01", "issuance", issuance(1, 100), event_id="x")
        )
    )
    tx = {
        "transaction_id": "TX-1",
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "transferring": {"registry_id": "MNG01", "account_id": "MN-A"},
        "acquiring": {"registry_id": "JPN01", "account_id": "JP-A"},
        "blocks": [rng(1, 10), rng(90, 120)],
    }
    sent += send(pipe, MNG, "MNG", "authorization", AUTH, "auth-1")
    sent += send(pipe, MNG, "MNG01", "transfer", tx | {"blocks": [rng(1, 10)]}, "tx-1")
    sent += send(
        pipe,
        JPN,
        "JPN01",
        "transfer.answer",
        {
            "transaction_id": "TX-1",
            "ca_id": "CA0001",
            "originating_registry": "MNG01",
            "answer": "accepted",
        },
        "ans-1",
    )
    sent += send(
        pipe, MNG, "MNG01", "transfer", tx | {"transaction_id": "TX-2"}, "tx-2"
    )  # rejected
    sent += send(pipe, MNG, "MNG", "authorization", AUTH, "auth-2")  # discrepancy
    sent += send(pipe, MNG, "MNG01", "issuance", issuance(1, 5) | {"x": 1}, "bad")  # MSG-001
    sent += send(pipe, MNG, "MNG01", "issuance", issuance(1, 5), "x")  # MSG-004
    sent += send(pipe, MNG, "MNG01", "issuance", issuance(1, 5), "k", key=b"?")  # MSG-007
    outs = [(t, v) for t, _, v in sent if t.startswith(OUTPUT_PREFIX)]
    audit = {e["entry_id"]: e for e in entries(sent)}
    outcomes = set()
    for topic, value in outs:
        if b'"a6gw.notice.v1"' in value:
            assert checked(pipe.kit, value, GatewayNotice)["kind"].startswith("transfer.")
            continue
        data = checked(pipe.kit, value, DecisionV2)
        entry = audit[data["audit_entry_id"]]
        assert (data["outcome"], data["input_id"]) == (entry["outcome"], entry["input"]["id"])
        outcomes.add((topic, data["outcome"], tuple(r["code"] for r in data["results"])))
    assert outcomes >= {
        (output_topic("MNG01"), "accepted", ()),
        (output_topic("MNG01"), "recorded", ()),
        (output_topic("JPN01"), "recorded", ()),
        (output_topic("MNG01"), "rejected", ("BLK-003",)),
        (output_topic("MNG01"), "discrepancy", ("AUT-001",)),
        (output_topic("MNG01"), "rejected", ("MSG-001",)),
        (output_topic("MNG01"), "rejected", ("MSG-004",)),
        (output_topic("MNG01"), "rejected", ("MSG-007",)),
    }, outcomes
    # Exactly the notifications whose checks failed are findings, keyed by their ids.
    findings = [json.loads(v) | {"key": k} for t, k, v in sent if t == FINDINGS_TOPIC]
    failed = [e for e in audit.values() if e["outcome"] == "discrepancy"]
    assert [(f["code"], f["source_entry"]) for f in findings] == [
        (e["results"][0]["code"], e["entry_id"]) for e in failed
    ]
    assert all(f["key"] == f["discrepancy_id"] for f in findings)


def test_decision_quantity_fits_the_schema_for_overlapping_giant_blocks(pipe: Pipe) -> None:
    top = 10**18 - 1  # the largest serial the wire format allows
    tx = {
        "transaction_id": "TX-1",
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "transferring": {"registry_id": "MNG01", "account_id": "MN-A"},
        "acquiring": {"registry_id": "MNG01", "account_id": "MN-B"},
        "blocks": [rng(1, top), rng(2, top)],
    }
    data = decision(pipe.kit, send(pipe, MNG, "MNG01", "transfer", tx, "big"))
    assert (data["outcome"], data["quantity"]) == ("rejected", str(top))


def test_audit_entries_never_contain_a_raw_newline(pipe: Pipe) -> None:
    tricky = "line\nbreak\u2028separator\u2029"
    env = envelope("MNG01", "issuance", issuance(1, 5), event_id="nl-1") | {tricky: "x"}
    dead = pipe.publish(MNG, b"nl-1", json.dumps(env).encode())  # extra attribute: MSG-001
    data = issuance(1, 5) | {tricky: "y"}
    decided = send(pipe, MNG, "MNG01", "issuance", data, "nl-2")  # PayloadInvalid
    for sent in (dead, decided):
        (value,) = [v for t, _, v in sent if t == AUDIT_TOPIC]
        assert b"\n" not in value
        assert "\u2028".encode() in value  # RFC 8785 leaves it raw: bundles split on 0x0A only
        assert tricky in json.loads(value)["results"][0]["message"]
        assert len(value.split(b"\n")) == 1 and len(value.decode().splitlines()) > 1


# ---- the forwarded record ---------------------------------------------------------------


def test_the_forwarded_record_carries_the_event_and_the_ledger_reads_either_form(
    kit: Kit,
) -> None:
    value = kit.event_bytes("MNG01", "issuance", issuance(1, 10), event_id="iss-fwd")
    raw = RawInput(MNG, 0, 0, b"iss-fwd", value, TS)
    owner = kit.owner(MNG)
    res = ingest_step(
        raw, owner, kit.trust, kit.public_keys, set(), {}, kit.signer, max_bytes=kit.max_bytes
    )
    (fwd,) = [json.loads(o.value) for o in res.outputs if o.topic == LEDGER_TOPIC]
    assert "value" not in fwd  # not the envelope again: its attributes and data
    assert fwd["event"] == {
        "source": "MNG01",
        "id": "iss-fwd",
        "type": EVENT_TYPES["a6gw.issuance.v1"].type,
        "time": json.loads(value)["time"],
    }
    event = parse_forwarded(fwd)
    # a record of the earlier form (the whole envelope) gives the same event
    earlier = {k: v for k, v in fwd.items() if k not in ("event", "data")}
    assert parse_forwarded(earlier | {"value": value.decode()}) == event
    assert event.payload == parse_forwarded(earlier | {"value": value.decode()}).payload
    assert (event.id, event.signer_principal, event.received_ms) == ("iss-fwd", "MNG01", TS)
    # the ledger's decisions key, of either form
    assert forwarded_key(fwd) == forwarded_key(earlier | {"value": value.decode()})
    assert forwarded_key(fwd) == "MNG01|iss-fwd"
    with pytest.raises(SchemaError):
        parse_forwarded(fwd | {"event": fwd["event"] | {"type": "org.example.nothing"}})
    with pytest.raises(SchemaError):
        parse_forwarded(fwd | {"data": json.dumps({"ca_id": "CA0001"})})


@pytest.mark.parametrize("plain", [False, True])
@pytest.mark.parametrize("key_id", ["gw-key-1", "a", 'z\u00e9"\\'])
def test_the_signer_writes_what_signing_and_canonicalising_the_envelope_write(
    kit: Kit, key_id: str, plain: bool
) -> None:
    signer = replace(kit.signer, key_id=key_id)
    # a character outside the BMP sorts by UTF-16 code units: the plain path hands it over
    data = {"outcome": "accepted", "results": [], "note": "é\n", "\U0001f600": 1, "\ue000": 2}
    got = signer.envelope("decision", "dec-1", "2026-01-01T00:00:00.000Z", data, plain=plain)
    env = {
        "specversion": "1.0",
        "id": "dec-1",
        "source": signer.source,
        "type": EVENT_TYPES["a6gw.decision.v2"].type,
        "time": "2026-01-01T00:00:00.000Z",
        "datacontenttype": "application/json",
        "a6keyid": key_id,
        "data": data,
    }
    assert got == canonical_bytes(sign_envelope(env, signer.key))
