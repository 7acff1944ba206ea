"""``witnesses``: the collector task; the newest checkpoint on ``a6.audit.checkpoints`` goes to
every configured witness, from the worker that owns the audit log
(``gateway.worker.witnessing``). Nothing is installed without ``witnesses`` in the config."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from aiokafka.structs import TopicPartition
from faust.types import TP

from gateway.core.topics import AUDIT_TOPIC, CHECKPOINT_TOPIC
from gateway.errors import GatewayError
from gateway.worker.runtime import Runtime
from gateway.worker.witnessing import Collector, links_for

log = logging.getLogger("a6gw.witness.collector")

#: Seconds between looks at the topic when nothing new came.
POLL_S = 1.0
#: Seconds before the collector starts again after a broker or store failure.
PAUSE_S = 5.0


def install(rt: Runtime) -> None:
    """The ``witnesses`` task (when witnesses are configured)."""
    if not rt.config.witnesses:
        return
    lc = rt.lc
    verifiers = [lc.load_log_key().verifier(), *lc.previous_log_verifiers()]
    collector = Collector(rt.store, links_for(lc), verifiers, rt.send_now)
    rt.on_shutdown(collector.close)

    def owner() -> bool:
        app = rt.app
        return not app.rebalancing and TP(AUDIT_TOPIC, 0) in app.consumer.assignment()

    @rt.app.task  # type: ignore[untyped-decorator]
    async def witnesses() -> None:
        """Read the checkpoints; submit the newest one when this worker owns the log. A
        broker or store failure is logged and the loop starts again: the collector never
        stops the worker (the log goes on without cosignatures meanwhile)."""
        while True:
            try:
                await _collect(rt, collector, owner)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - logged; the next round retries
                log.exception("witnesses: the collector failed; starting again in %.0f s", PAUSE_S)
                await asyncio.sleep(PAUSE_S)


async def _collect(rt: Runtime, collector: Collector, owner: Callable[[], bool]) -> None:
    """Follow ``a6.audit.checkpoints`` from its last record; submit each newest one (a
    witness that cosigned it already is not asked again: ``Collector.submit``)."""
    tp = TopicPartition(CHECKPOINT_TOPIC, 0)
    consumer = rt.kafka.consumer(group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, max(end - 1, 0))
        latest: tuple[int, str] | None = None
        done = -1
        while True:
            batch = await consumer.getmany(tp, timeout_ms=int(POLL_S * 1000))
            for rec in batch.get(tp, []):
                if rec.key is not None and rec.value is not None:
                    latest = (int(rec.key), rec.value.decode("utf-8"))
            if latest is None or latest[0] <= done or not owner():
                continue
            try:
                outcomes = await collector.submit(latest[1])
            except GatewayError as exc:
                log.error("witnesses: checkpoint %d not submitted: %s", latest[0], exc)
                outcomes = {}
            log.info("witnesses: checkpoint %d: %s", latest[0], outcomes)
            if "retry" not in outcomes.values():
                done = latest[0]
            else:
                await asyncio.sleep(POLL_S)
    finally:
        await consumer.stop()
