"""TLS contexts of the HTTPS servers and clients, and the thread that runs an aiohttp app
(tests, demo)."""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable

from aiohttp import web

__all__ = ["ServerThread", "client_tls", "server_tls"]


def server_tls(
    cert: str, key: str, client_ca: str, *, require_client: bool = False, what: str = "API"
) -> ssl.SSLContext:
    """TLS 1.2+ with the server certificate; client certificates checked against the CA.

    Optional for the API (a token may stand in); with ``require_client`` (the ingress) they
    are required, and TLS stays at 1.2: there the server checks the client certificate
    inside the handshake, so a refused one fails the client's handshake. Under TLS 1.3 the
    client's handshake is done first and asyncio servers drop the connection without the
    alert, so the client would see a reset rather than a refusal.

    :raises ConfigError: (A6-CFG-TLS) when a file cannot be loaded.
    """
    from gateway.errors import ConfigError

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if require_client:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
        ctx.load_verify_locations(client_ca)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the {what}'s TLS files: {exc}", code="A6-CFG-TLS") from exc
    ctx.verify_mode = ssl.CERT_REQUIRED if require_client else ssl.CERT_OPTIONAL
    return ctx


def client_tls(ca: str, cert: str | None = None, key: str | None = None) -> ssl.SSLContext:
    """Trust ``ca`` for the server; present ``cert``/``key`` when given (mutual TLS).

    :raises ConfigError: (A6-CFG-TLS) when a file cannot be loaded.
    """
    from gateway.errors import ConfigError

    try:
        ctx = ssl.create_default_context(cafile=ca)
        if cert:
            ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load TLS files: {exc}", code="A6-CFG-TLS") from exc
    return ctx


class ServerThread:
    """An aiohttp application in a background thread with its own event loop (the API in
    tests and the demo, the metrics and health server); ``tls`` None: plain HTTP.

    ``build`` runs in that thread, so a store opened there belongs to it (SQLite
    connections stay in the thread that made them).
    """

    def __init__(
        self,
        build: Callable[[], web.Application],
        host: str,
        port: int,
        tls: ssl.SSLContext | None,
    ) -> None:
        self.build, self.host, self.port, self.tls = build, host, port, tls
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="a6gw-api", daemon=True)

    def _run(self) -> None:
        loop = self._loop = asyncio.new_event_loop()
        runner: web.AppRunner | None = None
        try:
            runner = web.AppRunner(self.build(), access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, self.host, self.port, ssl_context=self.tls)
            loop.run_until_complete(site.start())
        except BaseException as exc:  # reported to start()
            self._error = exc
            if runner is not None:  # e.g. the port is taken: nothing is left open
                loop.run_until_complete(runner.cleanup())
            loop.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def start(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
