"""The API's router and its OpenAPI document are built from one route table, so they agree."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.api.access import Access, is_public
from gateway.api.gen import OPENAPI_DIR
from gateway.api.handlers import AuditAPI
from gateway.api.openapi import openapi
from gateway.api.routes import ROUTES
from gateway.api.server import PARTY_SCOPED, make_app
from gateway.audit.store import AuditStore


def served(tmp_path: Path) -> set[tuple[str, str]]:
    """``(method, path)`` of every route of the API the built application serves (HEAD
    aside: aiohttp answers it for every GET, and OpenAPI leaves it implicit; the auditors'
    page's static files aside: they are no API, and are served under /ui only)."""
    app = make_app(AuditAPI(AuditStore(tmp_path / "audit.sqlite"), []), Access())
    found: set[tuple[str, str]] = set()
    page: set[tuple[str, str]] = set()
    for route in app.router.routes():
        assert route.resource is not None
        if route.method != "HEAD":
            into = page if is_public(route.resource.canonical) else found
            into.add((route.method.lower(), route.resource.canonical))
    assert page == {("get", "/ui"), ("get", "/ui/{path}")}
    return found


def documented(doc: Mapping[str, Any]) -> set[tuple[str, str]]:
    paths: dict[str, dict[str, object]] = doc["paths"]
    return {(method, path) for path, ops in paths.items() for method in ops}


def test_every_route_served_is_documented_and_every_documented_route_is_served(
    tmp_path: Path,
) -> None:
    routes = served(tmp_path)
    assert routes == documented(openapi())
    checked_in = json.loads((OPENAPI_DIR / "audit-api.openapi.json").read_text())
    assert routes == documented(checked_in)
    assert len(routes) == len(ROUTES) == 14


def test_each_route_has_its_own_operation_and_a_handler_of_the_api() -> None:
    assert len({r.name for r in ROUTES}) == len(ROUTES)
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES)
    for r in ROUTES:
        assert getattr(AuditAPI, r.handler.__name__) is r.handler


def test_the_party_scoped_routes_are_the_reports() -> None:
    assert PARTY_SCOPED == {"/v1/summary", "/v1/aef"}
    for r in ROUTES:
        if r.party_scoped:
            assert any(p.name == "party" and p.required for p in r.params)
