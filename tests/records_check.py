"""Check the gateway's own records against their published JSON Schemas, and count them.

Dead letters (``a6.dlq``) must fit ``schemas/json/dead-letter.schema.json``; the ``data`` of
every ``a6gw.notice.v1`` event on ``a6.out.<registryId>`` must fit
``schemas/json/notice-data.schema.json``. The in-memory pipelines of the unit tests call
:func:`check` on every record they route, and the integration tests on what they read from
the broker; :data:`SEEN` counts what was checked (by dead letter reason code, by notice
kind) so that a test can show the check ran.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

import jsonschema

from gateway.core import topics
from schemas.gen import SCHEMA_DIR
from schemas.records import DEAD_LETTER_SCHEMA, NOTICE_SCHEMA

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
