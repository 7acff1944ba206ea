"""The plain-HTTP server of ``/metrics``, ``/livez`` and ``/readyz`` (unauthenticated; bind it
to loopback or a pod's network only: ``metrics.host``).

It runs in a thread of its own with its own event loop (:class:`gateway.http.tls.ServerThread`),
so a scrape is answered even while the process's event loop is busy (a worker rebuilding a
large ledger state), and tells that apart from a loop that answers:

- ``/metrics``: every metric of :data:`gateway.observe.metrics.REGISTRY`, in the Prometheus
  text format;
- ``/livez``: 200 when the process's event loop runs a no-op within ``live_timeout_s``,
  else 503;
- ``/readyz``: the process's readiness checks (:mod:`gateway.observe.health`), run on its
  event loop: 200 with every check passed, 503 with a JSON body naming each check that is
  not ready, or the loop that did not answer within ``ready_timeout_s``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.http.tls import ServerThread
from gateway.observe.health import Checks, report, run_checks
from gateway.observe.metrics import REGISTRY

__all__ = [
    "LIVE_TIMEOUT_S",
    "READY_TIMEOUT_S",
    "REFUSAL_LINGER_S",
    "HealthServer",
    "make_app",
    "serve",
    "serving",
]

log = logging.getLogger("a6gw.observe")

#: How long /livez waits for the process's event loop to run a no-op.
LIVE_TIMEOUT_S = 10.0
#: How long /readyz waits for the readiness checks (run on the process's event loop).
READY_TIMEOUT_S = 3.0
#: How long a worker whose sequencer refused to run stays up, serving, before it stops: long
#: enough for Prometheus to scrape the refusal (a6gw_sequencer_refusals_total, /readyz).
REFUSAL_LINGER_S = 30.0

#: the servers this process runs
_SERVERS: list[HealthServer] = []


def serving() -> bool:
    """Whether this process serves metrics and health."""
    return bool(_SERVERS)


T = TypeVar("T")
LoopOf = Callable[[], asyncio.AbstractEventLoop | None]


async def _noop() -> None:
    return None


async def _on(
    loop: asyncio.AbstractEventLoop | None, coro: Coroutine[Any, Any, T], timeout: float
) -> T:
    """Run ``coro`` on ``loop`` (another thread's) and wait for it here, ``timeout`` at most.

    :raises TimeoutError: when the loop does not run it in time (or does not run).
    """
    if loop is None or loop.is_closed():
        coro.close()
        raise TimeoutError("the event loop is not running")
    future: Future[T] = asyncio.run_coroutine_threadsafe(coro, loop)
    # Not cancelled on a timeout: the loop runs it when it can (a check reads, nothing more).
    return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), timeout)


def make_app(
    loop_of: LoopOf,
    checks: Checks,
    *,
    live_timeout_s: float = LIVE_TIMEOUT_S,
    ready_timeout_s: float = READY_TIMEOUT_S,
) -> web.Application:
    """The application; ``loop_of`` gives the process's event loop (None before it runs)."""

    async def metrics(_request: web.Request) -> web.Response:
        body = generate_latest(REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def livez(_request: web.Request) -> web.Response:
        try:
            await _on(loop_of(), _noop(), live_timeout_s)
        except TimeoutError:
            why = f"the event loop did not answer within {live_timeout_s:g} s"
            return web.json_response({"live": False, "why": why}, status=503)
        return web.json_response({"live": True})

    async def readyz(_request: web.Request) -> web.Response:
        try:
            answer = await _on(loop_of(), run_checks(checks), ready_timeout_s)
        except TimeoutError:
            why = f"the event loop did not answer within {ready_timeout_s:g} s"
            answer = report({"event-loop": why})
        return web.Response(
            text=answer.body(), status=answer.status, content_type="application/json"
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    return app


class HealthServer:
    """The server's thread; :meth:`stop` ends it."""

    def __init__(self, thread: ServerThread, host: str, port: int) -> None:
        self.thread = thread
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self in _SERVERS:
            _SERVERS.remove(self)
        self.thread.stop()


def serve(
    host: str,
    port: int,
    loop_of: LoopOf,
    checks: Checks,
    *,
    what: str,
) -> HealthServer | None:
    """Start the server on ``host:port`` (``port`` 0: none). A port that cannot be bound is
    reported (ERROR) and the process goes on without metrics or health: it still decides.
    """
    if port == 0:
        return None
    thread = ServerThread(lambda: make_app(loop_of, checks), host, port, None)
    try:
        thread.start()
    except OSError as exc:
        log.error(
            "%s: cannot serve metrics and health on %s:%d (%s); going on without them",
            what,
            host,
            port,
            exc.strerror or exc,
        )
        return None
    log.info("%s: metrics and health on http://%s:%d/metrics, /livez, /readyz", what, host, port)
    server = HealthServer(thread, host, port)
    _SERVERS.append(server)
    return server


def attach(app: web.Application, host: str, port: int, checks: Checks, *, what: str) -> None:
    """Serve metrics and health beside the aiohttp application ``app`` (an HTTPS server: the
    API, the ingress) while it runs: started at its startup, on ``host:port`` (0: none)."""
    running: list[HealthServer] = []

    async def start(_app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        server = serve(host, port, lambda: loop, checks, what=what)
        running.extend([server] if server is not None else [])

    async def stop(_app: web.Application) -> None:
        for server in running:
            server.stop()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)
