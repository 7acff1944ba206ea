"""Bytes to an authenticated :class:`Event`: size, JSON, envelope, signer, signature, payload.

Order matters: nothing about the payload is trusted before the signature verifies, and an
input that cannot be attributed to a signer is identified by where it was read
(topic, partition, offset), never by what it claims to be.

**Arrival time.** Freshness (MSG-005), key validity (MSG-002), the notification clock check
(MSG-009), ``decided_at`` and so the reporting year are judged at an input's *arrival time*,
never at a time its producer chose (:func:`arrival_ms`):

- a record whose timestamp type is ``LogAppendTime`` (input topics are created so) carries
  the broker's append time, the same on every redelivery: that is its arrival;
- any other record (``CreateTime``: a topic not yet altered; the producer's clock) is
  believed only within ``limits.max_clock_skew_s`` of the gateway's clock when stage A first
  reads it; outside that window its arrival is the gateway's clock at that moment. So a
  back-dated record gains at most the skew; a backlog older than the skew is judged late,
  never early;
- stage A keeps the arrival it used with the input (``inputs`` table) and stamps it on the
  record it forwards to ``a6.ledger`` (``timestamp_ms``), so a redelivery, the ledger and a
  re-evaluation all see the one time; the gateway clock of a later redelivery is never used.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from gateway.core import binding, jsonlimits
from gateway.core.canonical import NotPlain, dumps, refuse_float, sha256_hex, short_int
from gateway.core.ceprofile import check_trace, dataschema_problem, problems, refusal
from gateway.core.frozen import quick_init
from gateway.core.model import Event
from gateway.core.signing import load_public_key_b64, verify_envelope
from gateway.core.trust import TopicOwner, Trust, TrustedKey
from gateway.errors import AuthenticationError, PayloadInvalid, SchemaError
from schemas._types import Strict
from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES

#: Operators' commands: authenticated by the discrepancy stage, never taken as inputs.
COMMAND_TYPES = frozenset({"a6gw.discrepancy.command.v1"})


@dataclass(frozen=True)
class RawInput:
    """One record as read from an input topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    timestamp_ms: int
    #: Kafka's timestamp type: 0 CreateTime (the producer's clock), 1 LogAppendTime (the
    #: broker's, the same on every redelivery); -1 when unknown
    timestamp_type: int = -1
    #: the record's Kafka headers, in order (name, value)
    headers: tuple[tuple[str, bytes], ...] = ()

    @property
    def sha256(self) -> str:
        return sha256_hex(self.value)


#: Kafka's timestamp types (``RawInput.timestamp_type``)
CREATE_TIME, LOG_APPEND_TIME = 0, 1


def arrival_ms(raw: RawInput, *, now_ms: int, skew_s: int) -> int:
    """When ``raw`` reached the gateway, as the gateway can tell (see the module doc).

    The broker's ``LogAppendTime``; else the record's own timestamp when it lies within
    ``skew_s`` of ``now_ms`` (the gateway's clock as it first reads the record); else
    ``now_ms``.
    """
    if raw.timestamp_type == LOG_APPEND_TIME:
        return raw.timestamp_ms
    if abs(raw.timestamp_ms - now_ms) <= skew_s * 1000:
        return raw.timestamp_ms
    return now_ms


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:  # name the first member that repeats
            if k in seen:
                raise SchemaError(f"duplicate JSON member {k!r}", code="MSG-001")
            seen.add(k)
    return out


# Built once (json.loads with a hook builds a decoder and its scanner on every call).
_PLAIN = json.JSONDecoder(
    object_pairs_hook=_no_duplicate_keys,
    parse_float=refuse_float,
    parse_int=short_int,
    parse_constant=jsonlimits.refuse_constant,
).decode
_ANY = json.JSONDecoder(
    object_pairs_hook=_no_duplicate_keys, parse_constant=jsonlimits.refuse_constant
).decode


def parse_envelope(value: bytes, max_bytes: int) -> tuple[dict[str, Any], Envelope]:
    """Decode and validate the envelope.

    :raises SchemaError: MSG-008 when larger than ``max_bytes``; MSG-001 when not a valid
        envelope (bad UTF-8, bad JSON, duplicate members, missing or extra attributes,
        nesting or integers beyond :mod:`gateway.core.jsonlimits`); MSG-006 for a ``time``
        and MSG-013 for trace context of the wrong form (:mod:`gateway.core.ceprofile`).
    """
    obj, envelope, _ = read_envelope(value, max_bytes)
    return obj, envelope


def read_envelope(value: bytes, max_bytes: int) -> tuple[dict[str, Any], Envelope, bool]:
    """:func:`parse_envelope`, and whether the envelope is *plain*: no float and no integer
    of more than 15 digits anywhere, so its canonical bytes are the C encoder's
    (:func:`gateway.core.canonical.plain_bytes`)."""
    if len(value) > max_bytes:
        raise SchemaError(f"message of {len(value)} bytes exceeds {max_bytes}", code="MSG-008")
    try:
        obj, plain = jsonlimits.loads_with(value, _PLAIN), True
    except NotPlain:
        obj, plain = jsonlimits.loads_with(value, _ANY), False
    if not isinstance(obj, dict):
        raise SchemaError("envelope is not a JSON object", code="MSG-001")
    try:
        envelope = Envelope.model_validate(obj)
    except ValidationError as exc:
        raise refusal(exc, obj) from exc  # MSG-001, MSG-006 (time), MSG-013 (trace)
    try:
        # The pattern admits impossible dates and times (2026-02-30, 24:00): not RFC 3339.
        parse_time(envelope.time)
    except ValueError as exc:
        raise SchemaError(
            f"time is not RFC 3339 UTC: {envelope.time!r} ({exc})", code="MSG-006"
        ) from exc
    check_trace(envelope)  # MSG-013
    return obj, envelope, plain


def may_publish(key: TrustedKey, owner: TopicOwner, joint_committees: set[str]) -> bool:
    """Whether ``key``'s principal may publish on a topic owned by ``owner``.

    A registry's topic takes its own registry's keys and its Party's (authorizing authority,
    inventory agency) and those of Joint Committees the Party sits on; a Party's inventory
    topic takes only that Party's keys.
    """
    if owner.registry is not None and key.principal == owner.registry:
        return True
    if key.principal == owner.party:
        return True
    return owner.registry is not None and key.principal in joint_committees


def check_key(trust: Trust, envelope: Envelope, received_at: datetime) -> TrustedKey:
    """MSG-002: the key is known, active, valid, of a role allowed to sign the event's type,
    and its principal is the envelope's source (whatever topic the envelope came on)."""
    key = trust.by_id.get(envelope.a6keyid)
    if key is None:
        raise AuthenticationError(f"unknown key id {envelope.a6keyid!r}", code="MSG-002")
    if key.status != "active":
        raise AuthenticationError(f"key {key.key_id} is {key.status}", code="MSG-002")
    if received_at < key.valid_from or (key.valid_to is not None and received_at >= key.valid_to):
        raise AuthenticationError(
            f"key {key.key_id} is not valid at {received_at:%Y-%m-%dT%H:%M:%SZ}", code="MSG-002"
        )
    if envelope.type not in EVENT_TYPES:
        raise SchemaError(f"unknown event type {envelope.type!r}", code="MSG-001")
    roles = trust.roles_for(envelope.type)
    if key.role not in roles:
        raise AuthenticationError(
            f"role {key.role} may not sign {envelope.type} (allowed: {', '.join(roles)})",
            code="MSG-002",
        )
    if envelope.source != key.principal:
        raise AuthenticationError(
            f"source {envelope.source!r} is not the signer {key.principal!r}", code="MSG-002"
        )
    return key


def check_signer(
    trust: Trust,
    envelope: Envelope,
    owner: TopicOwner,
    joint_committees: set[str],
    received_at: datetime,
) -> TrustedKey:
    """MSG-002: :func:`check_key`, and the signer owns the input topic."""
    key = check_key(trust, envelope, received_at)
    if envelope.type in COMMAND_TYPES:
        raise AuthenticationError(
            f"{envelope.type} goes on the gateway's command topic, not an input topic",
            code="MSG-002",
        )
    if not may_publish(key, owner, joint_committees):
        where = owner.registry or owner.party
        raise AuthenticationError(
            f"{key.principal} may not publish on {where}'s topic", code="MSG-002"
        )
    return key


def authenticate(
    raw: RawInput,
    owner: TopicOwner,
    trust: Trust,
    public_keys: Mapping[str, Ed25519PublicKey],
    joint_committees: set[str],
    *,
    max_bytes: int,
    arrival: Callable[[Envelope], int] | None = None,
) -> Event:
    """Turn one input record into an authenticated event.

    The key's validity is judged at ``arrival(envelope)`` (ms; by default the record's
    timestamp), which becomes the event's ``received_ms``.

    :raises SchemaError: (MSG-001, MSG-008) the bytes are not an envelope; (MSG-011) nor
        are they, and the record's ``ce_`` headers say it is a binary-mode CloudEvent.
    :raises AuthenticationError: (MSG-002, MSG-003) the signer may not send it or the
        signature does not verify.
    :raises PayloadInvalid: (MSG-001) authentic envelope, invalid ``data``; (MSG-012) its
        ``dataschema`` is not its type's; carries the event.
    """
    try:
        obj, envelope, plain = read_envelope(raw.value, max_bytes)
    except SchemaError as exc:
        if exc.code == "MSG-001" and binding.binary_mode(raw.headers):
            raise SchemaError(
                "a CloudEvent in binary content mode (ce_ headers): the gateway takes only "
                f"structured mode, the signed envelope as the value ({exc.args[0]})",
                code="MSG-011",
            ) from exc
        raise
    received_ms = raw.timestamp_ms if arrival is None else arrival(envelope)
    received = datetime.fromtimestamp(received_ms / 1000, tz=UTC)
    key = check_signer(trust, envelope, owner, joint_committees, received)
    public = public_keys.get(key.key_id) or load_public_key_b64(key.public_key)
    verify_envelope(obj, public, plain=plain)
    event = event_of(envelope, raw.sha256, key.principal, key.role, received_ms)
    wrong_schema = dataschema_problem(envelope)
    if wrong_schema is not None:
        raise PayloadInvalid(wrong_schema, event, code="MSG-012")
    return event


def event_of(
    envelope: Envelope, sha256: str, principal: str, role: str, received_ms: int = 0
) -> Event:
    """The event an authenticated envelope carries, its ``data`` validated by type.

    :raises PayloadInvalid: (MSG-001) when ``data`` does not match the event type's model.
    """
    head = EventHead(
        envelope.source,
        envelope.id,
        envelope.type,
        envelope.time,
        envelope.subject,
        envelope.traceparent,
        envelope.tracestate,
    )
    return event_from(head, dumps(envelope.data), sha256, principal, role, received_ms)


@quick_init
@dataclass(frozen=True)
class EventHead:
    """The envelope attributes an event keeps (its ``source``, ``id``, ``type``, ``time``;
    ``subject`` and the originating trace context when it has them)."""

    source: str
    id: str
    type: str
    time: str
    subject: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None


def event_from(
    head: EventHead, data_json: str, sha256: str, principal: str, role: str, received_ms: int
) -> Event:
    """The event of an envelope's attributes and its ``data`` (JSON text), validated by type.

    :raises PayloadInvalid: (MSG-001) when ``data`` does not match the event type's model.
    :raises KeyError: when ``head.type`` is no event type (the caller checked it).
    """
    et = EVENT_TYPES[head.type]

    def event(payload: Strict) -> Event:
        return Event(
            source=head.source,
            id=head.id,
            type=head.type,
            name=et.name,
            kind=et.kind,
            time=head.time,
            payload=payload,
            sha256=sha256,
            signer_principal=principal,
            signer_role=role,
            received_ms=received_ms,
            data_json=data_json,
            subject=head.subject,
            traceparent=head.traceparent,
            tracestate=head.tracestate,
        )

    try:
        payload = et.model.model_validate_json(data_json)
    except ValidationError as exc:
        raise PayloadInvalid(f"invalid {et.name} data: {problems(exc)}", event(_EMPTY)) from exc
    return event(payload)


def parse_time(value: str) -> datetime:
    """An envelope ``time`` (already pattern-checked) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def freshness(event: Event, timestamp_ms: int, *, max_age_s: int, skew_s: int) -> str | None:
    """MSG-005: why a proposal is stale or from the future, or None when it is fresh.

    UKETS transaction log check -1: a proposal older than N hours is not started.
    """
    if event.kind != "proposal":
        return None
    age = timestamp_ms / 1000 - parse_time(event.time).timestamp()
    if age > max_age_s:
        return f"proposal is {age / 3600:.1f} h old (limit {max_age_s / 3600:.1f} h)"
    if age < -skew_s:
        return f"proposal time is {-age:.0f} s ahead of its arrival (limit {skew_s} s)"
    return None


def ahead_of_arrival(event: Event, arrival: int, *, skew_s: int) -> str | None:
    """MSG-009: why a notification's ``time`` is too far after its arrival, or None.

    A registry reports an act it completed; an act dated more than ``skew_s`` after the
    report reached the gateway says the registry's clock (or its record) is wrong.
    """
    if event.kind != "notification":
        return None
    ahead = parse_time(event.time).timestamp() - arrival / 1000
    if ahead > skew_s:
        return f"notification time is {ahead:.0f} s after its arrival (limit {skew_s} s)"
    return None


def routing_key(event: Event) -> str:
    """The ledger partition key: the cooperative approach (one serial space per event)."""
    fields = event.payload.__dict__  # a payload model's fields (see Event.payload_field)
    ca = fields.get("ca_id")
    if isinstance(ca, str):
        return ca
    registry = fields.get("registry_id")
    if isinstance(registry, str):
        return f"registry:{registry}"
    return f"party:{fields.get('party', event.source)}"


class _Pending(Strict):
    """Placeholder payload of an event whose ``data`` is not validated yet."""


_EMPTY = _Pending()
