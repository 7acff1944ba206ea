"""Event payloads (the CloudEvents ``data`` member), one strict model per event type.

Each type is either a *proposal* (the registry waits for the gateway's decision before it
completes the act, as Kyoto registries waited for the transaction log) or a *notification*
of an act already completed. ``EVENT_TYPES`` is the single catalogue: type string, model,
kind, the roles that may sign it by default, and whether it carries a serial space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from schemas._types import (
    AccountId,
    AccountType,
    ActivityType,
    AuthorizationId,
    CancellationSubtype,
    CooperativeApproachId,
    DecimalInt,
    FirstTransferDefinition,
    IsoDate,
    JcmProjectId,
    MitigationType,
    PartyCode,
    PositiveDecimalInt,
    Purpose,
    RegistryId,
    Sector,
    SerialRange,
    SignedDecimal,
    Strict,
    TransactionId,
    Year,
)
from schemas.decisions import Decision, DecisionV2

Kind = Literal["proposal", "notification"]
Role = Literal[
    "registry",
    "authorizing-authority",
    "jc-secretariat",
    "inventory-agency",
    "operator",
    "gateway",
]


class AccountOpened(Strict):
    registry_id: RegistryId
    account_id: AccountId
    account_type: AccountType
    holder: str = Field(min_length=1, max_length=200)


class AccountBlocked(Strict):
    registry_id: RegistryId
    account_id: AccountId
    reason: str = Field(min_length=1, max_length=500)


class AccountClosed(Strict):
    registry_id: RegistryId
    account_id: AccountId


class Allocation(Strict):
    """One side's share of a Joint Committee issuance decision."""

    registry_id: RegistryId
    quantity: PositiveDecimalInt


class MonitoringPeriod(Strict):
    start: IsoDate
    end: IsoDate


class JcIssuanceDecision(Strict):
    """A JCM Joint Committee decision to issue credits for a monitoring period."""

    decision_id: TransactionId
    ca_id: CooperativeApproachId
    project_id: JcmProjectId
    monitoring_period: MonitoringPeriod
    vintage: Year
    quantity: PositiveDecimalInt
    allocation: tuple[Allocation, ...] = Field(min_length=1, max_length=2)


class IssuedBlock(SerialRange):
    account_id: AccountId


class Issuance(Strict):
    """Issuance of units into holding accounts of the issuing (originating) registry."""

    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    registry_id: RegistryId
    decision_id: TransactionId
    vintage: Year
    unit_type: Literal["JCM", "A6.4ER", "MO"]
    blocks: tuple[IssuedBlock, ...] = Field(min_length=1, max_length=1000)
    quantity: DecimalInt | None = None


class AccountRef(Strict):
    registry_id: RegistryId
    account_id: AccountId


class Transfer(Strict):
    """A transfer within one registry, or a proposal to move units to another registry."""

    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    originating_registry: RegistryId
    transferring: AccountRef
    acquiring: AccountRef
    blocks: tuple[SerialRange, ...] = Field(min_length=1, max_length=1000)
    quantity: DecimalInt | None = None
    # What the sender believes; the gateway derives it and rejects a wrong claim (A6-006).
    first_transfer: bool | None = None


class CreditedBlock(SerialRange):
    """A range the acquiring registry credited, as its own records describe the units."""

    vintage: Year
    unit_type: Literal["JCM", "A6.4ER", "MO"]


class TransferAnswer(Strict):
    """The acquiring registry's answer to a cross-registry transfer proposal."""

    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    originating_registry: RegistryId
    answer: Literal["accepted", "rejected"]
    # DES registry response codes, e.g. 5902 acquiring account does not exist.
    reason_code: int | None = Field(default=None, ge=5900, le=5999)
    # What it credited, on an accepted answer: it must mirror what was debited (A6-015).
    credited: tuple[CreditedBlock, ...] | None = Field(default=None, max_length=1000)


class TransferTimeout(Strict):
    """The gateway's own input: no answer came for a cross-registry transfer in time."""

    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    originating_registry: RegistryId
    deadline: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")


class Cancellation(Strict):
    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    originating_registry: RegistryId
    registry_id: RegistryId
    account_id: AccountId
    cancellation_account_id: AccountId
    subtype: CancellationSubtype
    blocks: tuple[SerialRange, ...] = Field(min_length=1, max_length=1000)
    quantity: DecimalInt | None = None


class Retirement(Strict):
    """Retirement of units towards a Party's NDC (an Article 6 'use')."""

    transaction_id: TransactionId
    ca_id: CooperativeApproachId
    originating_registry: RegistryId
    registry_id: RegistryId
    account_id: AccountId
    retirement_account_id: AccountId
    using_party: PartyCode
    using_entity_id: str | None = Field(default=None, min_length=1, max_length=100)
    ndc_year: Year
    blocks: tuple[SerialRange, ...] = Field(min_length=1, max_length=1000)
    quantity: DecimalInt | None = None


class Coverage(SerialRange):
    originating_registry: RegistryId


class Authorization(Strict):
    """A versioned authorization by the first transferring Party (AEF Table 2)."""

    authorization_id: AuthorizationId
    version: int = Field(ge=1)
    status: Literal["granted", "amended", "revoked"]
    ca_id: CooperativeApproachId
    authorizing_party: PartyCode
    date: IsoDate
    purposes: Purpose
    first_transfer_definition: FirstTransferDefinition
    authorized_quantity: PositiveDecimalInt | None = None
    authorized_timeframe: str | None = Field(default=None, pattern=r"^\d{4} - \d{4}$")
    metric: Literal["GHG", "non-GHG"] = "GHG"
    non_ghg_metric: str | None = Field(default=None, min_length=1, max_length=100)
    authorized_entity_ids: tuple[str, ...] = Field(default=(), max_length=1000)
    coverage: tuple[Coverage, ...] = Field(default=(), max_length=1000)
    # AEF Table 2 (and Tables 3-4 for the mitigation type); the AEF export requires a sector
    # and a mitigation type and refuses an authorization without them.
    sectors: tuple[Sector, ...] = Field(default=(), max_length=9)
    activity_types: tuple[ActivityType, ...] = Field(default=(), max_length=27)
    mitigation_type: MitigationType | None = None
    oimp_authorized: str | None = Field(default=None, min_length=1, max_length=300)


class EntityAuthorized(Strict):
    """An entity a Party authorized under a cooperative approach (AEF Table 5)."""

    ca_id: CooperativeApproachId
    authorizing_party: PartyCode
    date: IsoDate
    name: str = Field(min_length=1, max_length=300)
    country_of_incorporation: PartyCode
    identification_number: str = Field(min_length=1, max_length=100)
    conditions: str | None = Field(default=None, max_length=4000)
    change_and_revocation_conditions: str | None = Field(default=None, max_length=4000)
    additional_information: str | None = Field(default=None, max_length=4000)


class OpeningBlock(SerialRange):
    account_id: AccountId
    vintage: Year
    unit_type: Literal["JCM", "A6.4ER", "MO"]
    state: Literal["held", "retired", "cancelled"] = "held"
    first_transferred: bool = False
    authorization_id: AuthorizationId | None = None


class OpeningHoldings(Strict):
    """A registry's holdings in one serial space when it joins the gateway (signed by it)."""

    registry_id: RegistryId
    ca_id: CooperativeApproachId
    originating_registry: RegistryId
    as_of: IsoDate
    blocks: tuple[OpeningBlock, ...] = Field(min_length=1, max_length=10000)


class SnapshotRow(SerialRange):
    """Units one account held at the snapshot time."""

    account_id: AccountId
    ca_id: CooperativeApproachId
    originating_registry: RegistryId
    vintage: Year
    unit_type: Literal["JCM", "A6.4ER", "MO"]


class HoldingsSnapshot(Strict):
    """One page of a registry's holdings at an announced snapshot time: its answer to the
    gateway's ``reconciliation.requested`` notice (DES provideUnitBlocks, every account)."""

    reconciliation_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
    registry_id: RegistryId
    snapshot_at: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
    page: int = Field(ge=1, le=100_000)
    pages: int = Field(ge=1, le=100_000)
    rows: tuple[SnapshotRow, ...] = Field(max_length=1000)


class InventoryEmissions(Strict):
    """A national inventory's annual emissions covered by the NDC (supersedes earlier ones)."""

    party: PartyCode
    year: Year
    emissions_tco2e: SignedDecimal
    submission_id: str = Field(min_length=1, max_length=100)


class SummaryRows(Strict):
    """CTF Table 4 rows 7-14 as a Party reports them (tCO2e; absent = not applicable)."""

    r7: SignedDecimal | None = None
    r8: SignedDecimal | None = None
    r9: SignedDecimal | None = None
    r10: SignedDecimal | None = None
    r11: SignedDecimal | None = None
    r12: SignedDecimal | None = None
    r13: SignedDecimal | None = None
    r14: SignedDecimal | None = None


class StructuredSummaryReported(Strict):
    party: PartyCode
    year: Year
    rows: SummaryRows


class DiscrepancyCommand(Strict):
    """An operator's command moving a discrepancy on (acknowledge, resolve, resolve by hand).

    Published on ``a6.discrepancy.commands`` keyed by the discrepancy id, signed by a key of
    role ``operator``; the signer is who acted."""

    discrepancy_id: str = Field(pattern=r"^dsc-[0-9a-f]{40}$")
    action: Literal["acknowledge", "resolve", "resolve-by-hand"]
    note: str = Field(default="", max_length=2000)
    # resolve-by-hand: what the operator changed, and where (DES manual intervention)
    correction: str = Field(default="", max_length=4000)


class GatewayNotice(Strict):
    """A message from the gateway to a registry besides a decision (e.g. a transfer proposal).

    Open to new kinds; each kind's body: ``schemas.records`` (notice-data.schema.json)."""

    kind: str = Field(pattern=r"^[a-z.]+$")
    body: dict[str, Any]


@dataclass(frozen=True)
class EventType:
    """One row of the event catalogue."""

    name: str
    model: type[Strict]
    kind: Kind
    roles: tuple[Role, ...]
    major: int = 1

    @property
    def type(self) -> str:
        return f"a6gw.{self.name}.v{self.major}"


_CATALOGUE: tuple[EventType, ...] = (
    EventType("account.opened", AccountOpened, "notification", ("registry",)),
    EventType("account.blocked", AccountBlocked, "notification", ("registry",)),
    EventType("account.closed", AccountClosed, "notification", ("registry",)),
    EventType("jcm.issuance.decided", JcIssuanceDecision, "notification", ("jc-secretariat",)),
    EventType("issuance", Issuance, "proposal", ("registry",)),
    EventType("transfer", Transfer, "proposal", ("registry",)),
    EventType("transfer.answer", TransferAnswer, "notification", ("registry",)),
    EventType("transfer.timeout", TransferTimeout, "notification", ("gateway",)),
    EventType("cancellation", Cancellation, "proposal", ("registry",)),
    EventType("retirement", Retirement, "proposal", ("registry",)),
    EventType("authorization", Authorization, "notification", ("authorizing-authority",)),
    EventType("entity.authorized", EntityAuthorized, "notification", ("authorizing-authority",)),
    EventType("holdings.opening", OpeningHoldings, "notification", ("registry",)),
    EventType("holdings.snapshot", HoldingsSnapshot, "notification", ("registry",)),
    EventType("inventory.emissions", InventoryEmissions, "notification", ("inventory-agency",)),
    EventType("summary.reported", StructuredSummaryReported, "notification", ("inventory-agency",)),
    EventType("discrepancy.command", DiscrepancyCommand, "notification", ("operator",)),
    # v1: what the gateway wrote before v2; kept published for the records that hold it
    EventType("decision", Decision, "notification", ("gateway",)),
    EventType("decision", DecisionV2, "notification", ("gateway",), major=2),
    EventType("notice", GatewayNotice, "notification", ("gateway",)),
)

EVENT_TYPES: dict[str, EventType] = {et.type: et for et in _CATALOGUE}
#: short name -> the newest major version of that type (what the gateway writes)
CURRENT: dict[str, EventType] = {et.name: et for et in _CATALOGUE}


def event_type(name: str) -> EventType:
    """Look up a catalogue row by full type string, or by short name (``"issuance"``): the
    newest major version."""
    found = EVENT_TYPES.get(name) or CURRENT.get(name)
    if found is None:
        raise KeyError(name)
    return found
