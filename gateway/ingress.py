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

A refused request (signature, digest, replay, malformed or too deeply nested JSON, a body
over ``limits.max_message_bytes``) gets a coded problem answer (401, 400, 413 MSG-008) and,
when its client certificate is a registry's, an ``http-refusal`` entry on ``a6.audit.log``
with the body's SHA-256, size and first 1 KiB (never the body): it never becomes an input,
but the refusal is on record. A certificate of the CA that maps to no registry gets 403
REG-IDENTITY and a warning in the log, no entry. A registry leaves at most
``connectors.max_refusals_per_minute`` entries a minute; beyond that its refusals are
answered 429 REG-RATE, with one summary entry for the window and alert A6-ALERT-004.

Nonces live in a durable store that every replica shares (:mod:`gateway.http.nonces`): a SQLite
file in the data folder, or the audit store's PostgreSQL database (``connectors.nonce_store``
overrides both).
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from connectors.httpsig import verify_request
from gateway.alerts import alert
from gateway.config import LoadedConfig
from gateway.core import binding, mac, topics
from gateway.core.canonical import canonical_bytes
from gateway.core.decision_time import iso_ms
from gateway.core.refusals import RATE_CODE, RefusalBudget, rate_entry, refusal_entry
from gateway.core.signing import load_public_key_b64
from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import GatewayError, RegistryError
from gateway.files import is_postgres_url
from gateway.http.access_log import access_log
from gateway.http.nonces import NonceStore, open_nonces
from gateway.http.problems import problem
from gateway.http.tls import server_tls
from gateway.observe import http as observe_http
from gateway.observe.health import Checks, producer_connected
from gateway.transport.clients import KafkaClients

log = logging.getLogger("a6gw.ingress")

PATH = "/v1/events"
#: where a request's registry is kept, for the access log
REGISTRY = web.RequestKey("a6gw.registry", str)


@dataclass
class Ingress:
    """What the endpoint needs: who may post, with which keys, and where records go."""

    base_url: str  # the ingress's public https://host:port: what partners sign against
    registry_of_cn: dict[str, str]  # client certificate CN -> registry id
    keys: dict[str, tuple[str, Ed25519PublicKey]]  # key id -> (principal, public key)
    send: Callable[[str, bytes | None, bytes], Any]  # async (topic, key, value)
    nonces: NonceStore
    max_bytes: int = 256 * 1024
    max_age_s: int = 300
    max_refusals_per_minute: int = 30
    clock: Callable[[], float] = time.time
    budget: RefusalBudget = field(init=False)

    def __post_init__(self) -> None:
        self.budget = RefusalBudget(self.max_refusals_per_minute, 60)

    async def _record(self, entry: dict[str, Any]) -> web.Response | None:
        try:
            await self.send(AUDIT_TOPIC, entry["entry_id"].encode(), canonical_bytes(entry))
        except KafkaError:
            log.exception("could not record the refusal %s", entry["entry_id"])
            return problem(503, "INGRESS-BROKER", "the gateway cannot record requests now")
        return None

    async def refuse(
        self,
        status: int,
        code: str,
        message: str,
        registry: str,
        body: bytes | None,
        sig: str,
        size: int | None = None,
    ) -> web.Response:
        """Answer a registry's refused request, on record within its budget."""
        now = self.clock()
        verdict, start = self.budget.take(registry, now)
        at = iso_ms(int(now * 1000))
        if verdict == "record":
            entry = refusal_entry(
                registry=registry, path=PATH, body=body, size=size,
                signature=sig, code=code, message=message, at=at,
            )  # fmt: skip
            return await self._record(entry) or problem(status, code, message)
        if verdict == "summarise":
            limit = self.budget.limit
            alert(
                "A6-ALERT-004",
                "a client exceeded its refusal budget at the ingress",
                registry=registry,
                limit=limit,
            )
            summary = rate_entry(
                registry=registry, path=PATH, window_start=iso_ms(int(start * 1000)),
                limit=limit, window_s=self.budget.window_s, at=at,
            )  # fmt: skip
            failed = await self._record(summary)
            if failed is not None:
                return failed
        answer = problem(
            429, RATE_CODE, f"too many refused requests from {registry}; last: {code} {message}"
        )
        answer.headers["Retry-After"] = str(self.budget.retry_after(registry, now))
        return answer

    async def post_event(self, request: web.Request) -> web.Response:
        sig = request.headers.get("Signature", "")
        cert = request.transport.get_extra_info("peercert") if request.transport else None
        cn = _common_name(cert)
        registry = self.registry_of_cn.get(cn or "")
        if registry is None:  # a certificate of the CA, but no registry's: no entry
            log.warning("refused a request from certificate %r: no HTTPS registry", cn)
            return problem(403, "REG-IDENTITY", f"client certificate {cn!r} is no HTTPS registry")
        request[REGISTRY] = registry
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            size = request.content_length
            shown = "more than" if size is None else str(size)
            message = f"body of {shown} bytes > {self.max_bytes}"
            return await self.refuse(413, "MSG-008", message, registry, None, sig, size)
        if len(body) > self.max_bytes:
            message = f"body of {len(body)} bytes > {self.max_bytes}"
            return await self.refuse(413, "MSG-008", message, registry, body, sig)

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
                now=int(self.clock()),
                max_age_s=self.max_age_s,
                seen_nonce=self.nonces.seen,
            )
        except RegistryError as exc:
            return await self.refuse(401, exc.code, str(exc.args[0]), registry, body, sig)
        try:
            event_id = json.loads(body)["id"]
            if not isinstance(event_id, str) or not event_id:
                raise ValueError("id is not a non-empty string")
        except RecursionError:
            message = "not an event envelope: JSON nested too deep"
            return await self.refuse(400, "MSG-001", message, registry, body, sig)
        except (ValueError, KeyError, TypeError) as exc:
            return await self.refuse(
                400, "MSG-001", f"not an event envelope: {exc}", registry, body, sig
            )
        try:
            await self.send(topics.input_topic(registry), event_id.encode(), body)
        except KafkaError as exc:
            return problem(503, "INGRESS-BROKER", f"the event could not be stored: {exc}")
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

    def who(request: web.Request) -> dict[str, Any]:
        return {"registry": request.get(REGISTRY)}

    app = web.Application(
        middlewares=[access_log("a6gw.ingress.access", who), observe_http.middleware("ingress")],
        client_max_size=ingress.max_bytes + 1024,
    )
    if close is not None:

        async def cleanup(_app: web.Application) -> None:
            await close()

        app.on_cleanup.append(cleanup)

    async def post(request: web.Request) -> web.Response:
        try:
            return await ingress.post_event(request)
        except GatewayError as exc:  # the nonce store failed: try again later
            log.error("ingress: %s", exc)
            return problem(503, exc.code, str(exc.args[0]))

    async def close_nonces(_app: web.Application) -> None:
        ingress.nonces.close()

    app.on_cleanup.append(close_nonces)

    app.router.add_post(PATH, post)
    return app


def ingress_tls(cert: str, key: str, client_ca: str) -> ssl.SSLContext:
    """Mutual TLS: a client certificate from ``client_ca`` is required (see ``server_tls``).

    :raises ConfigError: (A6-CFG-TLS) when a file cannot be loaded.
    """
    return server_tls(cert, key, client_ca, require_client=True, what="ingress")


class KafkaSend:
    """``send`` for the ingress: acks=all, idempotent, one producer for the process; every
    record carries its MAC header (:mod:`gateway.core.mac`), keyed by ``mac_key``."""

    def __init__(self, clients: KafkaClients, mac_key: bytes) -> None:
        self.clients = clients
        self.mac_key = mac_key
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> AIOKafkaProducer:
        """The producer, started on first use."""
        if self._producer is None:
            producer = self.clients.producer(acks="all", enable_idempotence=True)
            await producer.start()
            self._producer = producer
        return self._producer

    async def __call__(self, topic: str, key: bytes | None, value: bytes) -> None:
        await self.start()
        assert self._producer is not None
        headers = mac.headers(self.mac_key, topic, key, value)
        headers.extend(binding.headers_for(topic))  # the envelope, in structured mode
        await self._producer.send_and_wait(topic, value, key=key, headers=headers)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


def nonce_store_at(lc: LoadedConfig) -> str:
    """Where the ingress keeps nonces: ``connectors.nonce_store`` (a postgresql:// URL or a
    path relative to the config), else the audit store's PostgreSQL database, else
    ``<data_dir>/ingress-nonces.sqlite``."""
    configured = lc.config.connectors.nonce_store
    if configured:
        return configured if is_postgres_url(configured) else str(lc.path(Path(configured)))
    audit = lc.audit_store()
    return audit if is_postgres_url(audit) else str(lc.data_dir / "ingress-nonces.sqlite")


def ingress_from_config(
    lc: LoadedConfig, send: Callable[[str, bytes | None, bytes], Any]
) -> Ingress:
    """The ingress for the registries configured as HTTPS, with their keys from the trust file.

    Opens the nonce store: call it where the ingress will run (its thread).

    :raises GatewayError: (INGRESS-STORE) when the nonce store cannot be opened.
    """
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
        nonces=open_nonces(nonce_store_at(lc), age),
        max_bytes=cfg.limits.max_message_bytes,
        max_age_s=age,
        max_refusals_per_minute=conn.max_refusals_per_minute,
    )


def readiness(ingress: Ingress, send: KafkaSend) -> Checks:
    """``/readyz`` of the ingress (``gateway.observe``): its producer is connected (it
    connects at the first check, not at the first event), and its nonce store answers."""

    async def producer() -> str | None:
        try:
            return producer_connected(await send.start())
        except KafkaError as exc:
            return f"cannot reach the broker: {exc}"

    async def nonces() -> str | None:
        ingress.nonces.seen("a6gw-readiness", "-")  # raises when the store cannot be used
        return None

    return {"producer": producer, "nonces": nonces}
