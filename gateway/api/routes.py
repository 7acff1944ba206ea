"""The auditors' API's one route table: the router and the OpenAPI document are built from it.

:func:`gateway.api.server.make_app` adds a route per entry (its handler, its status) and
:func:`gateway.api.openapi.openapi` describes the same entries (parameters, answers, the
errors each may give), so the two cannot differ.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web
from pydantic import BaseModel

from gateway.api.handlers import AuditAPI
from gateway.api.models import (
    CheckpointOut,
    CommandAccepted,
    ConsistencyOut,
    CustodyOut,
    DiscrepancyDetail,
    DiscrepancyList,
    EntryOut,
    EntryPage,
    InclusionOut,
    RunDetail,
    RunList,
)
from gateway.api.reporting import XLSX, ZIP, AefOut, SummaryOut

__all__ = ["ERRORS", "ROUTES", "Handler", "Param", "Route"]

#: A route's handler: a model to answer as JSON with the route's status, or a response as is.
Handler = Callable[[AuditAPI, web.Request], Awaitable[BaseModel | web.Response]]


@dataclass(frozen=True)
class Param:
    """A query or path parameter of a route, as the OpenAPI document describes it."""

    name: str
    description: str
    kind: str = "string"  # or "integer"
    where: str = "query"  # or "path"
    required: bool = False


@dataclass(frozen=True)
class Route:
    """One route: what the router serves and what the OpenAPI document says of it.

    Every method other than GET (and HEAD) is an operator's: the server's guard refuses it
    to any other role (API-ROLE) before the route is looked up. ``party_scoped``: a client
    scoped to one Party must name its own Party in the ``party`` parameter (API-SCOPE).
    """

    path: str
    handler: Handler
    name: str  # the operationId
    summary: str
    response: type[BaseModel]
    params: tuple[Param, ...] = ()
    method: str = "get"
    body: str | None = None  # what the request body is (for methods that take one)
    status: int = 200
    errors: tuple[int, ...] = (400, 401, 403, 404)
    media: tuple[str, ...] = ()  # other content types the answer may have (files)
    party_scoped: bool = False


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
    404: "no such entry, tree size, discrepancy, run or Party (API-PARTY), no published "
    "checkpoint of the report's tree size (RPT-SIZE)",
    409: "the log or the config does not allow the answer: an AEF refused (A6-AEF-003 no "
    "roll-forward, A6-AEF-00x), a row that cannot be read (CTF-103), no NDC period (CTF-101), "
    "no settings for the Party (RPT-SETTINGS), a party-settings entry that cannot be read "
    "(RPT-LOG)",
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
PARTY = Param("party", "a Party code of the log or the config, e.g. JPN", required=True)
REPORT_SIZE = Param(
    "size",
    "compute at the published checkpoint of this tree size (default: the latest); "
    "another size is RPT-SIZE (404)",
    "integer",
)

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
    Route(
        "/v1/checkpoint",
        AuditAPI.get_checkpoint,
        "checkpoint",
        "The latest published checkpoint",
        CheckpointOut,
    ),
    Route(
        "/v1/entries/{index}",
        AuditAPI.get_entry,
        "entry",
        "An entry by leaf index",
        EntryOut,
        (Param("index", "leaf index", "integer", "path", True),),
    ),
    Route(
        "/v1/entries/by-id/{entry_id}",
        AuditAPI.get_entry_by_id,
        "entry_by_id",
        "An entry by entry id",
        EntryOut,
        (Param("entry_id", "entry id (ev-… or raw-…)", where="path", required=True),),
    ),
    Route(
        "/v1/search",
        AuditAPI.search,
        "search",
        "Entries matching every criterion given",
        EntryPage,
        SEARCH_PARAMS,
    ),
    Route(
        "/v1/proofs/inclusion",
        AuditAPI.get_inclusion,
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
        AuditAPI.get_consistency,
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
        AuditAPI.custody,
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
        AuditAPI.list_discrepancies,
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
        AuditAPI.get_discrepancy,
        "discrepancy",
        "A discrepancy as it stands, and every audit entry about it",
        DiscrepancyDetail,
        (DISCREPANCY,),
    ),
    Route(
        "/v1/discrepancies/{discrepancy_id}/commands",
        AuditAPI.post_command,
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
    Route(
        "/v1/reconciliations",
        AuditAPI.list_runs,
        "reconciliations",
        "Reconciliation runs, newest first",
        RunList,
    ),
    Route(
        "/v1/reconciliations/{run_id}",
        AuditAPI.get_run,
        "reconciliation",
        "A reconciliation run: its report, its discrepancies, its status after them",
        RunDetail,
        (Param("run_id", "run id (rec-…)", where="path", required=True),),
    ),
    Route(
        "/v1/summary",
        AuditAPI.get_summary,
        "summary",
        "A Party's structured summary (CTF Table 4 rows 5, 7-14) per year, the blocks behind "
        "each row, and its check against the rows the Party reported (not recorded)",
        SummaryOut,
        (
            PARTY,
            Param("year", "a year of the NDC period (default: up to the latest data)", "integer"),
            REPORT_SIZE,
        ),
        errors=(400, 401, 403, 404, 409),
        party_scoped=True,
    ),
    Route(
        "/v1/aef",
        AuditAPI.get_aef,
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
            REPORT_SIZE,
        ),
        errors=(400, 401, 403, 404, 409),
        media=(ZIP, XLSX),
        party_scoped=True,
    ),
)
