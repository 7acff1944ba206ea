"""Delivery to HTTPS partners: ``a6.out.<id>`` in order per key, at least once; parked keys.

For each registry configured with ``transport: https`` the worker runs two agents:

- ``deliver-<id>`` consumes ``a6.out.<id>``. A message whose key is not parked is delivered
  (signed, mutual TLS, retried with backoff on retryable failures within the retry budget).
  When the budget runs out, or the partner refuses for good, the message is *parked*: it is
  put on ``a6.retry.<id>`` (same key, so the same partition and order), the key is marked
  parked, and a coded audit entry and a discrepancy are written. Later messages of a parked
  key follow it onto ``a6.retry.<id>``, so they keep their order; other keys keep flowing.
- ``redeliver-<id>`` consumes ``a6.retry.<id>`` and delivers each message when the partner is
  back, retrying until it is; then the key's parked count goes down, and at zero the key
  flows through ``a6.out.<id>`` again.

The idempotency key is the message's event id: the partner applies each one once, so a
redelivery after a crash or a retry is harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision import parked_entry
from gateway.core.decision_time import iso_ms
from gateway.core.ingest import RawInput
from gateway.core.topics import AUDIT_TOPIC, DISCREPANCY_TOPIC, retry_topic
from gateway.errors import RegistryError
from gateway.observe.metrics import DELIVERIES

log = logging.getLogger("a6gw.worker")

MESSAGES_PATH = "/v1/messages"

Send = Callable[[str, bytes | None, bytes], Awaitable[None]]
Deliver = Callable[[str, bytes, str], Awaitable[Any]]  # (path, body, idempotency key)


def message_id(value: bytes) -> str:
    """The idempotency key of a message: its envelope id (its digest if it has none)."""
    try:
        ident = json.loads(value).get("id")
    except (ValueError, AttributeError):
        ident = None
    return ident if isinstance(ident, str) and ident else f"sha256-{sha256_hex(value)}"


class Delivery:
    """One HTTPS partner's two agents' logic (the faust wiring is in
    ``gateway.worker.agents.delivery``)."""

    def __init__(
        self,
        registry: str,
        deliver: Deliver,
        parked: MutableMapping[str, Any],
        send: Send,
        *,
        clock_ms: Callable[[], int],
        pause_s: float = 1.0,
    ) -> None:
        self.registry = registry
        self.deliver = deliver
        self.parked = parked
        self.send = send
        self.clock_ms = clock_ms
        self.pause_s = pause_s
        self.delivered = 0
        self.counted = {r: DELIVERIES.labels(registry, r) for r in ("delivered", "parked")}

    def _key(self, rec: RawInput) -> str:
        return rec.key.decode() if rec.key else message_id(rec.value)

    async def on_out(self, rec: RawInput) -> None:
        key = self._key(rec)
        if self.parked.get(key):
            self.parked[key] = int(self.parked[key]) + 1
            await self.send(retry_topic(self.registry), key.encode(), rec.value)
            self.counted["parked"].inc()
            return
        msg_id = message_id(rec.value)
        try:
            await self.deliver(MESSAGES_PATH, rec.value, msg_id)
            self.delivered += 1
            self.counted["delivered"].inc()
        except RegistryError as exc:
            await self._park(rec, key, msg_id, exc)

    async def _park(self, rec: RawInput, key: str, msg_id: str, exc: RegistryError) -> None:
        log.warning("%s: parking %s (key %s): %s", self.registry, msg_id, key, exc)
        self.parked[key] = 1
        await self.send(retry_topic(self.registry), key.encode(), rec.value)
        self.counted["parked"].inc()
        entry, discrepancy = parked_entry(
            self.registry, msg_id, key, exc.code, str(exc.args[0]), iso_ms(self.clock_ms())
        )
        await self.send(AUDIT_TOPIC, entry["entry_id"].encode(), canonical_bytes(entry))
        found_key = discrepancy["discrepancy_id"].encode()
        await self.send(DISCREPANCY_TOPIC, found_key, canonical_bytes(discrepancy))

    async def on_retry(self, rec: RawInput) -> None:
        key = self._key(rec)
        msg_id = message_id(rec.value)
        while True:
            try:
                await self.deliver(MESSAGES_PATH, rec.value, msg_id)
                break
            except RegistryError as exc:
                log.warning(
                    "%s: %s still undeliverable (%s); waiting", self.registry, msg_id, exc.code
                )
                await asyncio.sleep(self.pause_s)
        self.delivered += 1
        self.counted["delivered"].inc()
        left = int(self.parked.get(key) or 0) - 1
        if left > 0:
            self.parked[key] = left
        elif key in self.parked:
            del self.parked[key]
            log.info(
                "%s: key %s delivered again; it flows through a6.out again", self.registry, key
            )
