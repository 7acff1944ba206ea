"""The demo's planted inconsistencies, found by snapshot reconciliation.

- IDN01 (the HTTPS partner) serves a holdings snapshot that differs from the audit log by one
  block: the last 100 units of its participant account's issuance are missing (REC-001 for
  the cell's total, REC-002 for the units);
- JPN01 (a Kafka registry) answers the gateway's snapshot request with signed pages that
  miss an acquisition: the units MNG01 transferred to JP-GOV-1 that Japan still holds
  (REC-001, REC-002).

Each is pulled or read, reconciled in three phases and recorded (an audit entry and one
discrepancy per difference), and the demo checks that exactly the planted codes are found.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gateway.audit.logstore import LogStore
from gateway.config import LoadedConfig
from gateway.core import topics
from gateway.demo.https import HttpsPartner
from gateway.demo.world import World, signed_event
from gateway.errors import GatewayError
from gateway.services.reconciliation import gateway_view, run
from gateway.services.snapshots import snapshot_pages
from gateway.transport.acls import registry_principal
from gateway.transport.clients import KafkaClients, partner_clients

Say = Callable[[str], None]


def snapshot_rows(store: LogStore, registry: str) -> list[dict[str, Any]]:
    """The registry's holdings exactly as the audit log has them, as snapshot rows."""
    holdings, _types = gateway_view(store.entries(), registry)
    return [
        {
            "account_id": h.account,
            "ca_id": h.ca_id,
            "origin": h.origin,
            "serial_start": str(h.start),
            "serial_end": str(h.end),
            "unit_type": h.unit_type,
            "vintage": h.vintage,
        }
        for h in sorted(holdings, key=lambda h: (h.account, h.ca_id, h.origin, h.start))
    ]


class KafkaRegistry:
    """A demo registry on Kafka answering the gateway's snapshot request: it waits for the
    signed ``reconciliation.requested`` notice on its output topic and publishes its
    holdings as signed ``holdings.snapshot`` pages on its input topic."""

    def __init__(self, lc: LoadedConfig, world: World, registry: str) -> None:
        self.lc, self.world, self.registry = lc, world, registry
        self.error: BaseException | None = None

    def kafka(self) -> KafkaClients:
        """The registry's own clients (its principal's credentials)."""
        return partner_clients(self.lc, registry_principal(self.registry))

    @contextmanager
    def answering(self, rows: list[dict[str, Any]]) -> Iterator[None]:
        ready = threading.Event()
        thread = threading.Thread(
            target=lambda: self._run(rows, ready), name=f"{self.registry}-snapshot", daemon=True
        )
        thread.start()
        if not ready.wait(30):
            raise GatewayError(f"{self.registry} could not watch its topic", code="DEMO-LOG")
        yield
        thread.join(30)
        if self.error is not None:
            raise GatewayError(f"{self.registry}: {self.error}", code="DEMO-LOG")

    def _run(self, rows: list[dict[str, Any]], ready: threading.Event) -> None:
        try:
            asyncio.run(self._answer(rows, ready))
        except Exception as exc:  # reported by answering()
            self.error = exc

    async def _answer(self, rows: list[dict[str, Any]], ready: threading.Event) -> None:
        topic = topics.output_topic(self.registry)
        consumer = self.kafka().consumer(topic, auto_offset_reset="latest")
        await consumer.start()
        try:
            while not consumer.assignment():
                await asyncio.sleep(0.05)
            await consumer.seek_to_end()
            for tp in consumer.assignment():
                await consumer.position(tp)
            ready.set()
            async for msg in consumer:
                env = json.loads(msg.value)
                if env["type"] == "a6gw.notice.v1" and env["data"]["kind"] == (
                    "reconciliation.requested"
                ):
                    await self._send(env["data"]["body"], rows)
                    return
        finally:
            await consumer.stop()

    async def _send(self, request: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        rec_id = request["reconciliation_id"]
        pages = snapshot_pages(self.registry, rec_id, rows, request["snapshot_at"], size=2)
        producer = self.kafka().producer(acks="all")
        await producer.start()
        try:
            for data in pages:
                event_id = f"{rec_id}-p{data['page']}"
                value = signed_event(
                    self.world.keys[self.registry],
                    key_id=self.world.key_id(self.registry),
                    source=self.registry,
                    name="holdings.snapshot",
                    event_id=event_id,
                    data=data,
                )
                await producer.send_and_wait(
                    topics.input_topic(self.registry), value, key=event_id.encode()
                )
        finally:
            await producer.stop()


def plant_and_reconcile(
    lc: LoadedConfig, world: World, store: LogStore, https: HttpsPartner, say: Say
) -> list[str]:
    """Plant both inconsistencies, reconcile both registries; returns what went wrong."""
    problems: list[str] = []
    # IDN01: one block short by its last 100 units.
    rows = snapshot_rows(store, "IDN01")
    biggest = max(rows, key=lambda r: int(r["serial_end"]) - int(r["serial_start"]))
    biggest["serial_end"] = str(int(biggest["serial_end"]) - 100)
    https.sim.holdings = rows
    say("IDN01's partner registry now reports one block 100 units short; reconciling it")
    report, _ = run(lc, store, "IDN01", snapshot=None, say=lambda m: say(f"  IDN01 {m}"))
    if report.codes != ["REC-001", "REC-002"]:
        problems.append(f"IDN01: found {report.codes}, planted REC-001 and REC-002")
    # JPN01: its snapshot misses the acquisition from MNG01.
    rows = [r for r in snapshot_rows(store, "JPN01") if r["origin"] != "MNG01"]
    say("JPN01's snapshot will miss the units it acquired from MNG01; reconciling it")
    with KafkaRegistry(lc, world, "JPN01").answering(rows):
        report, found = run(lc, store, "JPN01", snapshot=None, say=lambda m: say(f"  JPN01 {m}"))
    if report.codes != ["REC-001", "REC-002"]:
        problems.append(f"JPN01: found {report.codes}, planted REC-001 and REC-002")
    if not any(found.values()):
        problems.append("JPN01: phase 3 found no audit trail for the missing units")
    return problems
