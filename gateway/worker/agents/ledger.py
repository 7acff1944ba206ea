"""``ledger``: ``a6.ledger`` → checks against the block ledger → decisions, notices, audit
entries.

The ledger state's index of blocks is rebuilt before the next record after the ``blocks``
table recovers or partitions are revoked.
"""

from __future__ import annotations

import json
from typing import Any

from faust.types import StreamT

from gateway.core.ingest import RawInput
from gateway.core.steps import ledger_step
from gateway.worker.gaps import raw_of
from gateway.worker.runtime import Runtime


def install(rt: Runtime) -> None:
    """The ``ledger`` agent over ``a6.ledger``."""
    ctx, state = rt.ctx, rt.state
    dirty = {"index": True}

    async def mark_dirty() -> None:
        dirty["index"] = True

    rt.tables["blocks"].on_recover(mark_dirty)

    async def handle(rec: RawInput) -> None:
        if dirty["index"]:
            state.rebuild_index()
            dirty["index"] = False
        result = ledger_step(
            json.loads(rec.value), state, ctx.directory, ctx.signer, version=rec.offset
        )
        if result.decision_put is not None:
            # The decision record carries its state change. It is on the broker before
            # any effect is, so a crash can never leave effects without their decision
            # (which a redelivery would then re-evaluate against half-changed state).
            state.apply([result.decision_put], result.version)
            await rt.app.producer.flush()
        state.apply(result.effects, result.version)
        await rt.send_all(result.outputs)
        await rt.app.producer.flush()  # effects too, before this input may be committed

    checked = rt.seal.checked(rt.shield.protect("ledger", handle), rt.send_all)

    @rt.app.agent(rt.ledger_topic, name="ledger", concurrency=1)
    async def ledger(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            await rt.guard.run(raw_of(event.message), checked)

    @rt.app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def revoked(sender: Any, *args: Any, **kwargs: Any) -> None:
        dirty["index"] = True
