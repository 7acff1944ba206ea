"""The auditors' API: response models and the route table the OpenAPI document is made of."""

from __future__ import annotations

from dataclasses import dataclass
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


PAGING = (
    Param("after", "leaf index the page starts after (from next_after)", "integer"),
    Param("limit", "entries per page (1 to 1000, default 100)", "integer"),
)
SIZE = Param("size", "tree size (default: the latest checkpoint's)", "integer")

SEARCH_PARAMS: tuple[Param, ...] = (
    Param("event", "event id of the input"),
    Param("source", "registry (or Party) that sent the input"),
    Param("party", "a Party code: inputs from any of its registries"),
    Param("type", "event type, e.g. a6gw.transfer.v1"),
    Param("outcome", "accepted, rejected, recorded, dead-lettered, ..."),
    Param("code", "a check code in the results, e.g. BLK-003"),
    Param("ca", "cooperative approach id"),
    Param("transaction", "transaction id"),
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
    errors = {
        str(status): {
            "description": text,
            "content": {"application/problem+json": {"schema": problem}},
        }
        for status, text in (
            (400, "a malformed request"),
            (401, "no valid client certificate or token"),
            (404, "no such entry or tree size"),
        )
    }
    paths: dict[str, Any] = {}
    for r in ROUTES:
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
        paths[r.path] = {
            "get": {
                "operationId": r.name,
                "summary": r.summary,
                "parameters": parameters,
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": ok}}},
                    **errors,
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "a6gw auditors' API",
            "version": "1",
            "description": "Read-only access to the audit log: checkpoints, entries, search, "
            "inclusion and consistency proofs (RFC 9162), chains of custody. Every answer "
            "can be checked against the signed checkpoint; `a6gw verify --api` does so.",
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
