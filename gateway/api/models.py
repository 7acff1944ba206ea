"""The auditors' API: response models and the route table the OpenAPI document is made of."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


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


class Problem(_Model):
    """An error (RFC 9457 problem details, with the gateway's stable code)."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str


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
    errors: tuple[int, ...] = (400, 401, 404)


ERRORS = {
    400: "a malformed request",
    401: "no valid client certificate or token",
    404: "no such entry, tree size, discrepancy or run",
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
        errors=(400, 401, 404, 413, 422, 503),
    ),
    Route("/v1/reconciliations", "reconciliations", "Reconciliation runs, newest first", RunList),
    Route(
        "/v1/reconciliations/{run_id}",
        "reconciliation",
        "A reconciliation run: its report, its discrepancies, its status after them",
        RunDetail,
        (Param("run_id", "run id (rec-…)", where="path", required=True),),
    ),
)


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the routes above (checked in under schemas/openapi)."""
    models = {r.response for r in ROUTES} | {Problem}
    components: dict[str, Any] = {}
    for model in sorted(models, key=lambda m: m.__name__):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    problem = {"$ref": "#/components/schemas/Problem"}
    paths: dict[str, Any] = {}
    for r in ROUTES:
        errors = {
            str(status): {
                "description": ERRORS[status],
                "content": {"application/problem+json": {"schema": problem}},
            }
            for status in r.errors
        }
        parameters = [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "description": p.description,
                "schema": {"type": p.kind},
            }
            for p in r.params
        ]
        ok = {"$ref": f"#/components/schemas/{r.response.__name__}"}
        operation: dict[str, Any] = {
            "operationId": r.name,
            "summary": r.summary,
            "parameters": parameters,
            "responses": {
                str(r.status): {
                    "description": HTTPStatus(r.status).phrase,
                    "content": {"application/json": {"schema": ok}},
                },
                **errors,
            },
        }
        if r.body is not None:
            operation["requestBody"] = {
                "required": True,
                "description": r.body,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        paths.setdefault(r.path, {})[r.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "a6gw auditors' API",
            "version": "1",
            "description": "Access to the audit log: checkpoints, entries, search, "
            "inclusion and consistency proofs (RFC 9162), chains of custody. Every answer "
            "can be checked against the signed checkpoint; `a6gw verify --api` does so. "
            "Discrepancies and reconciliation runs as the log has them; the one write: an "
            "operator's signed discrepancy command, checked, then put on Kafka.",
        },
        "servers": [{"url": "https://127.0.0.1:8443"}],
        "security": [{"clientCertificate": []}, {"bearerToken": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "clientCertificate": {"type": "mutualTLS"},
                "bearerToken": {"type": "http", "scheme": "bearer"},
            },
        },
    }
