"""W3C Trace Context Level 1, as the a6gw profile of CloudEvents uses it.

Two places carry trace context, and they mean different things (CloudEvents distributed
tracing extension; ``docs/cloudevents.md``):

- the signed envelope's ``traceparent`` and ``tracestate`` attributes: the *originating*
  trace, set once by the producer of the event, covered by its signature and kept in the
  decision's audit entry. :func:`check_traceparent` and :func:`check_tracestate` judge them
  (MSG-013); the gateway never writes them into an envelope it signs;
- the Kafka headers ``traceparent`` and ``tracestate`` of a record: the *per-hop* context.
  Each stage that answers an input carrying trace context writes, on every record it
  writes in answer, a ``traceparent`` with the same trace id and a new parent id (the
  stage's own span, :func:`hop`), and passes ``tracestate`` on unchanged.

The hop's parent id is derived, not drawn: ``sha256(trace id, parent id, stage)``, so a
redelivered input is answered with the same headers as the first time, as its decision is.

Spec: https://www.w3.org/TR/trace-context-1/ (§3.2 traceparent, §3.3 tracestate).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.core.canonical import sha256_hex

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

#: §3.2.2: version "-" trace-id "-" parent-id "-" trace-flags, lowercase hex (version 00)
_PARENT_00 = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
#: §3.2.4: a later version has at least the version 00 fields, then "-" and more
_PARENT_ANY = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
#: §3.3.1.3.1 key: simple-key / multi-tenant-key (tenant-id "@" system-id)
_KEY = re.compile(
    r"^(?:[a-z][a-z0-9_*/-]{0,255}|[a-z0-9][a-z0-9_*/-]{0,240}@[a-z][a-z0-9_*/-]{0,13})$"
)
#: §3.3.1.3.2 value: up to 256 printable ASCII characters except "," and "=", not ending
#: in a space
_VALUE = re.compile(r"^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$")
#: §3.3.1.1: at most 32 list-members
MAX_MEMBERS = 32
#: the longest ``tracestate`` the envelope takes (§3.3.1.5: propagate at least 512)
MAX_TRACESTATE = 512
_ZERO_TRACE, _ZERO_PARENT = "0" * 32, "0" * 16


@dataclass(frozen=True)
class TraceContext:
    """A trace id, the caller's parent id, the trace flags and the vendors' state."""

    trace_id: str
    parent_id: str
    flags: str
    state: str | None = None

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.parent_id}-{self.flags}"


def check_traceparent(value: str) -> TraceContext:
    """A ``traceparent`` of version 00 (the only version a signed envelope takes).

    :raises ValueError: saying what is wrong: not the version 00 form, or an all-zero
        trace id or parent id (§3.2.2.3, §3.2.2.4).
    """
    match = _PARENT_00.fullmatch(value)
    if match is None:
        raise ValueError(
            f"traceparent {value[:80]!r} is not 00-<32 hex>-<16 hex>-<2 hex> (lowercase)"
        )
    trace_id, parent_id, flags = match.groups()
    _nonzero(trace_id, parent_id)
    return TraceContext(trace_id, parent_id, flags)


def _nonzero(trace_id: str, parent_id: str) -> None:
    if trace_id == _ZERO_TRACE:
        raise ValueError("traceparent's trace-id is all zeros")
    if parent_id == _ZERO_PARENT:
        raise ValueError("traceparent's parent-id is all zeros")


def check_tracestate(value: str) -> None:
    """A ``tracestate`` list (§3.3.1): at most 32 members ``key=value``, keys unique; empty
    members (a lone comma) are allowed and mean nothing.

    :raises ValueError: saying which member is wrong.
    """
    if len(value) > MAX_TRACESTATE:
        raise ValueError(f"tracestate is {len(value)} characters (limit {MAX_TRACESTATE})")
    keys: set[str] = set()
    for raw in value.split(","):
        member = raw.strip(" \t")  # OWS around the commas
        if not member:
            continue
        key, eq, val = member.partition("=")
        if not eq or _KEY.fullmatch(key) is None or _VALUE.fullmatch(val) is None:
            raise ValueError(f"tracestate member {member[:80]!r} is not key=value (§3.3.1.3)")
        if key in keys:
            raise ValueError(f"tracestate names {key!r} twice")
        keys.add(key)
    if len(keys) > MAX_MEMBERS:
        raise ValueError(f"tracestate has {len(keys)} members (limit {MAX_MEMBERS})")


def from_headers(headers: Iterable[tuple[str, bytes]]) -> TraceContext | None:
    """The per-hop context of a record's Kafka headers, or None when it has none usable.

    As a receiver must (§3.2.2, §3.3.1): a missing, repeated or unparsable ``traceparent``
    is ignored, and so is ``tracestate`` then; a ``traceparent`` of a later version is read
    for its version 00 fields; a bad ``tracestate`` is dropped and the ``traceparent`` kept.
    """
    parents = [v for n, v in headers if n.lower() == TRACEPARENT]
    states = [v for n, v in headers if n.lower() == TRACESTATE]
    if len(parents) != 1:
        return None
    try:
        match = _PARENT_ANY.fullmatch(parents[0].decode("ascii"))
    except UnicodeDecodeError:
        return None
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    try:
        _nonzero(trace_id, parent_id)
    except ValueError:
        return None
    return TraceContext(trace_id, parent_id, flags, _state(states))


def _state(states: list[bytes]) -> str | None:
    """Several ``tracestate`` headers are one list, joined by commas (§3.3.1.1)."""
    if not states:
        return None
    try:
        joined = ",".join(s.decode("ascii") for s in states)
        check_tracestate(joined)
    except (UnicodeDecodeError, ValueError):
        return None
    return joined


def of_envelope(traceparent: str | None, tracestate: str | None) -> TraceContext | None:
    """The originating context a signed envelope carries (already checked), or None."""
    if traceparent is None:
        return None
    _, trace_id, parent_id, flags = traceparent.split("-")
    return TraceContext(trace_id, parent_id, flags, tracestate)


def parent(
    headers: Iterable[tuple[str, bytes]], traceparent: str | None, tracestate: str | None
) -> TraceContext | None:
    """The context a stage's work on a record continues: the record's per-hop headers, else
    the originating trace its envelope carried (``traceparent``, ``tracestate``), else
    none."""
    if traceparent is None and isinstance(headers, tuple | list) and not headers:
        return None  # the common case, without building the header lists
    return from_headers(headers) or of_envelope(traceparent, tracestate)


def hop(parent: TraceContext, stage: str) -> TraceContext:
    """The context of ``stage``'s work on an input whose context is ``parent``: the same
    trace id and state, a new parent id derived from the parent's and the stage's name, and
    only the ``sampled`` flag carried over (§3.2.2.5: the other bits of version 00 are
    unused)."""
    digest = sha256_hex(f"{parent.trace_id}\n{parent.parent_id}\n{stage}".encode())
    span = digest[:16] if digest[:16] != _ZERO_PARENT else digest[16:32]
    flags = f"{int(parent.flags, 16) & 1:02x}"
    return TraceContext(parent.trace_id, span, flags, parent.state)


def headers(ctx: TraceContext) -> tuple[tuple[str, bytes], ...]:
    """The Kafka headers of ``ctx``: ``traceparent``, and ``tracestate`` when there is one."""
    parent = (TRACEPARENT, ctx.traceparent.encode("ascii"))
    if ctx.state:
        return (parent, (TRACESTATE, ctx.state.encode("ascii")))
    return (parent,)
