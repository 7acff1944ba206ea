"""The a6gw profile of CloudEvents 1.0: the coded refusals of the envelope's attributes.

The envelope model (:class:`schemas.envelope.Envelope`) fixes which attributes exist and
their forms; this module says which code a failure gets (``docs/cloudevents.md``):

- an attribute missing, unknown, of the wrong form or null: MSG-001;
- a ``time`` that is not RFC 3339 UTC: MSG-006;
- a ``traceparent`` or ``tracestate`` that is not W3C Trace Context Level 1: MSG-013
  (:func:`check_trace`);
- a ``dataschema`` other than the ``$id`` of the published schema of the event's type:
  MSG-012 (:func:`dataschema_problem`), judged once the envelope is authenticated, so the
  signer gets a decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from gateway.core import tracecontext
from gateway.errors import SchemaError
from schemas.envelope import Envelope, data_schema_id

TRACE_ATTRIBUTES = frozenset({tracecontext.TRACEPARENT, tracecontext.TRACESTATE})


def errors(exc: ValidationError) -> list[Mapping[str, Any]]:
    """``exc``'s errors, without the ones of an optional attribute's absent branch (a value
    that fails an attribute's form also "fails" to be the None that means absent)."""
    return [e for e in exc.errors() if e["loc"][-1:] != ("none",)]


def problems(exc: ValidationError) -> str:
    """The first ten of ``exc``'s errors, for a person: ``where: what``."""
    return "; ".join(f"{_where(e['loc'])}: {e['msg']}" for e in errors(exc)[:10])


def _where(loc: tuple[int | str, ...]) -> str:
    # "constrained-str": the branch of an optional attribute's union, not a place
    return ".".join(str(p) for p in loc if p != "constrained-str") or "(top)"


def refusal(exc: ValidationError, obj: dict[str, Any]) -> SchemaError:
    """The coded refusal of an object that is no envelope (``exc``: why not)."""
    found = errors(exc)
    if [(e["loc"], e["type"]) for e in found] == [(("time",), "string_pattern_mismatch")]:
        # The AEF's action dates are ISO 8601 UTC; so are the gateway's event times.
        return SchemaError(f"time is not RFC 3339 UTC: {obj.get('time')!r}", code="MSG-006")
    if found and all(e["loc"][:1] and e["loc"][0] in TRACE_ATTRIBUTES for e in found):
        return SchemaError(f"malformed trace context: {problems(exc)}", code="MSG-013")
    return SchemaError(f"invalid envelope: {problems(exc)}", code="MSG-001")


def check_trace(envelope: Envelope) -> None:
    """MSG-013: the originating trace context, when there is one, is W3C Trace Context
    Level 1 (a ``tracestate`` only beside a ``traceparent``: CloudEvents distributed
    tracing extension, W3C Trace Context §3.3)."""
    try:
        if envelope.traceparent is not None:
            tracecontext.check_traceparent(envelope.traceparent)
        if envelope.tracestate is not None:
            if envelope.traceparent is None:
                raise ValueError("tracestate without traceparent")
            tracecontext.check_tracestate(envelope.tracestate)
    except ValueError as exc:
        raise SchemaError(f"malformed trace context: {exc}", code="MSG-013") from exc


def dataschema_problem(envelope: Envelope) -> str | None:
    """MSG-012: why the envelope's ``dataschema`` is not its type's published data schema,
    or None (also when it names none)."""
    if envelope.dataschema is None:
        return None
    want = data_schema_id(envelope.type)
    if envelope.dataschema == want:
        return None
    return f"dataschema {envelope.dataschema!r} is not {want!r}, the schema of {envelope.type}"
