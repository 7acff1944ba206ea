"""The ``a6.ledger`` record: what stage A forwards of an authenticated input, and how stage B
reads it back.

Stage A writes the record (:func:`forward`) and keeps what it wrote: the record's JSON
object and the event it authenticated (:class:`Forwarded`). Stage B reads the record back
(``json.loads`` and :func:`parse_forwarded`: the payload validated again), unless the same
process wrote it: then :class:`Handoff` gives back what stage A kept, found by the record's
exact bytes. Equal bytes read back to an equal object and an equal event (the bytes are a
function of them), so the handoff saves the second parse and changes no decision; a record
from another process, a redelivery or a restart is not found and is parsed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from gateway.core.canonical import canonical_bytes, plain_bytes
from gateway.core.ingest import EventHead, event_from, event_of
from gateway.core.model import Event
from gateway.core.trust import TopicOwner
from gateway.errors import PayloadInvalid, SchemaError
from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES


@dataclass(frozen=True)
class Forwarded:
    """A forwarded record's bytes, the JSON object they encode, and the event it carries."""

    value: bytes
    record: dict[str, Any]
    event: Event


def forward(
    event: Event, owner: TopicOwner, arrived: int, replays: dict[str, Any] | None
) -> Forwarded:
    """The record stage A forwards of ``event`` (arrived at ``arrived`` ms, on a topic of
    ``owner``; ``replays``: the dead letter it replays)."""
    record: dict[str, Any] = {
        # the authenticated event, not its envelope: the ledger needs no second parse
        "event": {"source": event.source, "id": event.id, "type": event.type, "time": event.time},
        "data": event.data_json,
        "sha256": event.sha256,
        "signer": event.signer_principal,
        "role": event.signer_role,
        "owner": {"registry": owner.registry, "party": owner.party},  # owner.model_dump()
        # the arrival time: the ledger judges and dates the input at this time
        "timestamp_ms": arrived,
    }
    head = record["event"]
    for name, given in (
        ("subject", event.subject),
        ("traceparent", event.traceparent),
        ("tracestate", event.tracestate),
    ):
        if given is not None:  # absent when the envelope has none: the record as before
            head[name] = given
    if replays is not None:
        record["replays"] = replays  # the dead letter this input replays (a6gw dlq replay)
        value = canonical_bytes(record)  # an offset may pass 15 digits
    else:
        # validated strings, and a time in ms (up to 15 digits until the year 33658)
        value = plain_bytes(record) if 0 <= arrived < 10**15 else canonical_bytes(record)
    return Forwarded(value, record, event)


def parse_forwarded(record: Mapping[str, Any]) -> Event:
    """Rebuild the event stage A authenticated (no second signature check).

    The record carries the event's envelope attributes and its ``data`` as the JSON text
    stage A validated, so only the payload model is built again. A record of the earlier
    form (the whole envelope as ``value``) is read too.
    """
    signer, role, at = record["signer"], record["role"], record["timestamp_ms"]
    try:
        if "data" in record:
            head = record["event"]
            if head.get("type") not in EVENT_TYPES:
                raise SchemaError(f"forwarded event of unknown type {head.get('type')!r}")
            fields = EventHead(
                head["source"],
                head["id"],
                head["type"],
                head["time"],
                head.get("subject"),
                head.get("traceparent"),
                head.get("tracestate"),
            )
            return event_from(fields, record["data"], record["sha256"], signer, role, at)
        envelope = Envelope.model_validate(json.loads(record["value"]))
        return event_of(envelope, record["sha256"], signer, role, at)
    except PayloadInvalid as exc:  # stage A validated it; a failure here is a bug
        raise SchemaError(f"forwarded event no longer validates: {exc}") from exc


def forwarded_key(record: Mapping[str, Any]) -> str:
    """The ``decisions`` key (``source|id``) of a forwarded record, of either form."""
    head = record["event"] if "data" in record else json.loads(record["value"])
    return f"{head['source']}|{head['id']}"


def owner_of(value: Any) -> TopicOwner:
    """``TopicOwner.model_validate(value)``; a forwarded record names one of a few owners,
    each validated once."""
    if type(value) is dict and len(value) == 2 and "registry" in value and "party" in value:
        registry, party = value["registry"], value["party"]
        if (registry is None or type(registry) is str) and type(party) is str:
            return _owner(registry, party)
    return TopicOwner.model_validate(value)


@lru_cache(maxsize=4096)
def _owner(registry: str | None, party: str) -> TopicOwner:
    return TopicOwner.model_validate({"registry": registry, "party": party})


class Handoff:
    """What stage A forwarded lately in this process, by the record's bytes: at most
    ``size`` records, the oldest dropped first; each is taken once."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._kept: dict[bytes, Forwarded] = {}
        self.hits = 0
        self.misses = 0

    def put(self, forwarded: Forwarded) -> None:
        kept = self._kept
        kept[forwarded.value] = forwarded
        while len(kept) > self.size:
            del kept[next(iter(kept))]

    def take(self, value: bytes) -> Forwarded | None:
        found = self._kept.pop(value, None)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def read(self, value: bytes) -> tuple[Mapping[str, Any], Event | None]:
        """The record ``value`` encodes and, when this process forwarded it, its event
        (None: :func:`parse_forwarded` reads it)."""
        found = self.take(value)
        if found is None:
            return json.loads(value), None
        return found.record, found.event
