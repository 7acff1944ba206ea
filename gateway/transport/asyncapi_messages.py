"""The messages of the AsyncAPI document (:mod:`gateway.transport.asyncapi`): their payloads.

A signed event's payload is the published envelope schema with its ``type`` fixed and its
``data`` the event type's own schema (``schemas/json/``, referenced by relative path; a
notice's is ``notice-data.schema.json``, one body per kind). Dead letters and audit entries
reference their published schemas too. The gateway's other internal records have no
published schema yet: each gets here the minimal schema its writer's code guarantees (named
below), marked as such, so that a reader knows what to expect without trusting more than is
promised.
"""

from __future__ import annotations

from typing import Any

from gateway.core import binding, mac, tracecontext
from gateway.core.decision import REPLAY_HEADER
from gateway.core.topics import AUDIT_TOPIC, COMMANDS_TOPIC, FINDINGS_TOPIC, LEDGER_TOPIC
from schemas.events import EVENT_TYPES
from schemas.records import (
    CHECKPOINT_REQUEST_SCHEMA,
    DEAD_LETTER_SCHEMA,
    DISCREPANCY_SCHEMA,
    LEDGER_RECORD_SCHEMA,
    NOTICE_SCHEMA,
)

#: where the document lives relative to the JSON Schemas (schemas/asyncapi -> schemas/json)
SCHEMA_REF = "../json/"
ENVELOPE_FILE = "envelope.schema.json"
AUDIT_ENTRY_FILE = "audit-entry.schema.json"
SCHEMA_FORMAT = "application/schema+json;version=2020-12"
CLOUDEVENTS_JSON = "application/cloudevents+json"
#: event types whose ``data`` has a schema narrower than the catalogue model's
DATA_SCHEMAS = {"a6gw.notice.v1": f"{NOTICE_SCHEMA}.schema.json"}
#: the note that marks a schema written here rather than published under schemas/json
UNPUBLISHED = "No published JSON Schema yet: the fields below are what the writer guarantees."


def message_id(event_type: str) -> str:
    """``a6gw.transfer.answer.v1`` -> ``transferAnswer``: a document-wide message id."""
    head, major = event_type.removeprefix("a6gw.").rsplit(".v", 1)
    words = head.replace("-", ".").split(".")
    # a later major version is its own message: a6gw.decision.v2 -> decisionV2
    return (
        words[0]
        + "".join(w.capitalize() for w in words[1:])
        + ("" if major == "1" else f"V{major}")
    )


def event_ids(roles: frozenset[str]) -> list[str]:
    """Message ids of the event types a signer of one of ``roles`` may publish, in the
    catalogue's order."""
    return [message_id(t) for t, et in EVENT_TYPES.items() if roles & set(et.roles)]


def event_payload(event_type: str) -> dict[str, Any]:
    """The envelope, with ``type`` fixed and ``data`` the type's published schema (for a
    notice, the one that fixes each kind's body)."""
    data = DATA_SCHEMAS.get(event_type, f"{event_type}.schema.json")
    return {
        "allOf": [
            {"$ref": SCHEMA_REF + ENVELOPE_FILE},
            {
                "type": "object",
                "properties": {
                    "type": {"const": event_type},
                    "data": {"$ref": SCHEMA_REF + data},
                },
            },
        ]
    }


CHECKPOINT_NOTE = {
    "type": "string",
    "description": "A signed note (C2SP signed-note) whose text is a tlog checkpoint (C2SP "
    "tlog-checkpoint): the log's origin, size and root hash, then its Ed25519 signature lines.",
}
CHANGELOG_RECORD = {
    "description": "A table row as faust's changelog keeps it: the worker's own state, JSON "
    "with its MAC appended to the value (gateway.worker.sealed); not an interface, listed so "
    "that every topic is named.",
}

#: message id -> (name, title, payload schema, content type)
INTERNAL: dict[str, tuple[str, dict[str, Any], str]] = {
    "ledgerRecord": (
        "Ledger hand-off",
        {"$ref": f"{SCHEMA_REF}{LEDGER_RECORD_SCHEMA}.schema.json"},
        "application/json",
    ),
    "auditEntry": (
        "Audit entry",
        {"$ref": SCHEMA_REF + AUDIT_ENTRY_FILE},
        "application/json",
    ),
    "checkpointRequest": (
        "Checkpoint request",
        {"$ref": f"{SCHEMA_REF}{CHECKPOINT_REQUEST_SCHEMA}.schema.json"},
        "application/json",
    ),
    "checkpoint": ("Signed checkpoint", CHECKPOINT_NOTE, "text/plain; charset=utf-8"),
    "finding": (
        "Discrepancy",
        {"$ref": f"{SCHEMA_REF}{DISCREPANCY_SCHEMA}.schema.json"},
        "application/json",
    ),
    "deadLetter": (
        "Dead letter",
        {"$ref": f"{SCHEMA_REF}{DEAD_LETTER_SCHEMA}.schema.json"},
        "application/json",
    ),
    "changelogRecord": ("Table changelog record", CHANGELOG_RECORD, "application/octet-stream"),
}

MAC_HEADERS: dict[str, Any] = {
    "type": "object",
    "required": [mac.HEADER],
    "properties": {
        mac.HEADER: {
            "type": "string",
            "description": "HMAC-SHA256 (32 bytes) of topic, key and value under the "
            "gateway's shared secret; a record without a valid one is dead-lettered.",
        }
    },
}
INPUT_HEADERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        REPLAY_HEADER: {
            "type": "string",
            "description": "Only on an input `a6gw dlq replay` put back: topic/partition/"
            "offset of the dead letter it replays.",
        }
    },
}

#: structured content mode (CloudEvents Kafka protocol binding §3.2.1)
STRUCTURED_HEADER = {
    "type": "string",
    "const": binding.STRUCTURED.decode("ascii"),
    "description": "CloudEvents structured content mode: the value is the whole envelope. "
    "A record with `ce_` headers and no envelope (binary mode) is refused (MSG-011). "
    "What the envelope may carry: docs/cloudevents.md (the a6gw profile of CloudEvents 1.0).",
}

#: the per-hop trace context (W3C Trace Context over Kafka headers; docs/cloudevents.md)
TRACE_HEADERS = {
    tracecontext.TRACEPARENT: {
        "type": "string",
        "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$",
        "description": "W3C traceparent of the hop that wrote the record. On what the "
        "gateway writes in answer to an input that carried trace context: the same trace "
        "id, a new parent id per stage. Never part of the signed envelope "
        "(docs/cloudevents.md).",
    },
    tracecontext.TRACESTATE: {
        "type": "string",
        "description": "W3C tracestate, passed on unchanged beside traceparent.",
    },
}
#: the internal topics whose records answer an input (and so may continue its trace)
TRACED_INTERNAL = frozenset({LEDGER_TOPIC, AUDIT_TOPIC, FINDINGS_TOPIC})


def headers_of(address: str, *, internal: bool, is_input: bool) -> dict[str, Any] | None:
    """The Kafka headers of a channel's records: the MAC on internal topics, the replay
    header on inputs, ``content-type`` where the records are CloudEvents (required where
    only the gateway writes them), the per-hop trace context where a record may carry it."""
    out: dict[str, Any]
    if internal:
        out = {**MAC_HEADERS, "properties": dict(MAC_HEADERS["properties"])}
    elif is_input:
        out = {**INPUT_HEADERS, "properties": dict(INPUT_HEADERS["properties"])}
    else:
        out = {"type": "object", "properties": {}}
    if binding.carries_envelopes(address):
        out["properties"][binding.CONTENT_TYPE] = STRUCTURED_HEADER
        if not is_input and address != COMMANDS_TOPIC:
            out["required"] = [*out.get("required", []), binding.CONTENT_TYPE]
    if binding.carries_envelopes(address) or address in TRACED_INTERNAL:
        out["properties"].update(TRACE_HEADERS)
    return out if out["properties"] else None


def payload_schemas() -> dict[str, dict[str, Any]]:
    """``components.schemas``: one payload per message id, each a Multi Format Schema
    Object, as the published schemas are JSON Schema 2020-12 (not AsyncAPI's draft-07
    superset, whose ``discriminator`` is a string)."""
    out = {message_id(t): event_payload(t) for t in EVENT_TYPES}
    out |= {mid: schema for mid, (_, schema, _) in INTERNAL.items()}
    return {mid: {"schemaFormat": SCHEMA_FORMAT, "schema": s} for mid, s in out.items()}


def title_of(mid: str) -> str:
    for t, et in EVENT_TYPES.items():
        if message_id(t) == mid:
            doc = (et.model.__doc__ or "").strip().splitlines()
            return doc[0] if doc else t
    return INTERNAL[mid][0]


def name_of(mid: str) -> str:
    """The CloudEvents type of an event message, else the message id."""
    return next((t for t in EVENT_TYPES if message_id(t) == mid), mid)


def content_type(mid: str) -> str:
    return INTERNAL[mid][2] if mid in INTERNAL else CLOUDEVENTS_JSON
