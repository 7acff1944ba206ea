"""The access log of the gateway's HTTPS servers (the auditors' API, the ingress).

One INFO line per request, written by an aiohttp middleware once the answer is ready, on
the logger the server names (``a6gw.api.access``, ``a6gw.ingress.access``). Its fields:
``method``, ``path`` (never the query string, which could carry a secret), ``status``,
``duration_ms``, ``remote`` (the peer's address), ``client_cn`` (the common name of the
client certificate, when one was presented and verified) and what the server adds
(``who``): the API's ``auth`` (``certificate``, ``token`` or ``none``) and ``role``, the
ingress's ``registry``. A bearer token is never logged, only the role it grants.

aiohttp's own access logger (``aiohttp.access``) is silenced by :mod:`gateway.logs`: its
line holds the request line, query string included.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: what the server adds to a request's line, asked once the answer is ready
Who = Callable[[web.Request], dict[str, Any]]


class Outcome:
    """The status a request was answered with, known also when the handler raised: an
    ``HTTPException``'s status, 499 when the client went away before the answer (as nginx
    logs it), 500 for any other error."""

    def __init__(self) -> None:
        self.status = 500

    async def of(self, handler: Handler, request: web.Request) -> web.StreamResponse:
        """``handler``'s answer to ``request``, its status noted here."""
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            self.status = exc.status
            raise
        except asyncio.CancelledError:
            self.status = 499
            raise
        self.status = response.status
        return response


def peer_cn(request: web.Request) -> str | None:
    """The common name of the request's client certificate (only present once verified
    against the server's client CA), else None."""
    transport = request.transport
    cert = transport.get_extra_info("peercert") if transport is not None else None
    for rdn in (cert or {}).get("subject", ()):
        for attr, value in rdn:
            if attr == "commonName":
                return str(value)
    return None


def access_log(logger: str, who: Who | None = None) -> Any:
    """The middleware that logs each request on ``logger`` (see the module)."""
    log = logging.getLogger(logger)

    @web.middleware
    async def logged(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not log.isEnabledFor(logging.INFO):
            return await handler(request)
        started = time.perf_counter()
        cn = peer_cn(request)
        outcome = Outcome()
        try:
            return await outcome.of(handler, request)
        finally:
            status = outcome.status
            fields: dict[str, Any] = {
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "remote": request.remote,
                "client_cn": cn,
            }
            if who is not None:
                fields |= who(request)
            log.info("%s %s %d", request.method, request.path, status, extra=fields)

    return logged
