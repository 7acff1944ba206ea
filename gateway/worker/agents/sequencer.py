"""``sequencer``: ``a6.audit.log`` (one partition, so one active writer) → the audit store;
``checkpoints``: signed checkpoints on ``a6.audit.checkpoints`` when due by time
(``gateway.worker.sequencing``)."""

from __future__ import annotations

import asyncio
import logging
import os

from faust.types import TP, StreamT

from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import AuditError
from gateway.observe.server import REFUSAL_LINGER_S, serving
from gateway.worker.exits import Exit
from gateway.worker.gaps import raw_of
from gateway.worker.runtime import Runtime
from gateway.worker.sequencing import AuditWriter

log = logging.getLogger("a6gw.worker")

#: The sequencer refuses a store behind, or apart from, the last published checkpoint.
REFUSALS = {"AUD-BEHIND", "AUD-FORK", "AUD-CHECKPOINT"}


def install(rt: Runtime) -> None:
    """The ``sequencer`` agent and the ``checkpoints`` timer."""
    app = rt.app
    writer = AuditWriter(rt.lc, rt.store, rt.guard, rt.reader, rt.send_now, rt.send_all, rt.seal)

    @app.agent(rt.audit_topic, name="sequencer", concurrency=1)
    async def sequencer(stream: StreamT[bytes]) -> None:
        # faust's StreamT does not declare take_events (its Stream has it).
        async for batch in stream.take_events(500, within=0.2):  # type: ignore[attr-defined]
            try:
                records = [raw_of(e.message) for e in batch]
                await rt.shield.retry(
                    "sequencer", writer.batch, records, app.consumer_generation_id
                )
            except AuditError as exc:
                if exc.code not in REFUSALS:
                    raise
                # A store behind or apart from what was published must not go on: stop
                # for an operator (the supervisor restarts only stalled workers).
                log.critical("sequencer: %s; stopping the worker", exc)
                writer.view.refused(exc.code, str(exc))
                rt.refusing = True
                if serving():  # let Prometheus see the refusal first
                    await asyncio.sleep(REFUSAL_LINGER_S)
                logging.shutdown()
                os._exit(Exit.REFUSED)

    @app.timer(interval=1.0)  # type: ignore[untyped-decorator]
    async def checkpoints() -> None:
        """Checkpoints due by time, from the worker that owns the audit log."""
        if not app.rebalancing and TP(AUDIT_TOPIC, 0) in app.consumer.assignment():
            await writer.tick(app.consumer_generation_id)
