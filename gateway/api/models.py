"""The auditors' API: its response models (the route table is :mod:`gateway.api.routes`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.http.problems import Problem as Problem


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckpointOut(_Model):
    """The latest checkpoint the sequencer published."""

    origin: str
    size: int = Field(ge=0)
    root: str = Field(description="hex of the 32-byte RFC 9162 root")
    note: str = Field(description="the C2SP signed note, verifiable with the log key")


class EntryOut(_Model):
    """One audit entry: its leaf index, its exact bytes (the leaf), and their hash."""

    index: int = Field(ge=0)
    entry_id: str
    leaf_hash: str = Field(description="hex of SHA-256(0x00 || body)")
    body: str = Field(description="the entry's RFC 8785 JSON, exactly the bytes of the leaf")


class EntryPage(_Model):
    items: list[EntryOut]
    next_after: int | None = Field(
        description="pass as `after` for the next page; null on the last page"
    )


class InclusionOut(_Model):
    index: int = Field(ge=0)
    size: int = Field(ge=1)
    leaf_hash: str
    hashes: list[str] = Field(description="base64 proof hashes, leaf upward (RFC 9162 §2.1.3)")


class ConsistencyOut(_Model):
    size1: int = Field(ge=1)
    size2: int = Field(ge=1)
    hashes: list[str] = Field(description="base64 proof hashes (RFC 9162 §2.1.4)")


class CustodyItem(_Model):
    entry: EntryOut
    proof: InclusionOut


class CustodyOut(_Model):
    """Every entry that touched a unit of the range, in log order, each with its proof."""

    ca_id: str
    origin: str
    serial_start: str
    serial_end: str
    checkpoint: CheckpointOut
    items: list[CustodyItem]
    next_after: int | None


class BlockOut(_Model):
    ca_id: str
    origin: str = Field(description="originating registry; empty when not known")
    start: str = Field(description="first serial (decimal)")
    end: str = Field(description="last serial (decimal)")


class HistoryOut(_Model):
    action: str
    by: str = Field(description="the signer of the command")
    at: str


class DiscrepancyOut(_Model):
    """A discrepancy as it stands after its latest audit entry."""

    discrepancy_id: str
    code: str = Field(description="what was found, e.g. REC-002 or DLV-001")
    severity: str
    status: str = Field(description="open, acknowledged or resolved")
    registries: list[str]
    blocks: list[BlockOut]
    first_seen: str
    found_by: str = Field(description="reconciliation, decision or delivery")
    source_entry: str = Field(description="the entry that found it (for a run: the run id)")
    summary: str
    detail: dict[str, Any]
    owner: str | None = Field(description="who acknowledged it")
    resolution: str | None
    manual: bool = Field(description="resolved by an operator's correction")
    history: list[HistoryOut]
    latest_index: int = Field(ge=0, description="leaf index of its latest audit entry")


class DiscrepancyList(_Model):
    items: list[DiscrepancyOut] = Field(description="in the order they were opened")


class StepOut(_Model):
    """One audit entry of a discrepancy: its opening, an applied command, or a refusal."""

    index: int = Field(ge=0)
    entry_id: str
    outcome: str = Field(description="open, acknowledged, resolved or refused")
    at: str
    by: str | None = Field(description="the command's signer (null for the opening)")
    codes: list[str] = Field(description="the finding's code, or the refusal's (REC-10x)")
    message: str


class DiscrepancyDetail(_Model):
    discrepancy: DiscrepancyOut
    entries: list[StepOut] = Field(description="every entry about it, in log order")


class RunOut(_Model):
    """A reconciliation run, with its status after its discrepancies' lifecycle."""

    run_id: str
    index: int = Field(ge=0, description="leaf index of the run's entry")
    registry: str
    decided_at: str
    report_status: str = Field(description="the status the run found")
    status: str = Field(
        description="after the lifecycle: completed-with-manual-intervention once every "
        "discrepancy is resolved and one by hand, completed once all are resolved otherwise"
    )
    discrepancy_ids: list[str]
    pending: int = Field(ge=0, description="differences whose discrepancy is not logged yet")


class RunList(_Model):
    items: list[RunOut] = Field(description="newest first")


class RunDetail(_Model):
    run: RunOut
    report: dict[str, Any]
    discrepancies: list[DiscrepancyOut]


class CommandAccepted(_Model):
    """A command that passed the checks and is on ``a6.discrepancy.commands``."""

    discrepancy_id: str
    command_id: str
    entry_id: str = Field(description="the audit entry the command will end as")
