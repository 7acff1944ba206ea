"""Audit entries: the JSON document each leaf of the audit log holds, one model per kind.

An entry is serialised with RFC 8785 (``gateway.core.canonical``) and the stored bytes are
authoritative: a reader parses them (:func:`parse_entry`) to read fields, never to write
them again. A writer builds the model and serialises :meth:`Entry.wire`, which gives the
same JSON object the gateway always wrote: every field present, except the optional ones a
kind leaves out when it has nothing to say (``_omitted``), which are dropped when None.
``AuditEntry`` is the union of the kinds, told apart by ``entry_type``; the documents they
nest are in :mod:`schemas.entry_parts` (re-exported here).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, cast

from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

from schemas.entry_parts import (
    AccountOf,
    ActionRow,
    BlockRecord,
    CheckEntryId,
    CheckInput,
    Command,
    ComputedSummary,
    Count,
    DecisionInput,
    DiscrepancyEntryId,
    EventEntryId,
    HttpEntryId,
    IsoMs,
    Omitting,
    Opened,
    OpenRecord,
    ParkedEntryId,
    ParkedMessage,
    RateWindow,
    RawEntryId,
    RecordedData,
    RecordInput,
    RefusedBody,
    RefusedRequest,
    ReplayOf,
    Result,
    RunEntryId,
    RunInput,
    RunReport,
    RunStatus,
    TrackedRecord,
)
from schemas.events import Role

__all__ = [
    "AUDIT_ENTRY",
    "ENTRY_KINDS",
    "INPUT_KINDS",
    "AuditEntry",
    "EntryLike",
    "DeadLetterEntry",
    "DecisionEntry",
    "DeliveryParkedEntry",
    "DiscrepancyEntry",
    "Entry",
    "HttpRefusalEntry",
    "InputEntry",
    "PartySettingsEntry",
    "ReconciliationEntry",
    "SummaryCheckEntry",
    "TrustKeyEntry",
    "parse_entry",
    "read_entry",
]


class Entry(Omitting):
    """What every kind has: version, type, id, the input it records, outcome, coded
    results and when it was decided."""

    _omitted: ClassVar[frozenset[str]] = frozenset({"logged_at"})

    entry_version: Literal[1]
    #: When the sequencer appended it (stamped at append; absent in what writers build).
    logged_at: IsoMs | None = None

    def wire(self) -> dict[str, Any]:
        """The JSON object of the entry (canonical bytes: ``canonical_bytes(e.wire())``)."""
        out: dict[str, Any] = self.model_dump(mode="json", by_alias=True)
        return out


class DecisionEntry(Entry):
    """The decision on an authenticated input."""

    _omitted: ClassVar[frozenset[str]] = Entry._omitted | {
        "note",
        "a6",
        "data",
        "transaction_id",
        "account",
        "replays",
    }

    entry_type: Literal["decision"]
    entry_id: EventEntryId
    input: DecisionInput
    ca_id: str | None
    outcome: Literal["accepted", "rejected", "recorded", "discrepancy", "dead-lettered"]
    results: list[Result]
    actions: list[str]
    quantity: Count
    blocks: list[BlockRecord]
    decided_at: IsoMs
    note: str | None = None
    a6: list[ActionRow] | None = None
    data: RecordedData | None = None
    transaction_id: str | None = None
    account: AccountOf | None = None
    replays: ReplayOf | None = None


class DeadLetterEntry(Entry):
    """An input that could not be parsed or authenticated (or a gateway fault on it)."""

    entry_type: Literal["dead-letter"]
    entry_id: RawEntryId
    input: RecordInput
    outcome: Literal["dead-lettered"]
    results: list[Result]
    decided_at: IsoMs


class HttpRefusalEntry(Entry):
    """A request an HTTPS endpoint refused, or the summary of a window over budget."""

    entry_type: Literal["http-refusal"]
    entry_id: HttpEntryId
    input: RefusedRequest | RateWindow | RefusedBody
    outcome: Literal["refused"]
    results: list[Result]
    decided_at: IsoMs


class DeliveryParkedEntry(Entry):
    """A message parked for an HTTPS partner."""

    entry_type: Literal["delivery-parked"]
    entry_id: ParkedEntryId
    input: ParkedMessage
    outcome: Literal["parked"]
    results: list[Result]
    decided_at: IsoMs


class DiscrepancyEntry(Entry):
    """A finding put on record (``dso-``), or an operator's command on one (``dsx-``): the
    discrepancy after it, or the refusal with the discrepancy as it stands (None if
    unknown)."""

    entry_type: Literal["discrepancy"]
    entry_id: DiscrepancyEntryId
    input: Opened | Command
    outcome: Literal["open", "acknowledged", "resolved", "refused"]
    results: list[Result]
    discrepancy: OpenRecord | TrackedRecord | None
    decided_at: IsoMs


class SummaryCheckEntry(Entry):
    """One check of a Party's reported structured summary for a year."""

    entry_type: Literal["summary-check"]
    entry_id: CheckEntryId
    input: CheckInput
    outcome: Literal["consistent", "inconsistent", "unreported"]
    results: list[Result]
    summary: ComputedSummary
    decided_at: IsoMs


class ReconciliationEntry(Entry):
    """One reconciliation run of a registry's snapshot against the gateway's books."""

    entry_type: Literal["reconciliation"]
    entry_id: RunEntryId
    input: RunInput
    outcome: RunStatus
    results: list[Result]
    report: RunReport
    decided_at: IsoMs


#: A party-settings entry's id: ``cfg-`` and 40 hex digits (``gateway.core.trust_log``).
SettingsEntryId = Annotated[str, StringConstraints(pattern=r"^cfg-[0-9a-f]{40}$")]
#: A trust-key entry's id: ``key-`` and 40 hex digits (``gateway.core.trust_log``).
KeyEntryId = Annotated[str, StringConstraints(pattern=r"^key-[0-9a-f]{40}$")]


class PartySettingsEntry(Entry):
    """A Party's corresponding-adjustment settings as the gateway's config has them, logged
    when they are first seen and whenever they change: a Party's settings at log size N are
    those of its last such entry before N."""

    entry_type: Literal["party-settings"]
    entry_id: SettingsEntryId
    party: str
    name: str
    #: first and last year of the NDC implementation period, or null when not configured
    ndc_period: list[int] | None = Field(min_length=2, max_length=2)
    ca_method: Literal["trajectory", "averaging", "budget"]
    ca_year: Literal["first-transfer", "vintage"]
    recorded_at: IsoMs


class TrustKeyEntry(Entry):
    """A key of the trust file as the gateway loaded it, logged when it is first seen
    (``registered``), when any of its fields changes (``changed``: suspended, revoked,
    ``valid_to`` set by a rotation...), and when it leaves the file (``withdrawn``: the key
    as it last stood; it is no longer trusted)."""

    entry_type: Literal["trust-key"]
    entry_id: KeyEntryId
    change: Literal["registered", "changed", "withdrawn"]
    key_id: str
    public_key: str
    principal: str
    role: Role
    valid_from: str = Field(description="RFC 3339 UTC, e.g. 2026-01-01T00:00:00Z")
    valid_to: str | None = Field(description="RFC 3339 UTC, or null: no end")
    status: Literal["active", "suspended", "revoked"]
    recorded_at: IsoMs


#: The kinds that record an input (each has ``input``, ``outcome``, ``results`` and
#: ``decided_at``); the trust-key and party-settings entries record the gateway's trust
#: and configuration instead.
InputEntry = (
    DecisionEntry
    | DeadLetterEntry
    | HttpRefusalEntry
    | DeliveryParkedEntry
    | DiscrepancyEntry
    | SummaryCheckEntry
    | ReconciliationEntry
)
INPUT_KINDS = (
    DecisionEntry,
    DeadLetterEntry,
    HttpRefusalEntry,
    DeliveryParkedEntry,
    DiscrepancyEntry,
    SummaryCheckEntry,
    ReconciliationEntry,
)

AuditEntry = Annotated[
    InputEntry | PartySettingsEntry | TrustKeyEntry,
    Field(discriminator="entry_type"),
]


#: Every kind, in the order of the union.
ENTRY_KINDS: tuple[type[Entry], ...] = (*INPUT_KINDS, PartySettingsEntry, TrustKeyEntry)


AUDIT_ENTRY: TypeAdapter[AuditEntry] = TypeAdapter(AuditEntry)


def parse_entry(data: bytes | str) -> AuditEntry:
    """The model of stored entry bytes, for reading its fields (never to re-serialise them).

    :raises pydantic.ValidationError: when the bytes are not an entry of a known kind.
    """
    return AUDIT_ENTRY.validate_json(data)


#: What the entry readers take: the stored bytes (or text), an entry decoded from JSON, or a
#: model already in hand (:func:`read_entry`).
EntryLike = bytes | str | Mapping[str, Any] | Entry


def read_entry(raw: EntryLike) -> AuditEntry | None:
    """The model of an audit entry for reading its fields, or None when the models refuse it.

    The one way readers take an entry: stored bytes (or their text) are parsed as stored; an
    entry already decoded from JSON is read as the JSON it came from (strict models take
    arrays only from JSON); a model is returned as it is. None says the log holds something
    that is not an entry of a known kind (the sequencer appends any JSON object keyed by its
    ``entry_id``): each reader then does what it does with an unreadable entry.
    """
    if isinstance(raw, Entry):
        return cast(AuditEntry, raw)
    try:
        if isinstance(raw, bytes | str):
            return AUDIT_ENTRY.validate_json(raw)
        try:
            return AUDIT_ENTRY.validate_python(raw)  # the quick way, for most entries
        except ValidationError:
            # strict tuples (an authorization's sectors...) take arrays only from JSON
            return AUDIT_ENTRY.validate_json(json.dumps(raw, ensure_ascii=False))
    except (ValidationError, TypeError, ValueError, RecursionError):
        return None
