"""``ingest``: all input topics → authenticate, dead-letter, dedup → ``a6.ledger`` keyed by
cooperative approach (the one repartition hop)."""

from __future__ import annotations

import time

from faust.types import StreamT

from gateway.core.ingest import RawInput
from gateway.core.steps import ingest_step
from gateway.worker.gaps import raw_of
from gateway.worker.runtime import Runtime


def install(rt: Runtime) -> None:
    """The ``ingest`` agent over every input topic."""
    ctx, limits = rt.ctx, rt.config.limits

    async def handle(rec: RawInput) -> None:
        owner = rt.owners[rec.topic]
        result = ingest_step(
            rec,
            owner,
            ctx.trust,
            ctx.public_keys,
            ctx.joint_committees(owner),
            rt.seen,
            ctx.signer,
            max_bytes=limits.max_message_bytes,
            max_age_s=limits.max_proposal_age_s,
            skew_s=limits.max_clock_skew_s,
            now_ms=int(time.time() * 1000),
        )
        if result.seen_put is not None:
            rt.seen[result.seen_put[0]] = result.seen_put[1]
        await rt.send_all(result.outputs)

    shielded = rt.shield.protect("ingest", handle)

    @rt.app.agent(rt.inputs, name="ingest", concurrency=1)
    async def ingest(stream: StreamT[bytes]) -> None:
        async for event in stream.events():
            await rt.guard.run(raw_of(event.message), shielded)
