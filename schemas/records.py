"""The gateway's own records besides decisions: dead letters, the kinds of notice, and the
records of its internal topics (published so that an auditor can read them).

A dead letter (:class:`DeadLetter`) is the JSON object the gateway writes on ``a6.dlq``
(``gateway.core.decision.dead_letter_record``, with a gateway fault's extra ``fault``). A
notice is the ``data`` of a signed ``a6gw.notice.v1`` event on ``a6.out.<registryId>``: a
``kind`` and a ``body``, whose fields each kind fixes (:data:`NOTICE`, discriminated by
``kind``). A finding on ``a6.discrepancies`` is a :data:`DISCREPANCY` (as found, or as an
operator moved it); the ledger stage's hand-off on ``a6.ledger`` a :class:`LedgerRecord`; a
request for a checkpoint on ``a6.audit.log`` an empty :class:`CheckpointRequest`. An HTTPS
partner's holdings snapshot (``GET /v1/holdings``, read by reconciliation) is a sequence of
:class:`HoldingsPage` (a Kafka registry sends signed ``a6gw.holdings.snapshot.v1`` pages).
``python -m schemas.gen`` publishes each with an absolute ``urn:a6gw:schema:...`` identifier
(:data:`URN`), as it does every other schema.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, TypeAdapter

from schemas._types import (
    AccountId,
    CooperativeApproachId,
    RegistryId,
    SerialRange,
    Strict,
    TransactionId,
    Year,
)
from schemas.entry_parts import IsoMs, OpenRecord, RawEntryId, ReplayOf, Sha256, TrackedRecord
from schemas.events import AccountRef

__all__ = [
    "CHECKPOINT_REQUEST_SCHEMA",
    "DEAD_LETTER",
    "DEAD_LETTER_SCHEMA",
    "NOTICE",
    "NOTICE_KINDS",
    "NOTICE_SCHEMA",
    "URN",
    "DISCREPANCY",
    "DISCREPANCY_SCHEMA",
    "HOLDINGS_PAGE_SCHEMA",
    "LEDGER_RECORD_SCHEMA",
    "CheckpointRequest",
    "DeadLetter",
    "Fault",
    "HoldingsPage",
    "LedgerRecord",
    "Notice",
    "urn",
]

#: The base of the ``$id`` of the records' schemas: ``urn:a6gw:schema:<name>:<major version>``.
URN = "urn:a6gw:schema:"
DEAD_LETTER_SCHEMA = "dead-letter"
NOTICE_SCHEMA = "notice-data"
DISCREPANCY_SCHEMA = "discrepancy"
LEDGER_RECORD_SCHEMA = "ledger-record"
CHECKPOINT_REQUEST_SCHEMA = "checkpoint-request"
HOLDINGS_PAGE_SCHEMA = "holdings-page"

Base64 = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+/]*={0,2}$")]
Offset = Annotated[int, Field(ge=0, le=2**63 - 1)]


def urn(name: str, version: int = 1) -> str:
    """The absolute ``$id`` of the published schema ``name`` at major ``version``."""
    return f"{URN}{name}:{version}"


class Fault(Strict):
    """Where the gateway failed on the input (GWF-001/GWF-002): a step and an exception."""

    step: str = Field(description="the gateway's step that raised or died on the input")
    exception: str = Field(description="the exception's class name (empty: a death)")


class DeadLetter(Strict):
    """A dead letter on ``a6.dlq``: why the input was set aside, where it was read (topic,
    partition, offset: its identity, and the key ``a6gw dlq replay`` takes), its key, its
    broker time, digest and size, and its first bytes; the audit entry that records it."""

    reason_code: str = Field(
        pattern=r"^[A-Z][A-Z0-9]*-[0-9]{3}$", description="the coded reason (docs/codes.md)"
    )
    reason: str = Field(description="the reason, for a person")
    topic: str = Field(min_length=1, description="the topic the input was read from")
    partition: int = Field(ge=0, le=2**31 - 1)
    offset: Offset
    key_b64: Base64 | None = Field(description="the input record's key, base64; null: none")
    timestamp_ms: int = Field(description="the input record's Kafka timestamp (ms since epoch)")
    sha256: Sha256 = Field(description="SHA-256 of the input's complete value")
    size: int = Field(ge=0, description="the input value's size in bytes")
    value_b64: Base64 = Field(description="the first bytes of the input's value, base64")
    truncated: bool = Field(description="true when value_b64 holds only a prefix of the value")
    audit_entry_id: RawEntryId
    fault: Fault | None = Field(
        default=None, description="only on a gateway fault (GWF-001, GWF-002)"
    )


# --- notice bodies, one per kind (gateway.core.transfers, gateway.services.snapshots) ---


class TransferProposedBody(Strict):
    """Sent to the acquiring registry: a cross-registry transfer awaits its answer."""

    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    origin: RegistryId = Field(description="the units' originating registry")
    transferring: AccountRef
    acquiring: AccountRef
    ranges: tuple[SerialRange, ...] = Field(min_length=1, description="the serials, merged")


class TransferCompletedBody(Strict):
    """Sent to the transferring registry: the acquiring one accepted."""

    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    status: Literal["completed"]
    reason_code: int | None = Field(description="the acquiring registry's DES reason code")


class TransferRejectedBody(TransferCompletedBody):
    """Sent to the transferring registry: the acquiring one refused."""

    status: Literal["rejected"]  # type: ignore[assignment]


class TransferCancelledBody(Strict):
    """Sent to both registries: no answer came by the deadline (DES status 7)."""

    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    status: Literal["cancelled"]
    reason: str


class ReconciliationRequestedBody(Strict):
    """Asks a registry for its holdings at ``snapshot_at`` (answered by signed
    ``a6gw.holdings.snapshot.v1`` pages carrying ``reconciliation_id``)."""

    reconciliation_id: TransactionId
    registry_id: RegistryId
    snapshot_at: IsoMs


class TransferProposed(Strict):
    """``transfer.proposed``: to the acquiring registry, which answers it."""

    kind: Literal["transfer.proposed"]
    body: TransferProposedBody


class TransferCompleted(Strict):
    """``transfer.completed``: the acquiring registry accepted; the units moved."""

    kind: Literal["transfer.completed"]
    body: TransferCompletedBody


class TransferRejected(Strict):
    """``transfer.rejected``: the acquiring registry refused; the units are held again."""

    kind: Literal["transfer.rejected"]
    body: TransferRejectedBody


class TransferCancelled(Strict):
    """``transfer.cancelled``: the gateway timed the proposal out; the units are held again."""

    kind: Literal["transfer.cancelled"]
    body: TransferCancelledBody


class ReconciliationRequested(Strict):
    """``reconciliation.requested``: the gateway asks for a holdings snapshot."""

    kind: Literal["reconciliation.requested"]
    body: ReconciliationRequestedBody


Notice = Annotated[
    TransferProposed
    | TransferCompleted
    | TransferRejected
    | TransferCancelled
    | ReconciliationRequested,
    Field(discriminator="kind"),
]
NOTICE: TypeAdapter[Notice] = TypeAdapter(Notice)
DEAD_LETTER: TypeAdapter[DeadLetter] = TypeAdapter(DeadLetter)
#: every notice kind the gateway writes
NOTICE_KINDS: tuple[str, ...] = (
    "transfer.proposed",
    "transfer.completed",
    "transfer.rejected",
    "transfer.cancelled",
    "reconciliation.requested",
)


# --- internal topics (gateway.core.discrepancy.record, gateway.core.forwarded.forward) ---

#: A finding on ``a6.discrepancies``: as found (open), or with its lifecycle once moved.
DISCREPANCY: TypeAdapter[OpenRecord | TrackedRecord] = TypeAdapter(OpenRecord | TrackedRecord)


class LedgerEvent(Strict):
    """The authenticated event's CloudEvents attributes (its envelope is not forwarded); the
    optional ones only when the envelope carried them (docs/cloudevents.md)."""

    source: str
    id: str
    type: str = Field(pattern=r"^a6gw\.[a-z.-]+\.v[1-9][0-9]*$")
    time: str
    subject: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None


class LedgerOwner(Strict):
    """The owner of the topic the input was read from: a registry and its Party, or a Party."""

    registry: str | None
    party: str


class LedgerRecord(Strict):
    """The ingest stage's hand-off of an authenticated input to the ledger stage, on
    ``a6.ledger`` keyed by its serial space (``gateway.core.forwarded.forward``; the gateway's
    own timeouts: ``gateway.core.steps.timeout_record``). Internal: only the gateway writes
    and reads it; published so that an auditor can read the topic."""

    event: LedgerEvent
    data: str = Field(description="the event's data, as the JSON text that was checked")
    sha256: Sha256 = Field(description="SHA-256 of the input's value as it arrived")
    signer: str = Field(min_length=1, description="the signing key's principal")
    role: str = Field(min_length=1, description="the signing key's role")
    owner: LedgerOwner
    timestamp_ms: int = Field(ge=0, description="the input's arrival (ms since epoch)")
    replays: ReplayOf | None = Field(
        default=None, description="only on a replayed input: the dead letter it replays"
    )


class CheckpointRequest(Strict):
    """The value of a record keyed ``a6gw.checkpoint-request`` on ``a6.audit.log``: no entry,
    a request for a checkpoint once everything before it is appended (an empty object)."""


class HoldingRow(SerialRange):
    """Units one account of the partner's registry holds (one serial range of one space)."""

    account_id: AccountId
    ca_id: CooperativeApproachId
    origin: RegistryId = Field(description="the units' originating registry")
    unit_type: Literal["JCM", "A6.4ER", "MO"]
    vintage: Year


class HoldingsPage(Strict):
    """One page of an HTTPS partner's answer to the gateway's ``GET /v1/holdings?limit=<n>
    [&after=<cursor>]`` (mutual TLS, RFC 9421 signed): its rows, and the cursor of the next
    page (null on the last; a cursor is never repeated)."""

    rows: list[HoldingRow]
    next: str | None = Field(description="the ``after`` of the next page; null: the last")
