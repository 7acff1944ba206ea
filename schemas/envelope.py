"""The wire envelope: CloudEvents 1.0 structured JSON plus the signer's key id and signature.

The sender stamps ``id`` and ``time`` and signs them; nobody rewrites a signed field. The
signature is Ed25519 over the RFC 8785 canonical bytes of the envelope *without* its
``a6signature`` member (the key id is covered). ``type`` carries the major version
(``a6gw.<name>.v<major>``).

The optional attributes (``subject``, ``dataschema``, and ``traceparent`` / ``tracestate`` of
the distributed tracing extension) are signed like every member; any other attribute is
refused. Why, and what each one means here: ``docs/cloudevents.md`` (the a6gw profile of
CloudEvents 1.0).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from schemas._types import Strict
from schemas.records import urn

# RFC 3339 timestamp in UTC with a literal Z (MSG-006), milliseconds optional.
UTC_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$"

SIGNATURE_ATTRIBUTE = "a6signature"

#: The optional attributes the profile takes (absent when not set: never null).
OPTIONAL_ATTRIBUTES = ("subject", "dataschema", "traceparent", "tracestate")
#: Printable ASCII, no space at either end: what an audit entry and a log line show as is.
Subject = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        pattern=r"^[!-~]([ -~]*[!-~])?$",
        description="what the event is about within its source (CloudEvents subject)",
    ),
]
DataSchema = Annotated[
    str,
    Field(
        min_length=1,
        max_length=256,
        pattern=r"^[A-Za-z][A-Za-z0-9+.-]*:[!-~]+$",
        description="the $id of the published schema of the event type's data: "
        "urn:a6gw:schema:<name>:<major> (for type a6gw.<name>.v<major>)",
    ),
]
# W3C Trace Context Level 1 version 00 (§3.2); the all-zero ids are refused by the gateway.
TraceParent = Annotated[
    str,
    Field(
        pattern=r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
        description="the originating trace (W3C Trace Context traceparent, version 00)",
    ),
]
TraceState = Annotated[
    str,
    Field(
        min_length=1,
        max_length=512,
        pattern=r"^[ -~]+$",
        description="the originating trace's vendor state (W3C Trace Context tracestate)",
    ),
]


def data_schema_id(event_type: str) -> str:
    """The ``dataschema`` of an event of type ``a6gw.<name>.v<major>``: the ``$id`` of the
    published schema of its data, ``urn:a6gw:schema:<name>:<major>``."""
    head, _, major = event_type.rpartition(".v")
    return urn(head.removeprefix("a6gw."), int(major))


def _absent_not_null(schema: dict[str, Any]) -> None:
    """An optional attribute's published schema has no ``default: null``: it is absent."""
    for name in OPTIONAL_ATTRIBUTES:
        schema["properties"][name].pop("default", None)


class Envelope(Strict):
    """A signed CloudEvents 1.0 structured-mode event (the a6gw profile)."""

    model_config = ConfigDict(**Strict.model_config, json_schema_extra=_absent_not_null)

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    source: str = Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9/:._-]+$")
    type: str = Field(pattern=r"^a6gw\.[a-z0-9.]+\.v[1-9][0-9]*$")
    time: str = Field(pattern=UTC_TIME)
    datacontenttype: Literal["application/json"]
    a6keyid: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    a6signature: str = Field(min_length=86, max_length=88, pattern=r"^[A-Za-z0-9+/]+={0,2}$")
    data: dict[str, Any]
    subject: Subject | SkipJsonSchema[None] = None
    dataschema: DataSchema | SkipJsonSchema[None] = None
    traceparent: TraceParent | SkipJsonSchema[None] = None
    tracestate: TraceState | SkipJsonSchema[None] = None

    @field_validator(*OPTIONAL_ATTRIBUTES, mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # An attribute is set or absent; null would be signed bytes that say nothing.
        if value is None:
            raise ValueError("an optional attribute is left out, never null")
        return value
