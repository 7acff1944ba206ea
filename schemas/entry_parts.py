"""The parts of audit entries: the field types and the documents an entry nests.

The entries themselves, one model per kind, are in :mod:`schemas.entries`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    Field,
    JsonValue,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
)

from schemas._types import Strict
from schemas.events import (
    Authorization,
    EntityAuthorized,
    InventoryEmissions,
    StructuredSummaryReported,
)

#: A time the gateway wrote: ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (``gateway.core.decision_time``).
#: Described, not enforced: the builders write the times they are given.
IsoMs = Annotated[
    str, Field(description="RFC 3339 UTC with milliseconds, e.g. 2026-05-04T03:02:01.123Z")
]

#: Serials, quantities and counts as decimal strings, unbounded (a sum may pass 18 digits).
Count = Annotated[str, StringConstraints(pattern=r"^(0|[1-9][0-9]*)$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

#: A signed decimal string of any length (reconciliation totals, summary figures).
DecimalText = Annotated[str, StringConstraints(pattern=r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")]

# Entry and discrepancy ids: a prefix and 40 hex digits of a SHA-256.
EventEntryId = Annotated[str, StringConstraints(pattern=r"^ev-[0-9a-f]{40}$")]
RawEntryId = Annotated[str, StringConstraints(pattern=r"^raw-[0-9a-f]{40}$")]
HttpEntryId = Annotated[str, StringConstraints(pattern=r"^http-[0-9a-f]{40}$")]
ParkedEntryId = Annotated[str, StringConstraints(pattern=r"^dlv-[0-9a-f]{40}$")]
DiscrepancyEntryId = Annotated[str, StringConstraints(pattern=r"^ds[ox]-[0-9a-f]{40}$")]
CheckEntryId = Annotated[str, StringConstraints(pattern=r"^ctf-[0-9a-f]{40}$")]
RunEntryId = Annotated[str, StringConstraints(pattern=r"^rec-[0-9a-f]{40}$")]
DiscrepancyId = Annotated[str, StringConstraints(pattern=r"^dsc-[0-9a-f]{40}$")]


class Omitting(Strict):
    """A model whose optional fields named in ``_omitted`` are left out when None."""

    _omitted: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _drop_omitted(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        for name in self._omitted:
            if out.get(name, 0) is None:
                del out[name]
        return out


class Serials(Strict):
    """An inclusive serial range named by a result."""

    serial_start: Count
    serial_end: Count


class Result(Strict):
    """One coded result (a failed check or a finding) and the serial ranges it names."""

    code: str
    message: str
    blocks: list[Serials]


# -- decision ------------------------------------------------------------------------------


class DecisionInput(Omitting):
    """The authenticated input decided; ``subject``, ``traceparent`` and ``tracestate`` are
    its envelope's, as signed, and absent when it had none (docs/cloudevents.md)."""

    _omitted: ClassVar[frozenset[str]] = frozenset({"subject", "traceparent", "tracestate"})

    source: str
    id: str
    type: str
    kind: Literal["proposal", "notification"]
    time: str
    sha256: Sha256
    signer: str
    subject: str | None = Field(
        default=None, description="the envelope's subject: what the event is about"
    )
    traceparent: str | None = Field(
        default=None, description="the originating trace the envelope carried (W3C traceparent)"
    )
    tracestate: str | None = Field(
        default=None, description="the originating trace's vendor state (W3C tracestate)"
    )


class BlockRecord(Strict):
    """A block after the decision (``gateway.core.blocks.Block.to_record``)."""

    ca_id: str
    origin: str
    start: Count
    end: Count
    vintage: int
    unit_type: str
    registry: str
    account: str
    state: Literal["held", "reserved", "retired", "cancelled"]
    first_transferred: bool
    reserved_by: str | None
    authorization_id: str | None


class ActionRow(Strict):
    """One Article 6 action row the decision creates (``gateway.core.actions.row``)."""

    action: Literal["First transfer", "Transfer", "Acquisition", "Use", "Cancellation"]
    subtype: str | None
    party: str
    ca_id: str
    authorization_id: str
    first_transferring_party: str
    registry: str
    origin: str
    first: Count
    last: Count
    quantity: Count
    vintage: int
    unit_type: str
    purposes: str
    metric: str
    transferring_party: str | None
    acquiring_party: str | None
    using_party: str | None
    using_entity: str | None
    use_year: int | None


class AccountOf(Strict):
    """The account an account notification is about."""

    registry: str
    account_id: str
    account_type: str


class ReplayOf(Strict):
    """The dead letter a replayed input replays."""

    topic: str
    partition: int
    offset: int
    audit_entry_id: str


#: The event data a recorded notification's entry carries (reports are computed from it).
RecordedData = Authorization | InventoryEmissions | StructuredSummaryReported | EntityAuthorized

# -- dead letter ---------------------------------------------------------------------------


class RecordInput(Strict):
    """Where an input that could not be parsed or authenticated was read."""

    topic: str
    partition: int
    offset: int
    size: int
    sha256: Sha256


# -- HTTP refusal --------------------------------------------------------------------------


class RefusedRequest(Strict):
    """A request refused: its body's digest, size and first 1 KiB (None when not read)."""

    registry: str
    path: str
    sha256: Sha256 | None
    size: int | None
    head_b64: str | None


class RateWindow(Strict):
    """The window in which a client went over its budget of recorded refusals."""

    registry: str
    path: str
    window_start: IsoMs


class RefusedBody(Strict):
    """A refused request as ``gateway.core.decision.http_refusal_entry`` records it."""

    registry: str | None
    path: str
    sha256: Sha256
    size: int


# -- delivery ------------------------------------------------------------------------------


class ParkedMessage(Strict):
    """A message for an HTTPS partner that could not be delivered."""

    registry: str
    message_id: str
    key: str


# -- discrepancy ---------------------------------------------------------------------------


class BlockRef(Strict):
    ca_id: str
    origin: str
    start: Count
    end: Count


class HistoryItem(Strict):
    action: str
    by: str
    at: IsoMs


Severity = Literal["info", "warning", "error"]

FoundBy = Literal["reconciliation", "decision", "delivery", "summary", "witness"]


class OpenRecord(Strict):
    """A discrepancy as found (``gateway.core.discrepancy.record``, status open)."""

    discrepancy_id: DiscrepancyId
    code: str
    severity: Severity
    registries: list[str]
    blocks: list[BlockRef]
    first_seen: IsoMs
    found_by: FoundBy
    source_entry: str
    summary: str
    detail: dict[str, JsonValue]


class TrackedRecord(OpenRecord):
    """A discrepancy an operator has moved on: its lifecycle fields too."""

    status: Literal["open", "acknowledged", "resolved"]
    owner: str | None
    resolution: str | None
    manual: bool
    history: list[HistoryItem]


class Opened(Strict):
    """The finding put on record."""

    type: Literal["a6gw.discrepancy.opened"]
    id: DiscrepancyId
    source: FoundBy


class Command(Strict):
    """The operator's signed command (``gateway.core.oversight.authenticate_command``)."""

    source: str
    id: str
    type: str
    time: str
    sha256: Sha256
    signer: str


# -- summary check -------------------------------------------------------------------------


class CheckInput(Strict):
    type: Literal["a6gw.summary.check"]
    id: CheckEntryId
    party: str
    year: int
    reported_entry: str | None


class CountedBlock(Strict):
    """One action row counted in a summary row (``gateway.core.summary_log.Counted``)."""

    entry_id: str
    ca_id: str
    origin: str
    first: Count
    last: Count
    quantity: Count
    action: str


class SummaryRow(Strict):
    value: DecimalText | None
    status: Literal["computed", "unknown", "not applicable"]
    reason: str
    entries: list[str]
    blocks: list[CountedBlock]


class InventoryFigure(Strict):
    entry_id: str
    submission_id: str
    emissions_tco2e: DecimalText
    decided_at: IsoMs
    current: bool


class ComputedSummary(Strict):
    """The structured summary computed from the log (``gateway.core.summary.Summary``)."""

    party: str
    year: int
    ca_method: Literal["averaging", "trajectory", "budget"]
    ca_year: Literal["first-transfer", "vintage"]
    ndc_period: list[int] = Field(max_length=2)
    rows: dict[str, SummaryRow]
    inventory: list[InventoryFigure]


# -- reconciliation ------------------------------------------------------------------------


class FromFile(Strict):
    from_: Literal["file"] = Field(alias="from")
    sha256: Sha256


class FromHttps(Strict):
    from_: Literal["https"] = Field(alias="from")


class FromKafka(Strict):
    from_: Literal["kafka"] = Field(alias="from")
    reconciliation_id: str
    pages: list[EventEntryId]


class RunInput(Omitting):
    _omitted: ClassVar[frozenset[str]] = frozenset({"snapshot"})

    type: Literal["a6gw.reconciliation.run"]
    id: RunEntryId
    registry: str
    kind: Literal["snapshot"]
    snapshot: FromFile | FromHttps | FromKafka | None = None


class CellDiff(Strict):
    code: str
    registry: str
    account_type: str
    ca_id: str
    vintage: int
    unit_type: str
    ours: Count
    theirs: Count


class Place(Strict):
    registry: str
    account: str
    account_type: str
    vintage: int
    unit_type: str


class BlockDiff(Strict):
    code: str
    kind: Literal[
        "missing-at-registry",
        "extra-at-registry",
        "account-differs",
        "attributes-differ",
        "held-twice",
    ]
    ca_id: str
    origin: str
    start: Count
    end: Count
    ours: list[Place]
    theirs: list[Place]


class Counts(Strict):
    cells_compared: int
    blocks_compared: int


RunStatus = Literal[
    "initiated",
    "totals-inconsistent",
    "blocks-inconsistent",
    "completed",
    "completed-with-manual-intervention",
]


class RunReport(Strict):
    """A reconciliation's report (``gateway.core.reconcile.Report.to_dict``)."""

    status: RunStatus
    scope: Literal["inconsistent-cells", "every-cell"]
    codes: list[str]
    counts: Counts
    cells: list[CellDiff]
    blocks: list[BlockDiff]
    trail: list[BlockRef]
