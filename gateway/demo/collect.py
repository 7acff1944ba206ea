"""Read what the gateway sends back (decisions, notices, dead letters), as a registry would."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.config import LoadedConfig
from gateway.core import topics as tn
from gateway.core.signing import verify_envelope
from gateway.errors import GatewayError
from gateway.transport.acls import inventory_principal, registry_principal
from gateway.transport.clients import KafkaClients, partner_clients


class OutputCollector:
    """Consumes the output and dead-letter topics from the beginning, in the background.

    With ``gateway_key`` every gateway message's signature is checked; one that fails
    raises when the results are read.
    """

    def __init__(
        self, clients: KafkaClients, topics: list[str], gateway_key: Ed25519PublicKey | None = None
    ) -> None:
        self.topics = [t for t in topics if (tn.is_output(t) or t == tn.DLQ_TOPIC)]
        self.gateway_key = gateway_key
        self.consumer = clients.consumer(
            *self.topics,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.copies: Counter[str] = Counter()
        self.bad_signatures: list[str] = []
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for msg in self.consumer:
            body = json.loads(msg.value)
            if tn.is_output(msg.topic) and self.gateway_key is not None:
                try:
                    verify_envelope(body, self.gateway_key)
                except GatewayError:
                    self.bad_signatures.append(body.get("id", "?"))
            self.messages.append((msg.topic, body))
            self.copies[body.get("id", body.get("audit_entry_id", ""))] += 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.consumer.stop()

    async def wait_for_copies(self, msg_id: str, n: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.copies[msg_id] < n:
            if time.monotonic() > deadline:
                raise GatewayError(
                    f"{msg_id}: saw {self.copies[msg_id]} copies, want {n}", code="DEMO-TIMEOUT"
                )
            await asyncio.sleep(0.05)

    def decisions(self) -> dict[str, dict[str, Any]]:
        """Signed decisions by audit entry id."""
        if self.bad_signatures:
            raise GatewayError(
                f"gateway messages with bad signatures: {self.bad_signatures}",
                code="DEMO-SIGNATURE",
            )
        return {
            body["data"]["audit_entry_id"]: body["data"]
            for topic, body in self.messages
            if tn.is_output(topic) and body.get("type") == "a6gw.decision.v2"
        }

    def notices(self) -> list[tuple[str, dict[str, Any]]]:
        return [(t, b["data"]) for t, b in self.messages if b.get("type") == "a6gw.notice.v1"]

    def dead_letters(self) -> list[dict[str, Any]]:
        return [b for t, b in self.messages if t == tn.DLQ_TOPIC]


class Publishers:
    """Puts each input on its topic as the topic's owner (a registry or an inventory agency),
    with that principal's credentials: one producer per principal."""

    def __init__(self, lc: LoadedConfig) -> None:
        self.lc = lc
        self.owners = lc.config.input_topics()
        self._producers: dict[str, AIOKafkaProducer] = {}

    async def send_and_wait(self, topic: str, value: bytes, key: bytes) -> RecordMetadata:
        owner = self.owners[topic]
        who = registry_principal(owner.registry) if owner.registry else None
        who = who or inventory_principal(owner.party)
        if who not in self._producers:
            producer = partner_clients(self.lc, who).producer(enable_idempotence=True)
            await producer.start()
            self._producers[who] = producer
        return await self._producers[who].send_and_wait(topic, value, key=key)

    async def stop(self) -> None:
        for producer in self._producers.values():
            await producer.stop()
        self._producers.clear()
