"""The discrepancy stage, as a pure step: findings are opened, operators' commands applied.

Two topics feed it, both keyed by discrepancy id and partitioned alike, so one worker owns
each discrepancy: ``a6.discrepancies`` (findings, from reconciliation runs, decisions on
notifications whose checks failed, and parked deliveries) and ``a6.discrepancy.commands``
(operators' signed commands, ``a6gw.discrepancy.command.v1``). Every record ends as exactly
one audit entry: a finding as its ``open`` entry, a command as the discrepancy after it or
as a coded refusal, and a record that is not a finding or not an authentic command as a
dead-letter entry (it is never lost and never stops the worker).

The step returns the table write and the outputs; the caller sends the outputs first and
writes the table after, so a crash in between replays the same step to the same entry.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.core import decision as dec
from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision_time import iso_ms
from gateway.core.ingest import COMMAND_TYPES, RawInput, check_key, event_of, parse_envelope
from gateway.core.model import Finding
from gateway.core.signing import load_public_key_b64, sign_envelope, verify_envelope
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC, COMMANDS_TOPIC, DLQ_TOPIC, FINDINGS_TOPIC
from gateway.core.trust import Trust
from gateway.errors import AuthenticationError, SchemaError
from schemas import events as ev

__all__ = ["COMMANDS_TOPIC", "FINDINGS_TOPIC", "oversight_step"]


@dataclass
class OversightResult:
    outputs: list[Output] = field(default_factory=list)
    put: tuple[str, dict[str, Any]] | None = None


def _dead(raw: RawInput, code: str, message: str, max_bytes: int) -> OversightResult:
    finding = Finding(code, message)
    entry = dec.dead_letter_entry(raw, finding)
    dlq = dec.dead_letter_record(raw, finding, keep_bytes=min(max_bytes, 64 * 1024))
    return OversightResult(
        [
            Output(DLQ_TOPIC, entry["entry_id"], canonical_bytes(dlq)),
            Output(AUDIT_TOPIC, entry["entry_id"], dec.entry_bytes(entry)),
        ]
    )


def on_finding(raw: RawInput, known: Mapping[str, Any], *, max_bytes: int) -> OversightResult:
    """A finding: its ``open`` entry (the same entry however often it is seen), and the
    table row the first time."""
    if len(raw.value) > max_bytes:
        return _dead(
            raw, "MSG-008", f"finding of {len(raw.value)} bytes exceeds {max_bytes}", max_bytes
        )
    try:
        found = dsc.from_record(json.loads(raw.value))
    except (ValueError, UnicodeDecodeError) as exc:
        return _dead(raw, "MSG-001", f"not a discrepancy record: {exc}", max_bytes)
    if raw.key != found.id.encode():
        return _dead(raw, "MSG-007", "the record key must be the discrepancy id", max_bytes)
    try:
        entry = dsc.opened_entry(found)
    except ValueError as exc:  # a field the entry's model refuses (an id, a serial...)
        return _dead(raw, "MSG-001", f"not a discrepancy record: {exc}", max_bytes)
    out = [Output(AUDIT_TOPIC, entry["entry_id"], dec.entry_bytes(entry))]
    put = None if known.get(found.id) is not None else (found.id, dsc.record(found))
    return OversightResult(out, put)


def authenticate_command(
    raw: RawInput,
    trust: Trust,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    max_bytes: int,
) -> tuple[dict[str, Any], dsc.Command]:
    """The command's identity (as an audit entry's ``input``) and content.

    :raises SchemaError: MSG-001/MSG-008/MSG-007 not a command envelope, or keyed wrongly.
    :raises AuthenticationError: MSG-002/MSG-003 not signed by an active operator key.
    """
    obj, envelope = parse_envelope(raw.value, max_bytes)
    if envelope.type not in COMMAND_TYPES:
        raise SchemaError(f"{envelope.type} is not an operator command", code="MSG-001")
    received = datetime.fromtimestamp(raw.timestamp_ms / 1000, tz=UTC)
    key = check_key(trust, envelope, received)
    verify_envelope(obj, public_keys.get(key.key_id) or load_public_key_b64(key.public_key))
    event = event_of(envelope, raw.sha256, key.principal, key.role, raw.timestamp_ms)
    p = event.payload
    assert isinstance(p, ev.DiscrepancyCommand)
    if raw.key != p.discrepancy_id.encode():
        raise SchemaError("the record key must be the discrepancy id", code="MSG-007")
    identity = {
        "source": event.source,
        "id": event.id,
        "type": event.type,
        "time": event.time,
        "sha256": event.sha256,
        "signer": key.principal,
    }
    at = iso_ms(raw.timestamp_ms)
    return identity, dsc.Command(
        p.discrepancy_id, p.action, key.principal, at, note=p.note, correction=p.correction
    )


def on_command(
    raw: RawInput,
    known: Mapping[str, Any],
    trust: Trust,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    max_bytes: int,
) -> OversightResult:
    """An operator's command: the discrepancy after it, or the coded refusal."""
    try:
        identity, cmd = authenticate_command(raw, trust, public_keys, max_bytes=max_bytes)
    except (SchemaError, AuthenticationError) as exc:
        return _dead(raw, exc.code, str(exc), max_bytes)
    row = known.get(cmd.discrepancy_id)
    before = dsc.from_record(row) if row is not None else None
    after = dsc.apply(before, cmd)
    entry = dsc.command_entry(identity, after, before, cmd.at)
    out = [Output(AUDIT_TOPIC, entry["entry_id"], dec.entry_bytes(entry))]
    if isinstance(after, dsc.Refused):
        return OversightResult(out)
    return OversightResult(out, (after.id, dsc.record(after)))


def command_envelope(
    key: Ed25519PrivateKey,
    *,
    key_id: str,
    principal: str,
    discrepancy_id: str,
    action: dsc.Action,
    time: str,
    note: str = "",
    correction: str = "",
    command_id: str | None = None,
) -> bytes:
    """A signed ``a6gw.discrepancy.command.v1`` (published keyed by ``discrepancy_id``).

    The id defaults to one derived from the content, so sending the same command twice is
    one command."""
    data = {"discrepancy_id": discrepancy_id, "action": action}
    data |= ({"note": note} if note else {}) | ({"correction": correction} if correction else {})
    ident = command_id or "cmd-" + sha256_hex(canonical_bytes(data) + time.encode())[:32]
    env = {
        "specversion": "1.0",
        "id": ident,
        "source": principal,
        "type": "a6gw.discrepancy.command.v1",
        "time": time,
        "datacontenttype": "application/json",
        "a6keyid": key_id,
        "data": data,
    }
    return canonical_bytes(sign_envelope(env, key))


def command_entry_id(value: bytes) -> str:
    """The id of the audit entry a command's bytes end as (to wait for it)."""
    env = json.loads(value)
    return dsc.command_entry_id(str(env["source"]), str(env["id"]), sha256_hex(value))


def oversight_step(
    raw: RawInput,
    known: Mapping[str, Any],
    trust: Trust,
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    max_bytes: int,
) -> OversightResult:
    """One record of either topic."""
    if raw.topic == COMMANDS_TOPIC:
        return on_command(raw, known, trust, public_keys, max_bytes=max_bytes)
    return on_finding(raw, known, max_bytes=max_bytes)
