"""Plain values passed between the core's steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.core.blocks import Range, serial_set
from gateway.core.frozen import quick_init
from gateway.core.state import Put
from schemas._types import Strict

Outcome = Literal["accepted", "rejected", "recorded", "discrepancy", "dead-lettered"]


@quick_init
@dataclass(frozen=True)
class Finding:
    """One failed check: a stable code, a one-line reason, the offending serial ranges.

    The ranges of a finding lie in the input's one serial space and name a set of serials:
    they are kept merged (adjacent and overlapping ranges joined, by serial), so a range the
    ledger holds in pieces is named as one. A finding about the ranges the sender wrote
    (backwards or overlapping ones) keeps them ``as_sent``.
    """

    code: str
    message: str
    ranges: tuple[Range, ...] = ()
    as_sent: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.as_sent:
            object.__setattr__(self, "ranges", serial_set(self.ranges))

    def wire(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "blocks": [r.wire() for r in self.ranges],
        }


@quick_init
@dataclass(frozen=True)
class Notice:
    """A message the gateway sends to a registry besides the decision (e.g. a proposal)."""

    registry_id: str
    kind: str
    body: dict[str, Any]


@quick_init
@dataclass(frozen=True)
class Evaluation:
    """What the ledger decided for one input and the state change that goes with it."""

    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    actions: tuple[str, ...] = ()
    effects: tuple[Put, ...] = ()
    notices: tuple[Notice, ...] = ()
    quantity: int = 0
    # A word on a decision that is neither a failed check nor an action (e.g. "waits").
    note: str = ""
    # The Article 6 action rows the decision creates (gateway.core.actions).
    a6: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Directory:
    """Who is who: registries' Parties, cooperative approaches, NDC periods."""

    registry_party: dict[str, str]
    ca_parties: dict[str, tuple[str, ...]]
    ca_unit_types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ndc_period: dict[str, tuple[int, int]] = field(default_factory=dict)
    transfer_answer_s: int = 86_400


@quick_init
@dataclass(frozen=True)
class Event:
    """An authenticated, parsed input."""

    source: str
    id: str
    type: str
    name: str
    kind: str
    time: str
    payload: Strict
    sha256: str
    signer_principal: str
    signer_role: str
    # When the gateway received it (the input record's timestamp, in ms): a deterministic
    # clock for anything measured from arrival, such as a transfer's answer deadline.
    received_ms: int = 0
    # The envelope's ``data`` as the JSON text ``payload`` was validated from: stage A
    # forwards it so the ledger rebuilds the same payload without parsing the envelope again.
    data_json: str = field(default="", compare=False, repr=False)
    # The envelope's optional attributes the audit entry keeps: what the event is about, and
    # the originating trace (W3C traceparent / tracestate; docs/cloudevents.md).
    subject: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None

    def payload_field(self, name: str) -> Any:
        """``getattr(self.payload, name, None)``: a payload model keeps its fields (and
        nothing else) in its instance dict; a name it lacks would go through pydantic's
        ``__getattr__`` and an exception."""
        return self.payload.__dict__.get(name)
