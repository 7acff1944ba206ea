"""A reference partner registry: HTTPS with client certificates, RFC 9421 signatures.

The simulator is what a partner registry that does not speak Kafka would run: an aiohttp
server that requires a client certificate from the configured CA (the certificate's common
name is the caller), checks the gateway's request signature with
:func:`connectors.httpsig.verify_request`, and applies each ``Idempotency-Key`` at most once.

``POST /v1/messages``   a signed a6gw envelope; a transfer proposal (``data.acquiring``) is
                        accepted when the acquiring account is known here, else rejected
                        (DES 5902); anything else is recorded. A repeated key answers the
                        stored answer with ``"applied": false``.
``GET /v1/holdings``    the paged holdings snapshot (``?after=<cursor>&limit=<n>``)
``GET /admin/stats``    the counters below (client certificate needed, no signature)

Counters (also through :meth:`PartnerSim.stats`): attempts and applications per
idempotency key, and the order in which keys were applied per message key (the envelope's
``data.transaction_id``, else its ``source``). Fault switches, settable at run time from
any thread with :meth:`PartnerSim.set_faults`, are described on :class:`Faults`.

Signatures are checked against the URL the simulator serves (``base_url``), never against
the caller's ``Host`` header, so a request signed for another server does not verify here.

Run it alone: ``python -m connectors.partner_sim --pki DIR --port 8443 --registry IDN01
--gateway-key-file gateway.pub`` (a base64 raw Ed25519 public key).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import ssl
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from connectors.client import Delivered, PartnerClient
from connectors.httpsig import DEFAULT_COMPONENTS, GET_COMPONENTS, verify_request
from connectors.policy import Backoff, RetryBudget
from gateway.errors import RegistryError
from gateway.http.pki import init_pki
from gateway.http.tls import ServerThread, client_tls

__all__ = ["Faults", "PartnerSim", "main"]

HOLDING_FIELDS = (
    "account_id",
    "ca_id",
    "origin",
    "serial_start",
    "serial_end",
    "unit_type",
    "vintage",
)


@dataclass(frozen=True)
class Faults:
    """Fault switches. Counts apply to the next N ``POST /v1/messages`` requests.

    ``reset`` drops the connection without an answer; with ``reset_after_apply`` the
    message is applied first (the answer is lost: the worst case for at-most-once).
    ``bad_signature`` and ``wrong_certificate`` concern the simulator's own outgoing posts
    (:meth:`PartnerSim.post_event`): signed by a fresh key under the simulator's own key id
    (the key id is known, the signature does not verify: REG-SIG-INVALID at the receiver),
    and a client certificate with the same name from a throwaway CA the receiver does not
    trust.
    """

    delay_s: float = 0.0
    fail_5xx: int = 0
    fail_5xx_rate: float = 0.0
    reset: int = 0
    reset_rate: float = 0.0
    reset_after_apply: bool = True
    bad_signature: bool = False
    wrong_certificate: bool = False


def _problem(status: int, code: str, detail: str) -> web.Response:
    body = {"title": "Error", "status": status, "code": code, "detail": detail}
    return web.json_response(body, status=status, content_type="application/problem+json")


def _common_name(request: web.Request) -> str | None:
    cert = request.transport.get_extra_info("peercert") if request.transport else None
    for rdn in (cert or {}).get("subject", ()):
        for attr, value in rdn:
            if attr == "commonName":
                return str(value)
    return None


def _message_key(doc: Mapping[str, Any]) -> str:
    data = doc.get("data")
    if isinstance(data, dict) and isinstance(data.get("transaction_id"), str):
        return str(data["transaction_id"])
    return str(doc.get("source", ""))


class PartnerSim:
    """One simulated registry. Thread-safe: the server runs in its own thread."""

    def __init__(
        self,
        registry_id: str,
        pki: Path,
        *,
        gateway_keys: Mapping[str, Ed25519PublicKey],
        clients: Iterable[str] = ("a6gw-gateway",),
        accounts: Iterable[str] = (),
        holdings: Sequence[Mapping[str, Any]] = (),
        key: Ed25519PrivateKey | None = None,
        key_id: str | None = None,
        max_age_s: int = 300,
        seed: int = 0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.registry_id, self.pki = registry_id, pki
        self.gateway_keys = dict(gateway_keys)
        self.clients = frozenset(clients)
        self.holdings = sorted(
            ({f: row.get(f) for f in HOLDING_FIELDS} for row in holdings),
            key=lambda r: (str(r["account_id"]), str(r["ca_id"]), int(r["serial_start"] or 0)),
        )
        self.accounts = set(accounts) | {str(r["account_id"]) for r in self.holdings}
        self.key = key or Ed25519PrivateKey.generate()
        self.key_id = key_id or f"{registry_id}-http"
        self.max_age_s, self._now = max_age_s, now
        self.base_url: str | None = None
        self._lock = threading.Lock()
        self._rnd = random.Random(seed)
        self._faults = Faults()
        self._attempts: dict[str, int] = defaultdict(int)
        self._applied: dict[str, int] = defaultdict(int)
        self._order: dict[str, list[str]] = defaultdict(list)
        self._answers: dict[str, tuple[bytes, dict[str, Any]]] = {}
        self._nonces: dict[tuple[str, str], float] = {}
        self._requests = 0
        self._other_ca: tempfile.TemporaryDirectory[str] | None = None

    # -- faults and counters (any thread) -------------------------------------------------

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set_faults(self, **changes: Any) -> None:
        with self._lock:
            self._faults = replace(self._faults, **changes)

    def _draw_fault(self) -> str | None:  # under the lock
        f = self._faults
        if f.fail_5xx > 0 or (f.fail_5xx_rate and self._rnd.random() < f.fail_5xx_rate):
            self._faults = replace(f, fail_5xx=max(f.fail_5xx - 1, 0))
            return "5xx"
        if f.reset > 0 or (f.reset_rate and self._rnd.random() < f.reset_rate):
            self._faults = replace(f, reset=max(f.reset - 1, 0))
            return "reset"
        return None

    def attempts(self, key: str) -> int:
        with self._lock:
            return self._attempts.get(key, 0)

    def applications(self, key: str) -> int:
        with self._lock:
            return self._applied.get(key, 0)

    def order(self, message_key: str) -> list[str]:
        """Idempotency keys of ``message_key`` in the order they were applied."""
        with self._lock:
            return list(self._order.get(message_key, ()))

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "registry_id": self.registry_id,
                "requests": self._requests,
                "attempts": dict(self._attempts),
                "applications": dict(self._applied),
                "order": {k: list(v) for k, v in self._order.items()},
                "faults": asdict(self._faults),
            }

    def _seen_nonce(self, keyid: str, nonce: str) -> bool:
        now = self._now()
        with self._lock:
            if len(self._nonces) > 10_000:  # forget what is too old to be accepted anyway
                horizon = now - 2 * self.max_age_s
                self._nonces = {k: t for k, t in self._nonces.items() if t >= horizon}
            if (keyid, nonce) in self._nonces:
                return True
            self._nonces[(keyid, nonce)] = now
            return False

    # -- the server ---------------------------------------------------------------------

    def server_tls(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        # TLS 1.2 only: there the server checks the client certificate before the client's
        # handshake completes. With TLS 1.3 the client finishes first, and asyncio servers
        # drop a refused client without sending the alert (CPython sslproto does not flush
        # it), so the client would see a bare disconnect instead of a handshake failure.
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(str(self.pki / "server.pem"), str(self.pki / "server.key"))
        ctx.load_verify_locations(str(self.pki / "ca.pem"))
        ctx.verify_mode = ssl.CERT_REQUIRED  # no certificate from our CA, no handshake
        return ctx

    def serve(self, port: int, host: str = "127.0.0.1") -> ServerThread:
        """Start the simulator in a background thread (stop it with ``.stop()``)."""
        self.base_url = f"https://{host}:{port}"
        return ServerThread(self.app, host, port, self.server_tls()).start()

    def _verify(self, request: web.Request, body: bytes, required: Sequence[str]) -> None:
        url = f"{self.base_url}{request.rel_url}" if self.base_url else str(request.url)
        verify_request(
            request.method,
            url,
            request.headers,
            body,
            keys=self.gateway_keys.get,
            now=int(self._now()),
            max_age_s=self.max_age_s,
            seen_nonce=self._seen_nonce,
            required=required,
        )

    def _apply(self, key: str, doc: dict[str, Any], digest: bytes) -> dict[str, Any] | None:
        """The answer for ``key``, applying the message the first time (under the lock)."""
        done = self._answers.get(key)
        if done is not None:
            return {**done[1], "applied": False} if done[0] == digest else None
        data = doc.get("data")
        acquiring = data.get("acquiring") if isinstance(data, dict) else None
        answer: dict[str, Any] = {"idempotency_key": key, "applied": True}
        if isinstance(acquiring, dict) and "account_id" in acquiring:
            known = acquiring["account_id"] in self.accounts
            answer["answer"] = "accepted" if known else "rejected"
            if not known:
                answer["reason_code"] = 5902  # DES: acquiring account does not exist
        else:
            answer["answer"] = "recorded"
        self._answers[key] = (digest, answer)
        self._applied[key] += 1
        self._order[_message_key(doc)].append(key)
        return answer

    async def _messages(self, request: web.Request) -> web.Response:
        body = await request.read()
        key = request.headers.get("Idempotency-Key")
        with self._lock:
            self._requests += 1
            if key:
                self._attempts[key] += 1
            fault, faults = self._draw_fault(), self._faults
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        if fault == "5xx":
            return _problem(503, "REG-SIM-UNAVAILABLE", "fault injected: unavailable")
        if fault == "reset" and not faults.reset_after_apply:
            return self._drop(request)
        try:
            self._verify(request, body, DEFAULT_COMPONENTS)
        except RegistryError as exc:
            return _problem(401, exc.code, str(exc.args[0]))
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if not isinstance(doc, dict) or not str(doc.get("type", "")).startswith("a6gw."):
            return _problem(400, "REG-SIM-MESSAGE", "the body is not an a6gw envelope")
        assert key is not None  # covered by the signature, so present
        with self._lock:
            answer = self._apply(key, doc, hashlib.sha256(body).digest())
        if answer is None:
            return _problem(422, "REG-SIM-IDEMPOTENCY", "the key was used with another body")
        if fault == "reset":
            return self._drop(request)
        return web.json_response(answer)

    def _drop(self, request: web.Request) -> web.Response:
        if request.transport is not None:
            request.transport.close()  # the caller sees the connection end, no answer
        return web.Response(status=500)  # aiohttp cannot write it: the transport is closed

    async def _holdings(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            self._verify(request, body, GET_COMPONENTS)
        except RegistryError as exc:
            return _problem(401, exc.code, str(exc.args[0]))
        try:
            after = int(request.query.get("after", "0"))
            limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
        except ValueError:
            return _problem(400, "REG-SIM-QUERY", "after and limit must be integers")
        rows = self.holdings[after : after + limit]
        more = after + limit < len(self.holdings)
        return web.json_response({"rows": rows, "next": str(after + limit) if more else None})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    def app(self) -> web.Application:
        @web.middleware
        async def caller(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            if _common_name(request) not in self.clients:
                return _problem(403, "REG-SIM-CALLER", "this client certificate may not call")
            return await handler(request)

        app = web.Application(middlewares=[caller])
        app.router.add_post("/v1/messages", self._messages)
        app.router.add_get("/v1/holdings", self._holdings)
        app.router.add_get("/admin/stats", self._stats)
        return app

    # -- the simulator as a client of the gateway -----------------------------------------

    def _outgoing_tls(self, wrong: bool) -> ssl.SSLContext:
        name = self.registry_id
        if not wrong:
            pem, key = self.pki / f"{name}.pem", self.pki / f"{name}.key"
            return client_tls(str(self.pki / "ca.pem"), str(pem), str(key))
        with self._lock:
            if self._other_ca is None:  # same name, another CA: the gateway must refuse it
                self._other_ca = tempfile.TemporaryDirectory(prefix="a6gw-other-ca-")
                init_pki(Path(self._other_ca.name), (name,))
            other = Path(self._other_ca.name)
        return client_tls(
            str(self.pki / "ca.pem"), str(other / f"{name}.pem"), str(other / f"{name}.key")
        )

    async def post_event(self, url: str, envelope_bytes: bytes, event_id: str) -> Delivered:
        """POST a signed event to the gateway's ingress ``url`` (``Idempotency-Key`` = id).

        :raises RegistryError: as :meth:`connectors.client.PartnerClient.deliver`.
        """
        faults = self.faults
        target = httpx.URL(url)
        key = Ed25519PrivateKey.generate() if faults.bad_signature else self.key
        client = PartnerClient(
            "gateway",
            str(target.copy_with(path="/", query=None)),
            self._outgoing_tls(faults.wrong_certificate),
            key_id=self.key_id,
            private_key=key,
            backoff=Backoff(base_s=0.05, cap_s=1.0),
            budget=RetryBudget(max_attempts=3, max_elapsed_s=10.0),
        )
        async with client:
            return await client.deliver(target.raw_path.decode("ascii"), envelope_bytes, event_id)

    def close(self) -> None:
        if self._other_ca is not None:
            self._other_ca.cleanup()
            self._other_ca = None


def main(argv: Sequence[str] | None = None) -> int:
    from gateway.core.signing import load_public_key_b64

    ap = argparse.ArgumentParser(prog="python -m connectors.partner_sim", description=__doc__)
    ap.add_argument("--pki", type=Path, required=True, help="a6gw pki init DIR")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--registry", default="IDN01")
    ap.add_argument("--gateway-key-file", type=Path, required=True)
    ap.add_argument("--gateway-key-id", default="a6gw-gateway")
    ap.add_argument("--client", action="append", default=None, help="allowed caller CN")
    ap.add_argument("--account", action="append", default=[], help="a known account id")
    args = ap.parse_args(argv)
    public = load_public_key_b64(args.gateway_key_file.read_text(encoding="ascii").strip())
    sim = PartnerSim(
        args.registry,
        args.pki,
        gateway_keys={args.gateway_key_id: public},
        clients=args.client or ("a6gw-gateway",),
        accounts=args.account,
    )
    sim.base_url = f"https://{args.host}:{args.port}"
    web.run_app(sim.app(), host=args.host, port=args.port, ssl_context=sim.server_tls())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
