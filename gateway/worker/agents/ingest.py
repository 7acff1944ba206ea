"""``ingest``: all input topics → authenticate, dead-letter, dedup → ``a6.ledger`` keyed by
cooperative approach (the one repartition hop), a batch at a time
(``gateway.worker.batches``)."""

from __future__ import annotations

import time

from gateway.core.ingest import RawInput
from gateway.core.steps import ingest_step
from gateway.worker.batches import Batches, Collecting, Event, Part, consume, write_cursors
from gateway.worker.runtime import Runtime


class IngestStage(Collecting):
    """Decides a run of input records; its dedup rows (one changelog record per partition)
    and forwards go in one flush, then its cursors (a forward lost by a crash is made again:
    the input is after its cursor, and its offset is not committed yet)."""

    step = "ingest"

    def __init__(self, rt: Runtime) -> None:
        super().__init__()
        self.rt = rt

    def decide(self, rec: RawInput, event: Event) -> None:
        rt, limits = self.rt, self.rt.config.limits
        owner = rt.owners[rec.topic]
        result = ingest_step(
            rec,
            owner,
            rt.ctx.trust,
            rt.ctx.public_keys,
            rt.ctx.joint_committees(owner),
            rt.seen,
            rt.ctx.signer,
            max_bytes=limits.max_message_bytes,
            max_age_s=limits.max_proposal_age_s,
            skew_s=limits.max_clock_skew_s,
            now_ms=int(time.time() * 1000),
        )
        if result.seen_put is not None:
            rt.seen[result.seen_put[0]] = result.seen_put[1]
        if result.forwarded is not None:
            rt.handoff.put(result.forwarded)
        self.outputs.extend(result.outputs)

    async def commit(self, cursors: dict[Part, tuple[int, Event]]) -> None:
        await self.rt.durable(await self.rt.sender.enqueue(self.outputs))
        write_cursors(self.rt.guard, cursors)  # last: the run is on the broker


def install(rt: Runtime) -> None:
    """The ``ingest`` agent over every input topic (whose records carry no MAC)."""
    batches = Batches(IngestStage(rt), rt.guard, rt.shield, rt.seal, check_mac=False)
    consume(rt.app, rt.inputs, "ingest", batches)
