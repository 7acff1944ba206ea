"""``a6gw config check --online``: what only the network can tell, read-only. Each role
whose credentials were found signs in to the broker and reads its metadata; the gateway's
topics (its plan, :func:`gateway.transport.topic_plan.topic_plan`) must exist; a PostgreSQL
audit or nonce store must answer a read-only session. Nothing is created or written."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka.errors import KafkaError

from gateway.config import LoadedConfig
from gateway.errors import GatewayError
from gateway.files import is_postgres_url
from gateway.services.configcheck.report import Report
from gateway.services.configcheck.stores import nonce_store_of
from gateway.transport.admin import wait_for_topics
from gateway.transport.clients import ADMIN, GATEWAY_ROLES, KafkaClients, clients_for
from gateway.transport.topic_plan import topic_plan

TIMEOUT_S = 10.0


def online(r: Report, lc: LoadedConfig) -> None:
    """Add what the broker and PostgreSQL say to ``r``."""
    asyncio.run(_kafka(r, lc))
    for what, url in (("audit store", lc.audit_store()), ("nonce store", nonce_store_of(lc))):
        if is_postgres_url(url):
            _postgres(r, url, what, table="entries" if what == "audit store" else "ingress_nonces")


def _usable(lc: LoadedConfig) -> dict[str, KafkaClients]:
    """The clients of every role whose credentials can be loaded (offline findings cover
    the others)."""
    out: dict[str, KafkaClients] = {}
    for role in (*GATEWAY_ROLES, ADMIN):
        try:
            out[role] = clients_for(lc, role)
        except GatewayError:
            continue
        if lc.config.kafka.security_protocol == "PLAINTEXT":
            return {"worker": out[role]}  # one anonymous client is all there is
    return out


async def _signs_in(clients: KafkaClients) -> Any:
    admin = clients.admin(request_timeout_ms=int(TIMEOUT_S * 1000))
    try:
        await asyncio.wait_for(admin.start(), TIMEOUT_S)
        return await asyncio.wait_for(admin.describe_cluster(), TIMEOUT_S)
    finally:
        await admin.close()


async def _kafka(r: Report, lc: LoadedConfig) -> None:
    bootstrap = lc.config.kafka.bootstrap
    usable = _usable(lc)
    signed_in: list[str] = []
    for role, clients in usable.items():
        who = clients.credentials.username if clients.credentials else "anonymous"
        try:
            await _signs_in(clients)
        except (KafkaError, OSError, TimeoutError) as exc:
            r.error(
                "A6-CFG-ONLINE",
                bootstrap,
                f"the {role} role ({who}) cannot sign in or read metadata: "
                f"{type(exc).__name__}: {exc}",
                "is kafka.bootstrap right, the broker up, and the user provisioned "
                "(`a6gw kafka provision`)?",
            )
            continue
        signed_in.append(role)
        r.ok(f"Kafka {bootstrap}: the {role} role signs in as {who}")
    observer = next((role for role in (ADMIN, "worker") if role in signed_in), None)
    if observer is None:
        return
    topics, _configs = topic_plan(lc.config)
    try:
        await wait_for_topics(usable[observer], topics, timeout=2.0)
    except GatewayError as exc:
        r.error(
            "A6-CFG-ONLINE",
            bootstrap,
            f"gateway topics missing or not visible to the {observer} role: {exc.args[0]}",
            "create them with `a6gw topics --config FILE`",
        )
    else:
        r.ok(f"Kafka {bootstrap}: the gateway's {len(topics)} topics exist")


def _postgres(r: Report, url: str, what: str, *, table: str) -> None:
    import psycopg

    from gateway.audit.pgstore import safe_dsn  # psycopg only when a store is PostgreSQL

    safe = safe_dsn(url)
    try:
        with psycopg.connect(url, connect_timeout=int(TIMEOUT_S), autocommit=True) as db:
            db.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            found = db.execute("SELECT to_regclass(%s)", (table,)).fetchone()
    except psycopg.Error as exc:
        r.error(
            "A6-CFG-ONLINE",
            safe,
            f"the {what} cannot be reached: {exc}".strip(),
            "is the URL right and the server up?",
        )
        return
    if found is None or found[0] is None:
        r.warn("A6-CFG-ONLINE", safe, f"the {what} has no {table} table yet (created at start)")
    else:
        r.ok(f"{what} {safe} answers")
