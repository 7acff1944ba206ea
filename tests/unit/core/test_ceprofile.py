"""The a6gw profile of CloudEvents 1.0 (docs/cloudevents.md): the optional attributes an
envelope may carry (subject, dataschema, traceparent, tracestate), each signed, each
refused with its code when malformed; the audit entry keeps them; the per-hop trace context
goes in the Kafka headers of what the gateway writes in answer."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as ce_kafka

from gateway.core import binding
from gateway.core import tracecontext as tc
from gateway.core.ingest import LOG_APPEND_TIME, RawInput
from gateway.core.state import LedgerState
from gateway.core.steps import Output, ingest_step, ledger_step
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC, input_topic, output_topic
from gateway.errors import AuthenticationError, PayloadInvalid, SchemaError
from schemas.entries import DecisionEntry, parse_entry
from schemas.envelope import Envelope, data_schema_id
from schemas.events import EVENT_TYPES
from schemas.records import urn
from tests import records_check
from tests.unit.core.a6kit import DIRECTORY, TS, Kit, Pipe, envelope
from tests.unit.core.arrival import AUTH
from tests.unit.core.test_ingest import ISSUANCE, fails

MNG = input_topic("MNG01")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
STATE = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
ALL = {
    "subject": "MNG01-ISS-1",
    "dataschema": "urn:a6gw:schema:issuance:1",
    "traceparent": PARENT,
    "tracestate": STATE,
}


def issuance(kit: Kit, **attributes: Any) -> bytes:
    return kit.sign(envelope("MNG01", "issuance", ISSUANCE) | attributes)


# ---- accepted -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param({"subject": "MNG01-ISS-1"}, id="subject"),
        pytest.param({"subject": "CA0001 blocks 1-100 / JCM"}, id="subject-with-spaces"),
        pytest.param({"dataschema": "urn:a6gw:schema:issuance:1"}, id="dataschema"),
        pytest.param({"traceparent": PARENT}, id="traceparent"),
        pytest.param({"traceparent": PARENT, "tracestate": STATE}, id="tracestate"),
        pytest.param({"traceparent": PARENT, "tracestate": "a=1, ,b@c=x y"}, id="tracestate-ows"),
        pytest.param(ALL, id="all"),
    ],
)
def test_each_optional_attribute_is_accepted_and_kept(kit: Kit, attributes: dict[str, str]) -> None:
    event = kit.authenticate(MNG, issuance(kit, **attributes))
    assert event.name == "issuance"
    kept = {"subject": event.subject, "traceparent": event.traceparent}
    kept["tracestate"] = event.tracestate
    assert {k: v for k, v in kept.items() if v is not None} == {
        k: v for k, v in attributes.items() if k != "dataschema"
    }


SCHEMAS = Path(__file__).parents[3] / "schemas" / "json"


def test_every_event_type_names_its_data_schema_by_urn() -> None:
    assert data_schema_id("a6gw.transfer.answer.v1") == "urn:a6gw:schema:transfer.answer:1"
    assert data_schema_id("a6gw.decision.v2") == urn("decision", 2)
    for et in EVENT_TYPES.values():
        assert data_schema_id(et.type) == urn(et.name, et.major)
        on_disk = SCHEMAS / f"{et.type}.schema.json"
        assert json.loads(on_disk.read_text())["$id"] == data_schema_id(et.type)


# ---- refused --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["", " MNG01", "MNG01 ", "a\nb", "a\tb", "é", "x" * 257, None, 7, ["x"]],
)
def test_a_malformed_subject_is_msg001(kit: Kit, subject: Any) -> None:
    message = fails(kit, MNG, issuance(kit, subject=subject), "MSG-001", SchemaError)
    assert "subject" in message


@pytest.mark.parametrize(
    "dataschema",
    [
        "urn:a6gw:schema:transfer:1",  # another type's
        "urn:a6gw:schema:issuance:2",  # another major version
        "a6gw/a6gw.issuance.v1.schema.json",  # a relative reference is no URI
        "https://example.org/schemas/issuance.json",
    ],
)
def test_a_dataschema_not_the_types_is_msg012_with_the_event(kit: Kit, dataschema: str) -> None:
    value = issuance(kit, dataschema=dataschema)
    with pytest.raises((PayloadInvalid, SchemaError)) as info:
        kit.authenticate(MNG, value)
    exc = info.value
    if dataschema.startswith("a6gw/"):  # not of the URI form at all
        assert exc.code == "MSG-001" and type(exc) is SchemaError
        return
    assert isinstance(exc, PayloadInvalid) and exc.code == "MSG-012", str(exc)
    assert "urn:a6gw:schema:issuance:1" in str(exc)
    assert exc.event.id == "ev-1" and exc.event.name == "issuance"  # authenticated


@pytest.mark.parametrize("dataschema", ["", None, 1])
def test_a_dataschema_of_the_wrong_form_is_msg001(kit: Kit, dataschema: Any) -> None:
    fails(kit, MNG, issuance(kit, dataschema=dataschema), "MSG-001", SchemaError)


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param({"traceparent": PARENT.upper()}, id="uppercase"),
        pytest.param({"traceparent": "01" + PARENT[2:]}, id="version-01"),
        pytest.param({"traceparent": "ff" + PARENT[2:]}, id="version-ff"),
        pytest.param({"traceparent": PARENT + "-extra"}, id="version-00-with-more"),
        pytest.param({"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01"}, id="zero-trace-id"),
        pytest.param({"traceparent": f"00-{TRACE_ID}-{'0' * 16}-01"}, id="zero-parent-id"),
        pytest.param({"traceparent": PARENT[:-1]}, id="short"),
        pytest.param({"traceparent": None}, id="null"),
        pytest.param({"traceparent": 1}, id="number"),
        pytest.param({"tracestate": STATE}, id="state-without-parent"),
        pytest.param({"traceparent": PARENT, "tracestate": "Congo=1"}, id="state-upper-key"),
        pytest.param({"traceparent": PARENT, "tracestate": "a=1,a=2"}, id="state-key-twice"),
        pytest.param({"traceparent": PARENT, "tracestate": "a=b=c"}, id="state-value-with-eq"),
        pytest.param({"traceparent": PARENT, "tracestate": "a=,b=1"}, id="state-empty-value"),
        pytest.param({"traceparent": PARENT, "tracestate": "novalue"}, id="state-no-eq"),
        pytest.param(
            {"traceparent": PARENT, "tracestate": ",".join(f"k{i}=v" for i in range(33))},
            id="state-33-members",
        ),
        pytest.param({"traceparent": PARENT, "tracestate": "a=" + "x" * 511}, id="state-long"),
        pytest.param({"traceparent": PARENT, "tracestate": "a=é"}, id="state-not-ascii"),
    ],
)
def test_malformed_trace_context_is_msg013(kit: Kit, attributes: dict[str, Any]) -> None:
    message = fails(kit, MNG, issuance(kit, **attributes), "MSG-013", SchemaError)
    assert "] malformed trace context: " in message and "constrained-str" not in message


def test_a_malformed_trace_beside_another_fault_is_msg001(kit: Kit) -> None:
    value = issuance(kit, traceparent="bad", partitionkey="p")
    fails(kit, MNG, value, "MSG-001", SchemaError)


@pytest.mark.parametrize(
    "name", ["partitionkey", "sequence", "dataref", "a6note", "traceParent", "comexampleext"]
)
def test_any_other_attribute_is_still_refused(kit: Kit, name: str) -> None:
    message = fails(kit, MNG, issuance(kit, **{name: "x"}), "MSG-001", SchemaError)
    assert name in message and "Extra inputs are not permitted" in message


# ---- signed like every member ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("subject", "MNG01-ISS-2"),
        ("dataschema", "urn:a6gw:schema:transfer:1"),
        ("traceparent", f"00-{TRACE_ID}-00f067aa0ba902b8-01"),
        ("tracestate", "congo=t61rcWkgMzE"),
    ],
)
def test_the_signature_covers_each_optional_attribute(kit: Kit, name: str, other: str) -> None:
    signed_value = json.loads(issuance(kit, **ALL))
    assert kit.authenticate(MNG, json.dumps(signed_value).encode()).id == "ev-1"
    for change in ("alter", "drop"):
        forged = dict(signed_value)
        if change == "alter":
            forged[name] = other
        else:
            del forged[name]
        if name == "traceparent" and change == "drop":
            continue  # a tracestate alone is MSG-013 before the signature is checked
        fails(kit, MNG, json.dumps(forged).encode(), "MSG-003", AuthenticationError)


def test_an_attribute_added_after_signing_breaks_the_signature(kit: Kit) -> None:
    signed_value = json.loads(issuance(kit))
    forged = signed_value | {"subject": "MNG01-ISS-1"}
    fails(kit, MNG, json.dumps(forged).encode(), "MSG-003", AuthenticationError)


# ---- the audit entry and the answers --------------------------------------------------


def _decision(sent: list[tuple[str, str, bytes]]) -> DecisionEntry:
    (entry,) = [parse_entry(v) for t, _, v in sent if t == AUDIT_TOPIC]
    assert isinstance(entry, DecisionEntry)
    return entry


def test_the_decision_entry_carries_subject_and_originating_trace(kit: Kit) -> None:
    pipe = Pipe(kit)
    attributes = {"subject": "A-1", "traceparent": PARENT, "tracestate": STATE}
    value = kit.sign(envelope("MNG", "authorization", AUTH) | attributes)
    entry = _decision(pipe.publish(MNG, b"ev-1", value))
    wire = entry.input.model_dump(mode="json")
    assert {k: wire[k] for k in attributes} == attributes
    # the entry as written fits the published audit-entry schema
    (written,) = pipe.audit.values()
    records_check.validator("audit-entry").validate(json.loads(written))


def test_a_stock_cloudevents_consumer_reads_the_optional_attributes(kit: Kit) -> None:
    """The CloudEvents SDK's Kafka binding reads a profile envelope in structured mode:
    subject and dataschema as the core attributes, the trace context as the distributed
    tracing extension's, a6keyid and a6signature as extensions."""
    value = issuance(kit, **ALL)
    message = ce_kafka.KafkaMessage(
        headers=dict(binding.STRUCTURED_HEADERS), key=b"ev-1", value=value
    )
    event = ce_kafka.from_kafka_event(message)
    assert (event.get_subject(), event.get_dataschema()) == (ALL["subject"], ALL["dataschema"])
    assert event.get_extension("traceparent") == PARENT
    assert event.get_extension("tracestate") == STATE
    assert event.get_extension("a6signature") == json.loads(value)["a6signature"]
    assert kit.authenticate(MNG, value).subject == ALL["subject"]


def test_an_entry_without_them_is_as_before(kit: Kit) -> None:
    pipe = Pipe(kit)
    value = kit.sign(envelope("MNG", "authorization", AUTH))
    entry = _decision(pipe.publish(MNG, b"ev-1", value))
    assert set(entry.input.model_dump(mode="json")) == {
        "source",
        "id",
        "type",
        "kind",
        "time",
        "sha256",
        "signer",
    }


def test_a_wrong_dataschema_is_answered_with_a_coded_decision(kit: Kit) -> None:
    pipe = Pipe(kit)
    value = issuance(kit, dataschema="urn:a6gw:schema:retirement:1", subject="MNG01-ISS-1")
    sent = pipe.publish(MNG, b"ev-1", value)
    entry = _decision(sent)
    assert entry.outcome == "rejected"
    assert [r.code for r in entry.results] == ["MSG-012"]
    assert entry.input.subject == "MNG01-ISS-1"
    answer = json.loads(next(v for t, _, v in sent if t == output_topic("MNG01")))
    assert answer["type"] == "a6gw.decision.v2"
    assert not {"traceparent", "tracestate", "subject"} & set(answer)  # nothing per-hop signed


# ---- per-hop trace context in Kafka headers -------------------------------------------


def _stage_a(kit: Kit, value: bytes, headers: tuple[tuple[str, bytes], ...] = ()) -> list[Output]:
    """Stage A's outputs for ``value`` read from MNG01's topic with ``headers``."""
    owner = kit.owner(MNG)
    raw = RawInput(MNG, 0, 0, b"ev-1", value, TS, LOG_APPEND_TIME, headers)
    return ingest_step(
        raw,
        owner,
        kit.trust,
        kit.public_keys,
        kit.lc.config.joint_committees_of(owner.party),
        {},
        kit.signer,
        max_bytes=kit.max_bytes,
    ).outputs


def _stage_b(kit: Kit, forwarded: Output) -> list[Output]:
    record = json.loads(forwarded.value)
    state = LedgerState()
    result = ledger_step(record, state, DIRECTORY, kit.signer, version=0, headers=forwarded.headers)
    state.apply([result.decision_put] if result.decision_put else [], result.version)
    again = ledger_step(record, state, DIRECTORY, kit.signer, version=0, headers=forwarded.headers)
    assert again.decision_put is None  # the redelivery path
    assert again.outputs == result.outputs  # the same records, the same headers
    return result.outputs


def _parent(o: Output) -> tc.TraceContext:
    ctx = tc.from_headers(o.headers)
    assert ctx is not None, o
    return ctx


def test_each_hop_writes_a_new_span_of_the_originating_trace(kit: Kit) -> None:
    value = kit.sign(envelope("MNG", "authorization", AUTH) | {"traceparent": PARENT})
    (fwd,) = _stage_a(kit, value)
    assert fwd.topic == LEDGER_TOPIC
    hop_a = _parent(fwd)
    assert hop_a.trace_id == TRACE_ID and hop_a.parent_id != PARENT.split("-")[2]
    out = _stage_b(kit, fwd)
    assert {o.topic for o in out} >= {AUDIT_TOPIC, output_topic("MNG01")}
    hops = {_parent(o) for o in out}
    assert len(hops) == 1  # one span for the ledger stage's work on the input
    (hop_b,) = hops
    assert hop_b.trace_id == TRACE_ID
    assert hop_b.parent_id not in (hop_a.parent_id, PARENT.split("-")[2])
    assert hop_b.flags == "01" and hop_b.state is None


def test_the_records_headers_come_before_the_envelopes_trace(kit: Kit) -> None:
    value = kit.sign(envelope("MNG", "authorization", AUTH) | {"traceparent": PARENT})
    other = "0af7651916cd43dd8448eb211c80319c"
    header = (("traceparent", f"00-{other}-b7ad6b7169203331-00".encode()),)
    state = (("tracestate", b"rojo=1"), ("tracestate", b"congo=2"))
    (fwd,) = _stage_a(kit, value, header + state)
    hop = _parent(fwd)
    assert (hop.trace_id, hop.flags, hop.state) == (other, "00", "rojo=1,congo=2")
    # a bad header is ignored (W3C Trace Context §3.2.2): the envelope's trace is continued
    (fwd,) = _stage_a(kit, value, (("traceparent", b"00-junk"),))
    assert _parent(fwd).trace_id == TRACE_ID


def test_no_trace_context_means_no_trace_headers(kit: Kit) -> None:
    (fwd,) = _stage_a(kit, kit.sign(envelope("MNG", "authorization", AUTH)))
    assert fwd.headers == ()
    assert all(o.headers == () for o in _stage_b(kit, fwd))


def test_a_decision_made_at_ingest_carries_the_hop_too(kit: Kit) -> None:
    value = issuance(kit, dataschema="urn:a6gw:schema:retirement:1", traceparent=PARENT)
    out = _stage_a(kit, value)
    assert {o.topic for o in out} == {AUDIT_TOPIC, output_topic("MNG01")}
    assert {_parent(o).trace_id for o in out} == {TRACE_ID}


# ---- W3C Trace Context, as a receiver -------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "want"),
    [
        ([("traceparent", PARENT.encode())], (TRACE_ID, "01")),
        ([("Traceparent", PARENT.encode())], (TRACE_ID, "01")),
        ([("traceparent", ("cc" + PARENT[2:] + "-what-follows").encode())], (TRACE_ID, "01")),
        ([("traceparent", ("ff" + PARENT[2:]).encode())], None),
        ([("traceparent", (PARENT + "-more").encode())], None),
        ([("traceparent", PARENT.encode())] * 2, None),
        ([("traceparent", b"\xff")], None),
        ([], None),
    ],
)
def test_from_headers(headers: list[tuple[str, bytes]], want: tuple[str, str] | None) -> None:
    got = tc.from_headers(headers)
    assert (None if got is None else (got.trace_id, got.flags)) == want


def test_a_hop_keeps_only_the_sampled_flag_and_is_deterministic() -> None:
    parent = tc.TraceContext(TRACE_ID, "00f067aa0ba902b7", "ff", "a=1")
    hop = tc.hop(parent, "ledger")
    assert hop == tc.hop(parent, "ledger") != tc.hop(parent, "ingest")
    assert hop.flags == "01" and hop.state == "a=1" and len(hop.parent_id) == 16
    assert tc.headers(hop) == (
        ("traceparent", f"00-{TRACE_ID}-{hop.parent_id}-01".encode()),
        ("tracestate", b"a=1"),
    )


def test_the_published_envelope_schema_describes_the_profile() -> None:
    schema = Envelope.model_json_schema()
    assert set(schema["properties"]) >= {"subject", "dataschema", "traceparent", "tracestate"}
    assert schema["additionalProperties"] is False
    assert not {"subject", "dataschema", "traceparent", "tracestate"} & set(schema["required"])
    assert all("default" not in p for p in schema["properties"].values())


def test_the_parent_context_of_empty_headers_is_the_envelopes() -> None:
    parent = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
    empties: list[Iterable[tuple[str, bytes]]] = [(), [], iter(())]
    for empty in empties:
        assert tc.parent(empty, None, None) is None
        assert tc.parent(empty, parent, "a=b") == tc.of_envelope(parent, "a=b")
    hop = "00-" + "3" * 32 + "-" + "4" * 16 + "-00"
    found = tc.parent([("traceparent", hop.encode())], None, None)
    assert found is not None and found.trace_id == "3" * 32
