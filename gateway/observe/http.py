"""The request metrics of an aiohttp server: :func:`middleware` counts each answer by route
(the path template, never the path: ids would make a label per request) and status, and
times it."""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from gateway.http.access_log import Handler, Outcome
from gateway.observe import metrics as m

__all__ = ["UNMATCHED", "middleware", "route_of"]

#: The route label of a request no route serves (a 404 or 405 from aiohttp).
UNMATCHED = "unmatched"


def route_of(request: web.Request) -> str:
    """The path template of the route that serves ``request`` (``/v1/entries/{index}``)."""
    info = request.match_info
    route = getattr(info, "route", None)
    resource = getattr(route, "resource", None)
    if resource is None or getattr(info, "http_exception", None) is not None:
        return UNMATCHED
    return str(resource.canonical)


def middleware(server: str) -> Any:
    """A middleware (put it first, so it sees every answer) counting ``server``'s requests."""

    @web.middleware
    async def count(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        outcome = Outcome()
        try:
            return await outcome.of(handler, request)
        finally:
            route = route_of(request)
            m.HTTP_REQUESTS.labels(server, route, request.method, str(outcome.status)).inc()
            m.HTTP_SECONDS.labels(server, route).observe(time.perf_counter() - started)

    return count
