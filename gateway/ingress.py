"""The HTTPS ingress: partner registries post signed events; they land on their input topic.

A partner registry that does not run a Kafka client posts the same envelope it would put on
``a6.in.<registry-id>`` to ``POST /v1/events``:

- TLS requires a client certificate from the configured CA; its common name must be a
  registry configured for HTTPS (``registries[].client_cn``, default the registry id);
- the request carries an RFC 9421 signature (Ed25519, with an RFC 9530 ``Content-Digest``)
  by one of that registry's active keys in the trust file, fresh and with a nonce not seen
  before;
- the answer is ``202 {"event_id": ...}`` only once the record is on the input topic
  (``acks=all``); a duplicate gets the same answer (the worker's ingest decides it once).

A refused request (identity, signature, digest, replay, malformed JSON) gets a coded
problem answer (401, 403, 400, 413) and an audit entry on ``a6.audit.log``: it never becomes
an input, but the refusal is on record.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from connectors.httpsig import verify_request
from gateway.api.server import problem, server_tls
from gateway.config import LoadedConfig
from gateway.core.canonical import canonical_bytes
from gateway.core.decision import http_refusal_entry
from gateway.core.decision_time import iso_ms
from gateway.core.signing import load_public_key_b64
from gateway.core.steps import AUDIT_TOPIC
from gateway.errors import GatewayError, RegistryError
from gateway.kafka.clients import KafkaClients

log = logging.getLogger("a6gw.ingress")

PATH = "/v1/events"


class NonceCache:
    """Nonces seen per key id within the freshness window (older ones cannot pass anyway)."""

    def __init__(self, window_s: int, clock: Callable[[], float] = time.time) -> None:
        self.window_s = window_s
        self.clock = clock
        self._seen: OrderedDict[tuple[str, str], float] = OrderedDict()

    def seen(self, keyid: str, nonce: str) -> bool:
        now = self.clock()
        while self._seen and next(iter(self._seen.values())) < now - 2 * self.window_s:
            self._seen.popitem(last=False)
        if (keyid, nonce) in self._seen:
            return True
        self._seen[(keyid, nonce)] = now
        return False


@dataclass
class Ingress:
    """What the endpoint needs: who may post, with which keys, and where records go."""

    base_url: str  # the ingress's public https://host:port: what partners sign against
    registry_of_cn: dict[str, str]  # client certificate CN -> registry id
    keys: dict[str, tuple[str, Ed25519PublicKey]]  # key id -> (principal, public key)
    send: Callable[[str, bytes | None, bytes], Any]  # async (topic, key, value)
    max_bytes: int = 256 * 1024
    max_age_s: int = 300
    nonces: NonceCache = field(default_factory=lambda: NonceCache(300))
    accepted: int = 0
    refused: int = 0

    async def refuse(
        self, status: int, code: str, message: str, registry: str | None, body: bytes, sig: str
    ) -> web.Response:
        self.refused += 1
        entry = http_refusal_entry(
            registry=registry,
            path=PATH,
            body=body,
            signature=sig,
            code=code,
            message=message,
            at=iso_ms(int(time.time() * 1000)),
        )
        try:
            await self.send(AUDIT_TOPIC, entry["entry_id"].encode(), canonical_bytes(entry))
        except KafkaError:
            log.exception("could not record the refusal %s", entry["entry_id"])
            return problem(503, "INGRESS-BROKER", "the gateway cannot record requests now")
        return problem(status, code, message)

    async def post_event(self, request: web.Request) -> web.Response:
        body = await request.read()
        sig = request.headers.get("Signature", "")
        cert = request.transport.get_extra_info("peercert") if request.transport else None
        cn = _common_name(cert)
        registry = self.registry_of_cn.get(cn or "")
        if registry is None:
            return await self.refuse(
                403,
                "REG-IDENTITY",
                f"client certificate {cn!r} is no HTTPS registry",
                cn,
                body,
                sig,
            )
        if len(body) > self.max_bytes:
            return await self.refuse(
                413, "MSG-006", f"body of {len(body)} bytes > {self.max_bytes}", registry, b"", sig
            )

        def key_of(keyid: str) -> Ed25519PublicKey | None:
            found = self.keys.get(keyid)
            return found[1] if found is not None and found[0] == registry else None

        try:
            # Against the configured URL, never the caller's Host header: a request signed
            # for another server must not verify here.
            verify_request(
                request.method,
                self.base_url.rstrip("/") + str(request.rel_url),
                request.headers,
                body,
                keys=key_of,
                now=int(time.time()),
                max_age_s=self.max_age_s,
                seen_nonce=self.nonces.seen,
            )
        except RegistryError as exc:
            return await self.refuse(401, exc.code, str(exc.args[0]), registry, body, sig)
        try:
            event_id = json.loads(body)["id"]
            if not isinstance(event_id, str) or not event_id:
                raise ValueError("id is not a non-empty string")
        except (ValueError, KeyError, TypeError) as exc:
            return await self.refuse(
                400, "MSG-001", f"not an event envelope: {exc}", registry, body, sig
            )
        try:
            await self.send(f"a6.in.{registry}", event_id.encode(), body)
        except KafkaError as exc:
            return problem(503, "INGRESS-BROKER", f"the event could not be stored: {exc}")
        self.accepted += 1
        return web.json_response({"event_id": event_id, "registry": registry}, status=202)


def _common_name(cert: dict[str, Any] | None) -> str | None:
    for rdn in (cert or {}).get("subject", ()):
        for attr, value in rdn:
            if attr == "commonName":
                return str(value)
    return None


def make_app(
    ingress: Ingress, close: Callable[[], Awaitable[None]] | None = None
) -> web.Application:
    """The aiohttp application; ``close`` (e.g. the producer's) runs when it shuts down."""
    app = web.Application(client_max_size=ingress.max_bytes + 1024)
    if close is not None:

        async def cleanup(_app: web.Application) -> None:
            await close()

        app.on_cleanup.append(cleanup)

    async def post(request: web.Request) -> web.Response:
        try:
            return await ingress.post_event(request)
        except GatewayError as exc:
            return problem(500, exc.code, str(exc.args[0]))

    app.router.add_post(PATH, post)
    return app


def ingress_tls(cert: str, key: str, client_ca: str) -> ssl.SSLContext:
    """Mutual TLS: a client certificate from ``client_ca`` is required (see ``server_tls``).

    :raises ConfigError: (A6-CFG-TLS) when a file cannot be loaded.
    """
    return server_tls(cert, key, client_ca, require_client=True, what="ingress")


class KafkaSend:
    """``send`` for the ingress: acks=all, idempotent, one producer for the process."""

    def __init__(self, clients: KafkaClients) -> None:
        self.clients = clients
        self._producer: AIOKafkaProducer | None = None

    async def __call__(self, topic: str, key: bytes | None, value: bytes) -> None:
        if self._producer is None:
            self._producer = self.clients.producer(acks="all", enable_idempotence=True)
            await self._producer.start()
        await self._producer.send_and_wait(topic, value, key=key)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


def ingress_from_config(
    lc: LoadedConfig, send: Callable[[str, bytes | None, bytes], Any]
) -> Ingress:
    """The ingress for the registries configured as HTTPS, with their keys from the trust file."""
    cfg = lc.config
    trust = lc.load_trust()
    https = {r.id for r in cfg.registries if r.transport == "https"}
    keys = {
        k.key_id: (k.principal, load_public_key_b64(k.public_key))
        for k in trust.keys
        if k.principal in https and k.status == "active"
    }
    age = cfg.connectors.max_request_age_s
    conn = cfg.connectors
    return Ingress(
        base_url=conn.ingress_url or f"https://{conn.ingress_host}:{conn.ingress_port}",
        registry_of_cn={(r.client_cn or r.id): r.id for r in cfg.registries if r.id in https},
        keys=keys,
        send=send,
        max_bytes=cfg.limits.max_message_bytes,
        max_age_s=age,
        nonces=NonceCache(age),
    )
