"""``deliver-<id>`` / ``redeliver-<id>`` for each HTTPS partner: ``a6.out.<id>`` delivered,
what cannot be delivered parked on ``a6.retry.<id>`` (``gateway.worker.delivery``)."""

from __future__ import annotations

import time
from typing import Any

from faust.types import StreamT

from connectors.client import PartnerClient
from gateway.core import topics
from gateway.core.ingest import RawInput
from gateway.services.partners import partner_clients
from gateway.worker.delivery import Delivery
from gateway.worker.faults import Handler, Run
from gateway.worker.gaps import raw_of
from gateway.worker.runtime import Runtime


def install(rt: Runtime) -> None:
    """The two agents per HTTPS partner; their clients close as the worker shuts down."""
    signer = rt.ctx.signer
    clients = partner_clients(rt.lc, signer.key_id, signer.key)
    shielded_run = rt.shield.guarded(rt.guard.run)

    async def run(rec: RawInput, handle: Handler) -> None:
        await shielded_run(rec, rt.seal.checked(handle, rt.send_all))  # a6.retry.<id> is internal

    for registry, client in clients.items():
        _install(rt, registry, client, run)

    async def close() -> None:
        for client in clients.values():
            await client.aclose()

    rt.on_shutdown(close)


def _install(rt: Runtime, registry: str, client: PartnerClient, run: Run) -> Delivery:
    async def deliver(path: str, body: bytes, key: str) -> Any:
        return await client.deliver(path, body, key)

    delivery = Delivery(
        registry,
        deliver,
        rt.table(topics.parked_table(registry)),
        rt.send_now,
        clock_ms=lambda: int(time.time() * 1000),
    )

    async def out_agent(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            await run(raw_of(event.message), delivery.on_out)

    async def retry_agent(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            await run(raw_of(event.message), delivery.on_retry)

    out_topic, retry_topic = topics.output_topic(registry), topics.retry_topic(registry)
    rt.app.agent(rt.topic(out_topic), name=f"deliver-{registry}", concurrency=1)(out_agent)
    rt.app.agent(rt.topic(retry_topic), name=f"redeliver-{registry}", concurrency=1)(retry_agent)
    return delivery
