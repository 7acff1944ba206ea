"""The auditors' API: response models and the route table the OpenAPI document is made of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.api.reporting import XLSX, ZIP, AefOut, SummaryOut
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


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    kind: str = "string"  # or "integer"
    where: str = "query"  # or "path"
    required: bool = False


@dataclass(frozen=True)
class Route:
    path: str
    name: str
    summary: str
    response: type[BaseModel]
    params: tuple[Param, ...] = ()
    method: str = "get"
    body: str | None = None  # what the request body is (for methods that take one)
    status: int = 200
    errors: tuple[int, ...] = (400, 401, 403, 404)
    media: tuple[str, ...] = ()  # other content types the answer may have (files)


ERRORS = {
    400: "a malformed request (API-REQUEST: a parameter that is not an integer or is outside "
    "-2^63..2^63-1, a NUL character in any parameter; AUD-RANGE: a tree size beyond the "
    "latest published checkpoint; MSG-001: a command nested too deep or with an integer of "
    "too many digits; CTF-102 a year outside the NDC period; A6-AEF-004 a version or date of "
    "submission that is not X.Y or dd/mm/yyyy)",
    401: "no valid client certificate or token",
    403: "the client's role or Party scope does not allow it (API-ROLE: only an operator "
    "posts commands; API-SCOPE: an entry, discrepancy, run or Party outside the client's "
    "Party)",
    404: "no such entry, tree size, discrepancy, run or Party (API-PARTY)",
    409: "the log or the config does not allow the answer: an AEF refused (A6-AEF-003 no "
    "roll-forward, A6-AEF-00x), a row that cannot be read (CTF-103), no NDC period (CTF-101)",
    413: "the body is larger than limits.max_message_bytes (MSG-008)",
    422: "an envelope that is not a valid discrepancy command (MSG-001)",
    503: "commands are not accepted: no Kafka producer (API-READONLY), or the broker did "
    "not take the command (API-PUBLISH)",
}


PAGING = (
    Param("after", "leaf index the page starts after (from next_after)", "integer"),
    Param("limit", "entries per page (1 to 1000, default 100)", "integer"),
)
SIZE = Param("size", "tree size (default: the latest checkpoint's)", "integer")
DISCREPANCY = Param("discrepancy_id", "discrepancy id (dsc-…)", where="path", required=True)
PARTY = Param("party", "a Party code of the config, e.g. JPN", required=True)

SEARCH_PARAMS: tuple[Param, ...] = (
    Param("event", "event id of the input"),
    Param("source", "registry (or Party) that sent the input"),
    Param("party", "a Party code: inputs from any of its registries"),
    Param("type", "event type, e.g. a6gw.transfer.v1"),
    Param("outcome", "accepted, rejected, recorded, dead-lettered, ..."),
    Param("code", "a check code in the results, e.g. BLK-003"),
    Param("ca", "cooperative approach id"),
    Param("transaction", "transaction id"),
    Param("discrepancy", "a discrepancy id (dsc-…): its opening and every command on it"),
    Param("itmo", "CA:ORIGIN:SERIAL (an ITMO unique identifier) or CA:ORIGIN:FIRST-LAST"),
    Param("from", "decided at or after (ISO 8601, UTC, e.g. 2026 or 2026-11-29)"),
    Param("to", "decided before (ISO 8601, UTC)"),
    *PAGING,
)

ROUTES: tuple[Route, ...] = (
    Route("/v1/checkpoint", "checkpoint", "The latest published checkpoint", CheckpointOut),
    Route(
        "/v1/entries/{index}",
        "entry",
        "An entry by leaf index",
        EntryOut,
        (Param("index", "leaf index", "integer", "path", True),),
    ),
    Route(
        "/v1/entries/by-id/{entry_id}",
        "entry_by_id",
        "An entry by entry id",
        EntryOut,
        (Param("entry_id", "entry id (ev-… or raw-…)", where="path", required=True),),
    ),
    Route(
        "/v1/search", "search", "Entries matching every criterion given", EntryPage, SEARCH_PARAMS
    ),
    Route(
        "/v1/proofs/inclusion",
        "inclusion",
        "An inclusion proof of one entry",
        InclusionOut,
        (
            Param("index", "leaf index", "integer"),
            Param("entry_id", "or the entry id"),
            SIZE,
        ),
    ),
    Route(
        "/v1/proofs/consistency",
        "consistency",
        "A consistency proof between two tree sizes",
        ConsistencyOut,
        (
            Param("from", "the earlier tree size", "integer", required=True),
            Param("to", "the later tree size (default: the latest checkpoint's)", "integer"),
        ),
    ),
    Route(
        "/v1/custody",
        "custody",
        "The chain of custody of a serial range, with a proof per entry",
        CustodyOut,
        (
            Param("itmo", "CA:ORIGIN:SERIAL or CA:ORIGIN:FIRST-LAST", required=True),
            *PAGING,
        ),
    ),
    Route(
        "/v1/discrepancies",
        "discrepancies",
        "Discrepancies as they stand, matching every filter given",
        DiscrepancyList,
        (
            Param("status", "open, acknowledged or resolved"),
            Param("code", "what was found, e.g. REC-002"),
            Param("registry", "a registry involved"),
            Param("found_by", "reconciliation, decision or delivery"),
        ),
    ),
    Route(
        "/v1/discrepancies/{discrepancy_id}",
        "discrepancy",
        "A discrepancy as it stands, and every audit entry about it",
        DiscrepancyDetail,
        (DISCREPANCY,),
    ),
    Route(
        "/v1/discrepancies/{discrepancy_id}/commands",
        "discrepancy_command",
        "Put an operator's signed command on a6.discrepancy.commands, once it is checked",
        CommandAccepted,
        (DISCREPANCY,),
        method="post",
        body="a signed a6gw.discrepancy.command.v1 envelope (RFC 8785 JSON, Ed25519 by an "
        "active operator key), published exactly as posted, keyed by the path's id",
        status=202,
        errors=(400, 401, 403, 404, 413, 422, 503),
    ),
    Route("/v1/reconciliations", "reconciliations", "Reconciliation runs, newest first", RunList),
    Route(
        "/v1/reconciliations/{run_id}",
        "reconciliation",
        "A reconciliation run: its report, its discrepancies, its status after them",
        RunDetail,
        (Param("run_id", "run id (rec-…)", where="path", required=True),),
    ),
    Route(
        "/v1/summary",
        "summary",
        "A Party's structured summary (CTF Table 4 rows 5, 7-14) per year, the blocks behind "
        "each row, and its check against the rows the Party reported (not recorded)",
        SummaryOut,
        (
            PARTY,
            Param("year", "a year of the NDC period (default: up to the latest data)", "integer"),
        ),
        errors=(400, 401, 403, 404, 409),
    ),
    Route(
        "/v1/aef",
        "aef",
        "A Party's AEF for a year, once its holdings roll forward: the JSON document, a zip "
        "of the five CSV files, or the XLSX workbook (attachments)",
        AefOut,
        (
            PARTY,
            Param("year", "the reported year", "integer", required=True),
            Param("format", f"json (default: the document), csv ({ZIP}) or xlsx ({XLSX})"),
            Param("version", "the submission's version X.Y (default 1.0)"),
            Param("date", "date of submission dd/mm/yyyy (default: today, UTC)"),
        ),
        errors=(400, 401, 403, 404, 409),
        media=(ZIP, XLSX),
    ),
)
