"""The auditors' HTTPS API: TLS always, client certificate or bearer token.

:func:`make_app` builds the aiohttp application from the one route table
(:data:`gateway.api.routes.ROUTES`, whose handlers are :class:`gateway.api.handlers.AuditAPI`'s
methods) behind a guard: who the client is (:mod:`gateway.api.access`), what it may see,
parameters no store can hold, and every error as an RFC 9457 problem with its stable code.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from gateway.api import reporting
from gateway.api.access import Access, Grant, Scope, is_public
from gateway.api.handlers import SCOPE, AuditAPI
from gateway.api.routes import ROUTES, Route
from gateway.errors import CommandProblem, GatewayError
from gateway.http.access_log import Who, access_log, peer_cn
from gateway.http.problems import problem
from gateway.http.tls import ServerThread, server_tls
from gateway.observe import http as observe_http
from gateway.observe.health import Checks, producer_connected
from gateway.ui import STATIC
from gateway.ui.serve import PageFile, add_page, load_page

__all__ = [
    "Access",
    "AuditAPI",
    "Grant",
    "ServerThread",
    "make_app",
    "problem",
    "readiness",
    "server_tls",
]

STATUS = {
    "AUD-NOT-FOUND": 404,
    "AUD-QUERY": 400,
    "AUD-RANGE": 400,
    "API-REQUEST": 400,
    "REC-101": 404,
    "API-READONLY": 503,
    "API-PUBLISH": 503,
    "API-ROLE": 403,
    "API-SCOPE": 403,
    **reporting.STATUS,
}
#: The paths whose ``party`` parameter a client scoped to one Party must set to its own.
PARTY_SCOPED = frozenset(r.path for r in ROUTES if r.party_scoped)


def _text_problem(request: web.Request) -> str | None:
    """Why a path or query parameter cannot reach a store: a NUL (PostgreSQL text holds
    none) or a character that is not a Unicode scalar value; None when all are fine."""
    values = [*request.match_info.values(), *request.query.keys(), *request.query.values()]
    for value in values:
        if "\x00" in value:
            return "a parameter contains a NUL character"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "a parameter is not valid UTF-8"
    return None


#: where the guard keeps the request's grant, for the access log
GRANT = web.RequestKey("a6gw.grant", Grant)


def _who(access: Access) -> Who:
    """The API's fields of a request's access-log line: how the client authenticated and
    the role it was granted (never the token itself)."""

    def who(request: web.Request) -> dict[str, Any]:
        grant = request.get(GRANT)
        if grant is None:
            return {"auth": "none", "role": None}
        cn = peer_cn(request)
        auth = "certificate" if cn is not None and cn in access.clients else "token"
        return {"auth": auth, "role": grant.role, "party": grant.party}

    return who


# The codes of the answers aiohttp gives before a handler runs.
HTTP_CODES = {404: "API-NOT-FOUND", 405: "API-METHOD", 413: "MSG-008"}


def make_app(
    api: AuditAPI, access: Access, page: Mapping[str, PageFile] | None = None
) -> web.Application:
    """The aiohttp application: the routes of :data:`gateway.api.routes.ROUTES`, and the
    auditors' page under ``/ui/`` (``page``: its files, by default the packaged ones)."""

    @web.middleware
    async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[Any]]) -> Any:
        if is_public(request.path) and request.method in ("GET", "HEAD"):
            return await handler(request)  # the page's static files (gateway.ui.serve)
        grant = access.grant(request)
        if grant is None:
            response = problem(
                401, "API-AUTH", "a client certificate or a bearer token is required"
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="a6gw"'
            return response
        request[GRANT] = grant
        if request.method not in ("GET", "HEAD") and grant.role != "operator":
            return problem(403, "API-ROLE", f"role {grant.role} may read but not post commands")
        scope = request[SCOPE] = Scope.of(grant, api.party_sources)
        if scope.party is not None and request.path in PARTY_SCOPED:
            if request.query.get("party") != scope.party:
                return problem(403, "API-SCOPE", f"this client sees only Party {scope.party}")
        bad_text = _text_problem(request)
        if bad_text is not None:
            return problem(400, "API-REQUEST", bad_text)
        try:
            return await handler(request)
        except CommandProblem as exc:
            return problem(exc.status, exc.code, str(exc.args[0]))
        except GatewayError as exc:
            return problem(STATUS.get(exc.code, 500), exc.code, str(exc.args[0]))
        except web.HTTPException as exc:  # aiohttp's own answers: no route, method, size
            if exc.status < 400:
                raise
            return problem(exc.status, HTTP_CODES.get(exc.status, "API-REQUEST"), exc.reason)

    logged = access_log("a6gw.api.access", _who(access))
    app = web.Application(
        middlewares=[logged, observe_http.middleware("api"), guard],
        client_max_size=api.max_command_bytes + 1024,
    )

    async def close_store(_app: web.Application) -> None:
        api.store.close()

    app.on_cleanup.append(close_store)
    add_page(app, load_page(STATIC) if page is None else page)
    for route in ROUTES:
        if route.method == "get":  # and HEAD
            app.router.add_get(route.path, _handle(api, route))
        else:
            app.router.add_route(route.method.upper(), route.path, _handle(api, route))
    return app


def _handle(api: AuditAPI, route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The route's handler on ``api``; a model it returns is answered as JSON."""

    async def handle(request: web.Request) -> web.StreamResponse:
        answer = await route.handler(api, request)
        if isinstance(answer, web.StreamResponse):
            return answer
        return web.json_response(text=answer.model_dump_json(), status=route.status)

    return handle


def readiness(api: AuditAPI, publisher: Any | None) -> Checks:
    """``/readyz`` of the API (``gateway.observe``): its audit store answers, and its
    producer of discrepancy commands (``publisher``, a ``KafkaPublisher``; None:
    ``--read-only``) is connected."""

    async def store() -> str | None:
        api.store.size()  # raises when the store cannot be read
        return None

    async def producer() -> str | None:
        if publisher is None:
            return None
        return producer_connected(getattr(publisher, "_producer", None))

    return {"store": store, "producer": producer}
