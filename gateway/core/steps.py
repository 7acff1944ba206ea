"""The two processing steps, as pure functions the faust agents call.

``ingest_step`` (stage A, partitioned like the input topics, whose record key must be the
event id) authenticates, dead-letters what cannot be authenticated, decides duplicates and
conflicts, and forwards the rest to the ledger topic keyed by cooperative approach (the one
repartition hop). ``ledger_step`` (stage B, partitioned by cooperative approach) runs the
ledger checks, or re-emits the stored decision of a redelivered input.

Both return :class:`Output` records and table writes; the agents only move bytes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.core import decision as dec
from gateway.core import discrepancy as dsc
from gateway.core import ed25519, topics, tracecontext
from gateway.core.canonical import canonical_bytes, plain_bytes, sha256_hex
from gateway.core.decision_time import iso_ms
from gateway.core.forwarded import Forwarded as Forwarded  # the ledger record: re-exported
from gateway.core.forwarded import Handoff as Handoff
from gateway.core.forwarded import forward, owner_of
from gateway.core.forwarded import forwarded_key as forwarded_key
from gateway.core.forwarded import parse_forwarded as parse_forwarded
from gateway.core.frozen import quick_init
from gateway.core.ingest import (
    RawInput,
    ahead_of_arrival,
    arrival_ms,
    authenticate,
    freshness,
    routing_key,
)
from gateway.core.ledger import evaluate
from gateway.core.model import Directory, Evaluation, Event, Finding, Outcome
from gateway.core.state import LedgerState, Put
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC, FINDINGS_TOPIC, LEDGER_TOPIC
from gateway.core.trust import TopicOwner, Trust
from gateway.errors import AuthenticationError, PayloadInvalid, SchemaError
from schemas import entries as en
from schemas.envelope import SIGNATURE_ATTRIBUTE, Envelope
from schemas.events import CURRENT, EVENT_TYPES


@quick_init
@dataclass(frozen=True)
class Output:
    topic: str
    key: str
    value: bytes
    #: headers besides the MAC and ``content-type``: the per-hop trace context, if any
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True)
class Signer:
    """The gateway's own identity for the messages it sends."""

    source: str
    key_id: str
    key: Ed25519PrivateKey

    @cached_property
    def _head(self) -> bytes:
        """The first member of every envelope's canonical bytes, and the comma after it."""
        return b'{"a6keyid":' + canonical_bytes(self.key_id) + b","

    @cached_property
    def _sign(self) -> Callable[[bytes], bytes]:
        return ed25519.signer(self.key)

    def envelope(
        self, name: str, msg_id: str, time: str, data: dict[str, Any], *, plain: bool = False
    ) -> bytes:
        """The signed envelope's canonical bytes: ``canonical_bytes(sign_envelope(env))``,
        with the envelope canonicalised once. ``plain``: the caller vouches that ``data``
        holds plain values (:func:`gateway.core.canonical.plain_bytes`).

        ``a6keyid`` is the first member in canonical order and ``a6signature`` sorts right
        after it, so the signature member goes in after the first member of the bytes it
        signs.
        """
        env = {
            "specversion": "1.0",
            "id": msg_id,
            "source": self.source,
            "type": CURRENT[name].type,
            "time": time,
            "datacontenttype": "application/json",
            "a6keyid": self.key_id,
            "data": data,
        }
        signed = plain_bytes(env) if plain else canonical_bytes(env)
        head = self._head
        if not signed.startswith(head):  # cannot happen: a6keyid sorts first
            raise SchemaError("the envelope's canonical bytes do not start with a6keyid")
        # base64 is ASCII with nothing JSON escapes: its canonical form is the text quoted
        signature = base64.b64encode(self._sign(signed))
        return b"".join((head, _SIGNATURE_MEMBER, signature, b'",', signed[len(head) :]))


_SIGNATURE_MEMBER = b'"' + SIGNATURE_ATTRIBUTE.encode() + b'":"'


@dataclass
class IngestResult:
    outputs: list[Output] = field(default_factory=list)
    seen_put: tuple[str, dict[str, Any]] | None = None
    #: the record forwarded to the ledger, as written and as read (a :class:`Handoff` keeps it)
    forwarded: Forwarded | None = None


def out_topic(owner: TopicOwner) -> str:
    return topics.answer_topic(owner.registry, owner.party)


def _entry_outputs(
    entry: dict[str, Any], body: bytes, owner: TopicOwner, signer: Signer
) -> list[Output]:
    """The audit entry (``entry``: its JSON object, ``body``: its bytes) and the signed
    decision for the topic owner, and the finding when a notification's checks failed (the
    registry's books and the gateway's now differ)."""
    eid = entry["entry_id"]
    data = dec.decision_data(entry)
    msg = signer.envelope("decision", "dec-" + eid, entry["decided_at"], data, plain=True)
    out = [Output(out_topic(owner), entry["input"]["id"], msg), Output(AUDIT_TOPIC, eid, body)]
    if entry["outcome"] == "discrepancy":
        found = dsc.decision_finding(entry)
        if found is not None:
            out.append(finding_output(found))
    return out


def _stored_outputs(stored: Mapping[str, Any], owner: TopicOwner, signer: Signer) -> list[Output]:
    """:func:`_entry_outputs` of a decision kept in ``seen``: its bytes as they were first
    written (the kept JSON object, never the model's), read through the entry model."""
    entry = en.read_entry(stored)
    if not isinstance(entry, en.DecisionEntry):
        raise SchemaError(f"the decision kept for {stored.get('entry_id')!r} is not a decision")
    wire = dict(stored)
    return _entry_outputs(wire, dec.entry_bytes(wire), owner, signer)


def finding_output(d: dsc.Discrepancy) -> Output:
    """The ``a6.discrepancies`` record of a finding, keyed by its id."""
    return Output(FINDINGS_TOPIC, d.id, canonical_bytes(dsc.record(d)))


def ingest_step(
    raw: RawInput,
    owner: TopicOwner,
    trust: Trust,
    public_keys: Mapping[str, Ed25519PublicKey],
    joint_committees: set[str],
    seen: Mapping[str, Any],
    signer: Signer,
    *,
    max_bytes: int,
    max_age_s: int | None = None,
    skew_s: int = 300,
    now_ms: int | None = None,
) -> IngestResult:
    """Stage A for one input record. ``seen`` maps ``source|id`` to what was recorded.

    ``now_ms`` is the gateway's clock as it reads the record: with it, the input's time is
    its arrival (:func:`gateway.core.ingest.arrival_ms`), kept in ``seen`` and stamped on the
    forwarded record so every redelivery sees the same one; without it (tests of other
    parts), the record's timestamp.
    """
    first = raw.timestamp_ms if now_ms is None else arrival_ms(raw, now_ms=now_ms, skew_s=skew_s)
    if first != raw.timestamp_ms:
        raw = replace(raw, timestamp_ms=first)

    def arrival(envelope: Envelope) -> int:
        # A byte-identical redelivery keeps the arrival its first reading used.
        prior = seen.get(f"{envelope.source}|{envelope.id}")
        if prior is not None and prior["sha256"] == raw.sha256:
            return int(prior.get("arrival_ms", first))
        return first

    try:
        event = authenticate(
            raw, owner, trust, public_keys, joint_committees, max_bytes=max_bytes, arrival=arrival
        )
    except PayloadInvalid as exc:
        decided = _decide_here(exc.event, Finding(exc.code, str(exc)), raw, owner, seen, signer)
        return traced(decided, raw.headers, exc.event, "ingest")
    except (SchemaError, AuthenticationError) as exc:
        finding = Finding(exc.code, str(exc))
        dead = dec.dead_letter_model(raw, finding)
        record = dec.dead_letter_record(raw, finding, keep_bytes=min(max_bytes, 64 * 1024))
        return IngestResult(
            [
                Output(DLQ_TOPIC, dead.entry_id, canonical_bytes(record)),
                Output(AUDIT_TOPIC, dead.entry_id, dec.entry_bytes(dead.wire())),
            ]
        )
    judged = _judge(event, raw, owner, seen, signer, max_age_s=max_age_s, skew_s=skew_s)
    return traced(judged, raw.headers, event, "ingest")


def traced(
    result: IngestResult, headers: Sequence[tuple[str, bytes]], event: Event, stage: str
) -> IngestResult:
    """``result``, each output with the trace context of ``stage``'s hop when the input
    carried one (:mod:`gateway.core.tracecontext`; ``headers``: the input record's)."""
    result.outputs = _hop(result.outputs, headers, event, stage)
    return result


def _hop(
    outputs: list[Output], headers: Sequence[tuple[str, bytes]], event: Event, stage: str
) -> list[Output]:
    ctx = tracecontext.parent(headers, event.traceparent, event.tracestate)
    if ctx is None:
        return outputs
    extra = tracecontext.headers(tracecontext.hop(ctx, stage))
    return [replace(o, headers=extra) for o in outputs]


def _judge(
    event: Event,
    raw: RawInput,
    owner: TopicOwner,
    seen: Mapping[str, Any],
    signer: Signer,
    *,
    max_age_s: int | None,
    skew_s: int,
) -> IngestResult:
    """Stage A's judgement of an authenticated input: fresh, new or a redelivery, keyed
    right; forwarded to the ledger, or decided here."""
    arrived = event.received_ms
    seen_key = f"{event.source}|{event.id}"
    prior = seen.get(seen_key)
    if max_age_s is not None and prior is None:
        stale = freshness(event, arrived, max_age_s=max_age_s, skew_s=skew_s)
        if stale is not None:
            return _decide_here(event, Finding("MSG-005", stale), raw, owner, seen, signer)
        ahead = ahead_of_arrival(event, arrived, skew_s=skew_s)
        if ahead is not None:
            return _decide_here(event, Finding("MSG-009", ahead), raw, owner, seen, signer)
    if prior is not None and prior["sha256"] != event.sha256:
        finding = Finding("MSG-004", f"event id {event.id} was already used for other content")
        return _decide_here(event, finding, raw, owner, seen, signer, record=False)
    if prior is not None and prior.get("entry") is not None:
        # A redelivery of an input decided here: re-emit the stored decision.
        return IngestResult(_stored_outputs(prior["entry"], owner, signer))
    # The record key is not part of the input's identity (source, id, bytes): an input
    # already forwarded keeps its decision whatever key it is redelivered under.
    if prior is None and raw.key != event.id.encode():
        finding = Finding("MSG-007", "the record key must be the event id")
        return _decide_here(event, finding, raw, owner, seen, signer)
    fwd = forward(event, owner, arrived, dec.replay_of(raw.headers))
    out = Output(LEDGER_TOPIC, routing_key(event), fwd.value)
    put = {"sha256": event.sha256, "entry": None, "arrival_ms": arrived}
    return IngestResult([out], (seen_key, put), fwd)


def _decide_here(
    event: Event,
    finding: Finding,
    raw: RawInput,
    owner: TopicOwner,
    seen: Mapping[str, Any],
    signer: Signer,
    *,
    record: bool = True,
) -> IngestResult:
    """A rejection stage A can make alone (schema, key, conflict)."""
    seen_key = f"{event.source}|{event.id}"
    prior = seen.get(seen_key)
    if record and prior is not None and prior["sha256"] == event.sha256 and prior.get("entry"):
        return IngestResult(_stored_outputs(prior["entry"], owner, signer))
    outcome: Outcome = "rejected" if event.kind == "proposal" else "discrepancy"
    wire = dec.decision_wire(
        event,
        Evaluation(outcome, (finding,)),
        decided_at=iso_ms(event.received_ms),
        replays=dec.replay_of(raw.headers),
    )
    kept = {"sha256": event.sha256, "entry": wire, "arrival_ms": event.received_ms}
    put = (seen_key, kept) if record and prior is None else None
    return IngestResult(_entry_outputs(wire, dec.decision_bytes(wire), owner, signer), put)


@dataclass
class LedgerResult:
    outputs: list[Output]
    decision_put: Put | None
    effects: Sequence[Put]
    version: int


def ledger_step(
    record: Mapping[str, Any],
    state: LedgerState,
    directory: Directory,
    signer: Signer,
    *,
    version: int,
    event: Event | None = None,
    headers: Sequence[tuple[str, bytes]] = (),
) -> LedgerResult:
    """Stage B for one forwarded input; ``version`` is its offset in its ledger partition.
    ``event``: ``parse_forwarded(record)`` when the caller has it already (the
    :class:`Forwarded` of the ingest step that wrote ``record``). ``headers``: the ledger
    record's, whose trace context the outputs continue (:func:`traced`)."""
    if event is None:
        event = parse_forwarded(record)
    owner = owner_of(record["owner"])
    key = f"{event.source}|{event.id}"
    stored = state.get("decisions", key)
    if stored is not None and stored["sha256"] == event.sha256:
        # Redelivery: re-apply the stored state change and re-send the stored messages.
        effects = [Put(t, k, v) for t, k, v in stored["effects"]]
        outputs = [Output(t, k, v.encode("utf-8")) for t, k, v in stored["outputs"]]
        outputs = _hop(outputs, headers, event, "ledger")
        return LedgerResult(outputs, None, effects, int(stored["version"]))
    evaluation = evaluate(event, state, directory)
    after = [e.value for e in evaluation.effects if e.table == "blocks"]
    ca_id = event.payload_field("ca_id")
    entry = dec.decision_wire(
        event,
        evaluation,
        decided_at=iso_ms(int(record["timestamp_ms"])),
        block_records=after,
        ca_id=ca_id,
        replays=record["replays"] if isinstance(record.get("replays"), dict) else None,
    )
    entry_id, decided_at = entry["entry_id"], entry["decided_at"]
    outputs = _entry_outputs(entry, dec.decision_bytes(entry), owner, signer)
    for i, notice in enumerate(evaluation.notices):
        data = {"kind": notice.kind, "body": notice.body}
        msg = signer.envelope("notice", f"ntc-{entry_id}-{i}", decided_at, data, plain=True)
        outputs.append(
            Output(
                topics.output_topic(notice.registry_id),
                notice.body.get("transaction_id", event.id),
                msg,
            )
        )
    stored_value = {
        "sha256": event.sha256,
        "version": version,
        "entry_id": entry_id,
        "effects": [[e.table, e.key, e.value] for e in evaluation.effects],
        "outputs": [[o.topic, o.key, o.value.decode("utf-8")] for o in outputs],
    }
    outputs = _hop(outputs, headers, event, "ledger")
    return LedgerResult(outputs, Put("decisions", key, stored_value), evaluation.effects, version)


def timeout_record(tx: Mapping[str, Any], signer: Signer, directory: Directory) -> Output:
    """The gateway's own ``transfer.timeout`` input for an overdue transfer.

    Deterministic (id, time and signature depend only on the transfer), so two workers or two
    timer runs that emit it produce the same input, decided once.
    """
    data = {
        "transaction_id": tx["transaction_id"],
        "ca_id": tx["ca_id"],
        "originating_registry": tx["origin"],
        "deadline": tx["deadline"],
    }
    event_id = f"timeout-{tx['ca_id']}-{tx['transaction_id']}"
    value = signer.envelope("transfer.timeout", event_id, tx["deadline"], data)
    registry = tx["transferring"]["registry_id"]
    owner = TopicOwner(registry=registry, party=directory.registry_party.get(registry, ""))
    deadline = datetime.fromisoformat(tx["deadline"].replace("Z", "+00:00"))
    name = "a6gw.transfer.timeout.v1"
    head = {"source": signer.source, "id": event_id, "type": EVENT_TYPES[name].type}
    record = {
        "event": head | {"time": tx["deadline"]},
        "data": json.dumps(data),
        "sha256": sha256_hex(value),
        "signer": signer.source,
        "role": "gateway",
        "owner": owner.model_dump(),
        "timestamp_ms": int(deadline.timestamp() * 1000),
    }
    return Output(LEDGER_TOPIC, tx["ca_id"], canonical_bytes(record))
