"""Audit entries and decision messages, built from plain values.

An audit entry is one JSON object, serialised with RFC 8785, that becomes one leaf of the
audit log. ``entry_id`` is derived from the input's identity, so a redelivery maps to the
same entry and the sequencer can skip it:

- authenticated input: ``(source, id, sha256 of the bytes)``: the same id with other bytes
  is a different input (and a coded conflict);
- input that cannot be authenticated: ``(topic, partition, offset)``.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import TypeAdapter

from gateway.core import discrepancy as dsc
from gateway.core.blocks import Block
from gateway.core.canonical import canonical_bytes, plain_bytes, sha256_hex
from gateway.core.decision_time import iso_ms
from gateway.core.ingest import RawInput
from gateway.core.model import Evaluation, Event, Finding
from gateway.core.reconcile import Report
from schemas import entries as en
from schemas import entry_parts as ep

ENTRY_VERSION: Final = 1
#: The input type of a reconciliation run's entry.
RUN_TYPE: Final = "a6gw.reconciliation.run"
#: The header of a replayed input: ``<topic>/<partition>/<offset>`` of the dead input.
REPLAY_HEADER = "a6gw-replay-of"
#: Notifications whose content the reports need: their entry carries the event's data.
RECORDS_DATA = frozenset(
    {"authorization", "inventory.emissions", "summary.reported", "entity.authorized"}
)


def event_entry_id(source: str, event_id: str, sha256: str) -> str:
    return "ev-" + sha256_hex(f"{source}\n{event_id}\n{sha256}".encode())[:40]


def raw_entry_id(topic: str, partition: int, offset: int) -> str:
    return "raw-" + sha256_hex(f"{topic}\n{partition}\n{offset}".encode())[:40]


_RESULTS = TypeAdapter(list[ep.Result])
_BLOCKS = TypeAdapter(list[ep.BlockRecord])
_ROWS = TypeAdapter(list[ep.ActionRow])
_SOURCE: TypeAdapter[ep.FromFile | ep.FromHttps | ep.FromKafka] = TypeAdapter(
    ep.FromFile | ep.FromHttps | ep.FromKafka
)


def _results(findings: Sequence[Finding]) -> list[ep.Result]:
    return _RESULTS.validate_python([f.wire() for f in findings])


def decision_entry(
    event: Event,
    evaluation: Evaluation,
    *,
    decided_at: str,
    blocks_after: Sequence[Block] = (),
    ca_id: str | None = None,
    replays: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The audit entry for an authenticated input's decision (its JSON object)."""
    return decision_model(
        event,
        evaluation,
        decided_at=decided_at,
        blocks_after=blocks_after,
        ca_id=ca_id,
        replays=replays,
    ).wire()


def decision_model(
    event: Event,
    evaluation: Evaluation,
    *,
    decided_at: str,
    blocks_after: Sequence[Block] = (),
    ca_id: str | None = None,
    replays: Mapping[str, Any] | None = None,
) -> en.DecisionEntry:
    """The audit entry for an authenticated input's decision, as its model; ``replays``:
    the dead letter it replays (:func:`replay_of`)."""
    transaction_id = getattr(event.payload, "transaction_id", None)
    account_type = getattr(event.payload, "account_type", None)
    account = (
        ep.AccountOf(
            registry=str(event.payload.registry_id),  # type: ignore[attr-defined]
            account_id=str(event.payload.account_id),  # type: ignore[attr-defined]
            account_type=str(account_type),
        )
        if isinstance(account_type, str)
        else None
    )
    records_data = event.name in RECORDS_DATA and evaluation.outcome == "recorded"
    return en.DecisionEntry(
        entry_version=ENTRY_VERSION,
        entry_type="decision",
        entry_id=event_entry_id(event.source, event.id, event.sha256),
        input=ep.DecisionInput(
            source=event.source,
            id=event.id,
            type=event.type,
            kind=event.kind,  # type: ignore[arg-type]
            time=event.time,
            sha256=event.sha256,
            signer=event.signer_principal,
            subject=event.subject,
            traceparent=event.traceparent,
            tracestate=event.tracestate,
        ),
        ca_id=ca_id,
        outcome=evaluation.outcome,
        results=_results(evaluation.findings),
        actions=list(evaluation.actions),
        quantity=str(evaluation.quantity),
        blocks=_BLOCKS.validate_python([b.to_record() for b in blocks_after]),
        decided_at=decided_at,
        note=evaluation.note or None,
        a6=_ROWS.validate_python(list(evaluation.a6)) if evaluation.a6 else None,
        data=event.payload if records_data else None,  # type: ignore[arg-type]
        transaction_id=transaction_id if isinstance(transaction_id, str) else None,
        account=account,
        replays=ep.ReplayOf.model_validate(replays) if replays is not None else None,
    )


def decision_wire(
    event: Event,
    evaluation: Evaluation,
    *,
    decided_at: str,
    block_records: Sequence[Mapping[str, Any]] = (),
    ca_id: str | None = None,
    replays: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """:func:`decision_entry`, built as the JSON object directly: the same members in the
    same order as ``decision_model(...).wire()`` (the tests compare the two), without
    validating again what is already valid (the authenticated event's fields and payload,
    the ledger's findings, blocks and rows). ``block_records``: the blocks after the
    decision as :meth:`Block.to_record` wrote them (its ``blocks`` effects' values).
    ``replays``, read from a record, is validated.
    """
    p = event.payload
    out: dict[str, Any] = {
        "entry_version": ENTRY_VERSION,
        "entry_type": "decision",
        "entry_id": event_entry_id(event.source, event.id, event.sha256),
        "input": {
            "source": event.source,
            "id": event.id,
            "type": event.type,
            "kind": event.kind,
            "time": event.time,
            "sha256": event.sha256,
            "signer": event.signer_principal,
            **_originating(event),
        },
        "ca_id": ca_id,
        "outcome": evaluation.outcome,
        "results": [f.wire() for f in evaluation.findings],
        "actions": list(evaluation.actions),
        "quantity": str(evaluation.quantity),
        "blocks": [dict(r) for r in block_records],
        "decided_at": decided_at,
    }
    if evaluation.note:
        out["note"] = evaluation.note
    if evaluation.a6:
        out["a6"] = [dict(r) for r in evaluation.a6]
    if event.name in RECORDS_DATA and evaluation.outcome == "recorded":
        out["data"] = p.model_dump(mode="json", by_alias=True)
    transaction_id = event.payload_field("transaction_id")
    if isinstance(transaction_id, str):
        out["transaction_id"] = transaction_id
    account_type = event.payload_field("account_type")
    if isinstance(account_type, str):
        registry, account_id = p.registry_id, p.account_id  # type: ignore[attr-defined]
        out["account"] = {
            "registry": str(registry),
            "account_id": str(account_id),
            "account_type": account_type,
        }
    if replays is not None:
        out["replays"] = ep.ReplayOf.model_validate(replays).model_dump(mode="json")
    return out


def _originating(event: Event) -> dict[str, str]:
    """The envelope's ``subject`` and trace context an entry's ``input`` keeps, if any."""
    if event.subject is None and event.traceparent is None:
        return {}
    found = {
        "subject": event.subject,
        "traceparent": event.traceparent,
        "tracestate": event.tracestate,
    }
    return {k: v for k, v in found.items() if v is not None}


def decision_bytes(entry: dict[str, Any]) -> bytes:
    """:func:`entry_bytes` of a :func:`decision_wire` entry. Its members are strings, lists,
    objects and small integers (versions, vintages, years) except the recorded ``data`` and
    ``replays`` (integers of any size), which go through the full canonicalisation."""
    if "data" in entry or "replays" in entry:
        return entry_bytes(entry)
    return plain_bytes(entry)


def dead_letter_entry(raw: RawInput, finding: Finding) -> dict[str, Any]:
    """The audit entry for an input that could not be parsed or authenticated."""
    return dead_letter_model(raw, finding).wire()


def dead_letter_model(raw: RawInput, finding: Finding) -> en.DeadLetterEntry:
    """:func:`dead_letter_entry` as its model."""
    return en.DeadLetterEntry(
        entry_version=ENTRY_VERSION,
        entry_type="dead-letter",
        entry_id=raw_entry_id(raw.topic, raw.partition, raw.offset),
        input=ep.RecordInput(
            topic=raw.topic,
            partition=raw.partition,
            offset=raw.offset,
            size=len(raw.value),
            sha256=raw.sha256,
        ),
        outcome="dead-lettered",
        results=_results([finding]),
        decided_at=iso_ms(raw.timestamp_ms),
    )


def dead_letter_record(raw: RawInput, finding: Finding, *, keep_bytes: int) -> dict[str, Any]:
    """The ``a6.dlq`` record: where the input came from (topic, partition, offset, key,
    time), why, and (a prefix of) its bytes (published: ``schemas.records.DeadLetter``)."""
    return {
        "reason_code": finding.code,
        "reason": finding.message,
        "topic": raw.topic,
        "partition": raw.partition,
        "offset": raw.offset,
        "key_b64": None if raw.key is None else base64.b64encode(raw.key).decode("ascii"),
        "timestamp_ms": raw.timestamp_ms,
        "sha256": raw.sha256,
        "size": len(raw.value),
        "value_b64": base64.b64encode(raw.value[:keep_bytes]).decode("ascii"),
        "truncated": len(raw.value) > keep_bytes,
        "audit_entry_id": raw_entry_id(raw.topic, raw.partition, raw.offset),
    }


def replay_of(headers: Sequence[tuple[str, bytes]]) -> dict[str, Any] | None:
    """The dead letter a replayed input replays (from its header), or None.

    The header names where the dead input was read (``topic/partition/offset``); the value
    is only a reference that the decision's entry carries, never trusted for anything else.
    """
    for name, value in headers:
        if name != REPLAY_HEADER:
            continue
        try:
            topic, part, off = value.decode("ascii").rsplit("/", 2)
            partition, offset = int(part), int(off)
        except (UnicodeDecodeError, ValueError):
            return None
        if not (0 <= partition < 2**31 and 0 <= offset < 2**63):
            return None
        where: dict[str, Any] = {"topic": topic, "partition": partition, "offset": offset}
        eid = raw_entry_id(topic, partition, offset)
        return where | {"audit_entry_id": eid}
    return None


def decision_data(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The ``data`` of the signed ``a6gw.decision.v2`` message sent back to the registry,
    from a decision entry's JSON object (:func:`decision_wire`, or one kept and read back
    through the entry model): v1's members, the input's ``transaction_id`` (null when it
    has none) and a :func:`decision_note` for a person."""
    inp = entry["input"]
    return {
        "input_source": inp["source"],
        "input_id": inp["id"],
        "input_type": inp["type"],
        "input_sha256": inp["sha256"],
        "transaction_id": entry.get("transaction_id"),
        "outcome": entry["outcome"],
        "note": decision_note(entry),
        "results": entry["results"],
        "derived_actions": list(entry["actions"]),
        "audit_entry_id": entry["entry_id"],
        "quantity": entry["quantity"],
    }


def decision_note(entry: Mapping[str, Any]) -> str:
    """One sentence on a decision for a person: the first failed check's message; else the
    ledger's own note (a timeout's "transfer T cancelled: no answer by D"); else what was
    decided and done ("transfer T accepted: First transfer, 100 units")."""
    outcome = entry["outcome"]
    results = entry["results"]
    if results and outcome in ("rejected", "discrepancy"):
        first = results[0]
        return str(first["message"] or first["code"])
    if entry.get("note"):
        return str(entry["note"])
    inp = entry["input"]
    name = inp["type"].removeprefix("a6gw.").rsplit(".v", 1)[0]
    said = f"{name} {entry.get('transaction_id') or inp['id']} {outcome}"
    done = list(entry["actions"])
    if entry["quantity"] != "0":
        done.append(f"{entry['quantity']} units")
    return f"{said}: {', '.join(done)}" if done else said


def entry_bytes(entry: dict[str, Any]) -> bytes:
    """Leaf bytes: RFC 8785 never emits a raw 0x0A, so one entry is one bundle line."""
    return canonical_bytes(entry)


def parked_entry(
    registry: str, msg_id: str, key: str, code: str, reason: str, at: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A message parked for an HTTPS partner: its audit entry, and its finding (DLV-001)."""
    ident = sha256_hex(f"{registry}\n{msg_id}\nparked".encode())[:40]
    entry_id = f"dlv-{ident}"
    entry = en.DeliveryParkedEntry(
        entry_version=ENTRY_VERSION,
        entry_type="delivery-parked",
        entry_id=entry_id,
        input=ep.ParkedMessage(registry=registry, message_id=msg_id, key=key),
        outcome="parked",
        results=_results([Finding(code, reason)]),
        decided_at=at,
    ).wire()
    found = dsc.Discrepancy(
        id=dsc.discrepancy_id("delivery", entry_id),
        code="DLV-001",
        severity="warning",
        registries=(registry,),
        blocks=(),
        first_seen=at,
        found_by="delivery",
        source_entry=entry_id,
        summary=f"message {msg_id} for {registry} is parked: {reason}",
        detail={"message_id": msg_id, "key": key, "cause": code},
    )
    return entry, dsc.record(found)


def reconciliation_entry(
    registry: str, report: Report, at_ms: int, source: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The audit entry of one reconciliation run of ``registry``'s snapshot; ``source`` says
    where the snapshot came from (a file's digest, the signed pages)."""
    run_id = "rec-" + sha256_hex(f"{registry}\n{at_ms}\n{report.to_json()}".encode())[:40]
    return en.ReconciliationEntry(
        entry_version=ENTRY_VERSION,
        entry_type="reconciliation",
        entry_id=run_id,
        input=ep.RunInput(
            type=RUN_TYPE,
            id=run_id,
            registry=registry,
            kind="snapshot",
            snapshot=_SOURCE.validate_python(dict(source)) if source else None,
        ),
        outcome=report.status,
        results=[ep.Result(code=c, message="", blocks=[]) for c in report.codes],
        report=ep.RunReport.model_validate(report.to_dict()),
        decided_at=iso_ms(at_ms),
    ).wire()
