"""The OpenAPI 3.1 document of the auditors' API, made from the route table and models.

The router is built from the same table (:data:`gateway.api.routes.ROUTES`).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from gateway.api.models import Problem
from gateway.api.routes import ERRORS, ROUTES


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the route table (checked in under schemas/openapi)."""
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
        files = {m: {"schema": {"type": "string", "format": "binary"}} for m in r.media}
        operation: dict[str, Any] = {
            "operationId": r.name,
            "summary": r.summary,
            "parameters": parameters,
            "responses": {
                str(r.status): {
                    "description": HTTPStatus(r.status).phrase,
                    "content": {"application/json": {"schema": ok}, **files},
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
            "Discrepancies and reconciliation runs as the log has them; a Party's structured "
            "summary and AEF computed from it; the one write: an operator's signed "
            "discrepancy command, checked, then put on Kafka.",
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
