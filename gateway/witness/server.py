"""The witness's HTTPS server (c2sp.org/tlog-witness).

- ``POST <prefix>/add-checkpoint``: the body of :func:`gateway.witness.protocol.parse_request`;
  200 with the cosignature line, or the spec's refusal: 400, 403, 404, 409 (body: the
  latest cosigned size and a newline, ``Content-Type: text/x.tlog.size``), 422. Every
  refusal carries our code in the ``A6GW-Code`` header; bodies other than the 409's are
  one line of plain text saying why.
- ``GET <prefix>/<hex SHA-256 of the origin>/checkpoint``: the latest checkpoint cosigned
  for that log, with the log's signature and the cosignature (§Monitor Retrieval
  Mechanism); 404 before the first.

Requests are authenticated by the checkpoint's signature, as the protocol intends; mutual
TLS is optional (``tls.require_client``). The state lives in one worker thread that owns
the SQLite connection, so the check-and-update of :class:`WitnessState` never blocks the
event loop and runs one at a time.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from gateway.audit.cosignature import WitnessKey, add_cosignatures
from gateway.audit.note import Verifier
from gateway.audit.tlog_witness import SIZE_TYPE
from gateway.errors import ConfigError, GatewayError
from gateway.http.access_log import access_log
from gateway.http.tls import server_tls
from gateway.witness.protocol import Refusal, check_signed, judge, parse_request
from gateway.witness.state import WitnessState

__all__ = ["CODE_HEADER", "SIZE_TYPE", "Witness", "make_app", "witness_tls"]

T = TypeVar("T")
log = logging.getLogger("a6gw.witness")
#: The header of a refusal's project code (never in a 409 body: its content is the spec's).
CODE_HEADER = "A6GW-Code"
MAX_BODY = 64 * 1024  # a checkpoint, its signatures and 63 proof lines fit many times over


class Witness:
    """One witness: its key, the logs it trusts, its state file and its clock."""

    def __init__(
        self,
        key: WitnessKey,
        logs: Mapping[str, Sequence[Verifier]],
        state_file: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key, self.logs, self.state_file, self.clock = key, dict(logs), state_file, clock
        self._by_hash = {hashlib.sha256(o.encode("utf-8")).hexdigest(): o for o in self.logs}
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="a6gw-witness")
        self._state: WitnessState | None = None

    def open(self) -> None:
        """Open the state (call in the state thread: see :meth:`run`)."""
        self._state = WitnessState(self.state_file)

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in the state thread."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, fn)

    def shutdown(self) -> None:
        self._thread.submit(self.close).result()
        self._thread.shutdown()

    def add_checkpoint(self, body: bytes) -> str:
        """The cosignature line for an add-checkpoint body, the new checkpoint recorded.

        Runs in the state thread. :raises Refusal: when the witness must not cosign.
        """
        assert self._state is not None, "Witness.open() first"
        request = parse_request(body)
        checkpoint = check_signed(request, self.logs)
        line = ""

        def cosign() -> str:
            nonlocal line
            line = self.key.cosign(checkpoint, max(1, int(self.clock())))
            return add_cosignatures(request.note, [line])

        self._state.advance(checkpoint, lambda latest: judge(request, checkpoint, latest), cosign)
        log.info(
            "cosigned %s at size %d",
            checkpoint.origin,
            checkpoint.size,
            extra={"origin": checkpoint.origin, "size": checkpoint.size, "old": request.old_size},
        )
        return line

    def latest_note(self, origin_hash: str) -> str | None:
        """The stored cosigned note of the log whose origin hashes to ``origin_hash``."""
        assert self._state is not None, "Witness.open() first"
        origin = self._by_hash.get(origin_hash)
        stored = None if origin is None else self._state.get(origin)
        return None if stored is None else stored.note


def _refused(exc: Refusal) -> web.Response:
    if exc.status == 409:  # the body is the spec's: the latest size and a newline
        response = web.Response(status=409, body=f"{exc.latest_size}\n".encode("ascii"))
        response.headers["Content-Type"] = SIZE_TYPE  # exactly, without a charset
    else:
        response = web.Response(status=exc.status, text=f"{exc.args[0]}\n")
    response.headers[CODE_HEADER] = exc.code
    return response


def make_app(witness: Witness, prefix: str = "") -> web.Application:
    """The aiohttp application of ``witness`` under the submission ``prefix``."""

    async def add_checkpoint(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            line = await witness.run(lambda: witness.add_checkpoint(body))
        except Refusal as exc:
            level = logging.WARNING if exc.status in (403, 422) else logging.INFO
            log.log(level, "refused: %s", exc, extra={"status": exc.status, "code": exc.code})
            return _refused(exc)
        except GatewayError as exc:  # the state failed: nothing was cosigned
            log.error("cannot cosign: %s", exc, extra={"code": exc.code})
            response = web.Response(status=500, text="the witness cannot record checkpoints\n")
            response.headers[CODE_HEADER] = exc.code
            return response
        return web.Response(text=line, content_type="text/plain")

    async def checkpoint(request: web.Request) -> web.Response:
        origin_hash = request.match_info["origin_hash"]
        note = await witness.run(lambda: witness.latest_note(origin_hash))
        if note is None:
            return web.Response(status=404, text="no checkpoint cosigned for that log\n")
        return web.Response(text=note, content_type="text/plain")

    async def on_startup(_app: web.Application) -> None:
        await witness.run(witness.open)

    async def on_cleanup(_app: web.Application) -> None:
        await asyncio.get_running_loop().run_in_executor(None, witness.shutdown)

    app = web.Application(middlewares=[access_log("a6gw.witness.access")], client_max_size=MAX_BODY)
    app.router.add_post(f"{prefix}/add-checkpoint", add_checkpoint)
    app.router.add_get(f"{prefix}/{{origin_hash:[0-9a-f]{{64}}}}/checkpoint", checkpoint)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return app


def witness_tls(cert: str, key: str, client_ca: str | None, require_client: bool) -> ssl.SSLContext:
    """The server's TLS: client certificates checked against ``client_ca`` when given
    (required with ``require_client``); none asked for without a CA.

    :raises ConfigError: (A6-CFG-TLS) when a file cannot be loaded.
    """
    if client_ca is not None:
        return server_tls(cert, key, client_ca, require_client=require_client, what="witness")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the witness's TLS files: {exc}", code="A6-CFG-TLS") from exc
    return ctx
