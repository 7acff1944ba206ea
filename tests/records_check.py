"""Check the gateway's own records against their published JSON Schemas, and count them.

Dead letters (``a6.dlq``) must fit ``schemas/json/dead-letter.schema.json``; the ``data`` of
every ``a6gw.notice.v1`` event on ``a6.out.<registryId>`` must fit
``schemas/json/notice-data.schema.json``. The in-memory pipelines of the unit tests call
:func:`check` on every record they route, and the integration tests on what they read from
the broker; :data:`SEEN` counts what was checked (by dead letter reason code, by notice
kind) so that a test can show the check ran.

:func:`check_record` checks any record of any topic the gateway writes, as a reader that
has only the published schemas would: the schema is chosen by topic (and, for a CloudEvent,
by its ``type``) and resolved by its absolute ``$id`` in a registry of ``schemas/json``
(:func:`registry`); a CloudEvent is also read back through the ``cloudevents`` SDK's Kafka
binding in structured mode and must give back the envelope's attributes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema
import referencing
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat

from gateway.core import binding, topics
from gateway.core.audit_records import CHECKPOINT_REQUEST
from gateway.core.ingest import RawInput
from schemas.gen import SCHEMA_DIR
from schemas.records import (
    CHECKPOINT_REQUEST_SCHEMA,
    DEAD_LETTER_SCHEMA,
    DISCREPANCY_SCHEMA,
    HOLDINGS_PAGE_SCHEMA,
    LEDGER_RECORD_SCHEMA,
    NOTICE_SCHEMA,
    urn,
)

NOTICE_TYPE = "a6gw.notice.v1"
#: ``("dead-letter", reason_code)`` and ``("notice", kind)`` -> how many were checked
SEEN: Counter[tuple[str, str]] = Counter()


@cache
def validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def check_dead_letter(value: bytes) -> dict[str, Any]:
    """The dead letter ``value`` parsed, after validating it (raises if it does not fit)."""
    record: dict[str, Any] = json.loads(value)
    validator(DEAD_LETTER_SCHEMA).validate(record)
    SEEN["dead-letter", record["reason_code"]] += 1
    return record


def check_notice(data: Any) -> dict[str, Any]:
    """The ``data`` of a notice, after validating it (raises if it does not fit)."""
    validator(NOTICE_SCHEMA).validate(data)
    assert isinstance(data, dict)
    SEEN["notice", data["kind"]] += 1
    return data


def check(topic: str, value: bytes) -> None:
    """Validate ``value`` if ``topic`` is ``a6.dlq`` or it is a notice on an output topic."""
    if topic == topics.DLQ_TOPIC:
        check_dead_letter(value)
    elif topics.is_output(topic):
        env = json.loads(value)
        if env.get("type") == NOTICE_TYPE:
            check_notice(env["data"])


# --- any record of any topic the gateway writes ---------------------------------------

#: the topic families :func:`check_record` knows, each -> how many records it checked
TOPIC_SEEN: Counter[str] = Counter()
#: the CloudEvents types :func:`check_record` checked -> how many
TYPE_SEEN: Counter[str] = Counter()


@cache
def registry() -> referencing.Registry[Any]:
    """Every published schema (``schemas/json``), by its absolute ``$id``."""
    resources = []
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        resource = referencing.Resource.from_contents(schema)  # by its $schema: 2020-12
        sid = resource.id()
        assert sid == schema["$id"] and sid is not None and sid.startswith("urn:a6gw:schema:")
        resources.append((sid, resource))
    return referencing.Registry().with_resources(resources)


def _validator(schema: dict[str, Any]) -> jsonschema.protocols.Validator:
    cls = jsonschema.Draft202012Validator
    return cls(schema, registry=registry(), format_checker=cls.FORMAT_CHECKER)


@cache
def by_id(ref: str) -> jsonschema.protocols.Validator:
    """A Draft 2020-12 validator of the published schema ``ref`` (an absolute ``$id``)."""
    return _validator({"$ref": ref})


@cache
def event_validator(event_type: str) -> jsonschema.protocols.Validator:
    """The envelope's schema, with ``data`` the published schema of ``event_type``'s data."""
    data = {"properties": {"data": {"$ref": data_schema(event_type)}}}
    return _validator({"allOf": [{"$ref": urn("envelope")}, data]})


def data_schema(event_type: str) -> str:
    """``a6gw.<name>.v<major>`` -> the ``$id`` of its data's schema."""
    head, sep, major = event_type.rpartition(".v")
    assert sep and head.startswith("a6gw.") and major.isdigit(), event_type
    return urn(head.removeprefix("a6gw."), int(major))


def family(topic: str) -> str:
    """The kind of topic ``topic`` is, as :data:`TOPIC_SEEN` counts them.

    :raises AssertionError: for a topic the gateway does not write (its inputs, a
        changelog: the stream processor's private state, no contract).
    """
    fixed = {
        topics.DLQ_TOPIC: "dlq",
        topics.FINDINGS_TOPIC: "discrepancies",
        topics.AUDIT_TOPIC: "audit.log",
        topics.CHECKPOINT_TOPIC: "audit.checkpoints",
        topics.LEDGER_TOPIC: "ledger",
    }
    if topic in fixed:
        return fixed[topic]
    if topic.startswith(topics.OUTPUT_PREFIX + "inventory."):
        return "out.inventory"
    if topics.is_output(topic):
        return "out"
    if topic.startswith(topics.RETRY_PREFIX):
        return "retry"
    raise AssertionError(f"{topic}: not a topic the gateway writes")


def check_cloudevent(rec: RawInput) -> dict[str, Any]:
    """The envelope of a CloudEvents record, after checking it: structured content mode,
    the envelope's and its data's published schemas (a notice's body by kind too), and the
    same attributes and data read back through the SDK's Kafka binding (structured mode)."""
    headers = dict(rec.headers)
    assert headers.get(binding.CONTENT_TYPE) == binding.STRUCTURED, (rec.topic, headers)
    assert not any(name.startswith("ce_") for name in headers), headers
    envelope: dict[str, Any] = json.loads(rec.value)
    event_validator(envelope["type"]).validate(envelope)
    if envelope["type"] == NOTICE_TYPE:
        check_notice(envelope["data"])
    message = ce_kafka.KafkaMessage(headers=headers, key=rec.key, value=rec.value)
    event = ce_kafka.from_structured(message, JSONFormat())
    attributes = dict(event.get_attributes())
    want = {k: v for k, v in envelope.items() if k != "data"}
    want["time"] = datetime.fromisoformat(want["time"].replace("Z", "+00:00"))
    if rec.key is not None:  # the binding reads the record key as the partitionkey extension
        want["partitionkey"] = rec.key.decode("utf-8")
    assert attributes == want, (attributes, want)
    assert event.get_data() == envelope["data"]
    TYPE_SEEN[envelope["type"]] += 1
    return envelope


def check_record(rec: RawInput, checkpoint: Callable[[str], Any]) -> str:
    """Check one record of a topic the gateway writes against what it publishes; returns
    the topic's :func:`family`. ``checkpoint`` opens a checkpoint's text (a signed note, no
    JSON: the AsyncAPI document describes it) and raises if it does not verify.

    :raises AssertionError, jsonschema.ValidationError: when the record does not fit.
    """
    kind = family(rec.topic)
    if kind in ("out", "out.inventory", "retry"):
        check_cloudevent(rec)
    elif kind == "audit.checkpoints":
        checkpoint(rec.value.decode("utf-8"))
    else:
        name = {
            "dlq": DEAD_LETTER_SCHEMA,
            "discrepancies": DISCREPANCY_SCHEMA,
            "ledger": LEDGER_RECORD_SCHEMA,
            "audit.log": "audit-entry",
        }[kind]
        if kind == "audit.log" and rec.key == CHECKPOINT_REQUEST:
            name = CHECKPOINT_REQUEST_SCHEMA
        by_id(urn(name)).validate(json.loads(rec.value))
    TOPIC_SEEN[kind] += 1
    return kind


def check_holdings_page(page: Any) -> dict[str, Any]:
    """An HTTPS partner's holdings page (``GET /v1/holdings``), after validating it."""
    by_id(urn(HOLDINGS_PAGE_SCHEMA)).validate(page)
    assert isinstance(page, dict)
    return page
