"""``ledger``: ``a6.ledger`` → checks against the block ledger → decisions, notices, audit
entries, a batch at a time (``gateway.worker.batches``) against the state in memory
(``gateway.worker.memory``, which says why a crash loses nothing)."""

from __future__ import annotations

import json
from typing import Any

from gateway.core.ingest import RawInput
from gateway.core.state import VERSION, newer_or_equal
from gateway.core.steps import forwarded_key, ledger_step
from gateway.worker.batches import (
    Batches,
    Collecting,
    Event,
    Part,
    consume,
    in_partition,
    write_cursors,
)
from gateway.worker.runtime import Runtime


class LedgerStage(Collecting):
    """Decides a run of ledger records; its decisions are durable before anything else."""

    step = "ledger"

    def __init__(self, rt: Runtime) -> None:
        super().__init__()
        self.rt = rt
        self.accounts: list[tuple[Event, str, dict[str, Any]]] = []

    def begin(self) -> None:
        super().begin()
        self.accounts = []

    def decide(self, rec: RawInput, event: Event) -> None:
        rt = self.rt
        record = json.loads(rec.value)
        state = rt.ledger.current()
        result = ledger_step(record, state, rt.ctx.directory, rt.ctx.signer, version=rec.offset)
        try:
            state.apply(result.effects, result.version)
        except Exception:
            rt.ledger.mark_stale()  # half applied: rebuild from the stored decisions
            raise
        put = result.decision_put
        if put is not None:
            rt.decisions[put.key] = put.value
        else:
            # A redelivery: put its decision again, in case the changelog lost it.
            key = forwarded_key(record)
            rt.decisions[key] = rt.decisions[key]
        for eff in result.effects:
            if eff.table == "accounts":
                self.accounts.append((event, eff.key, {**eff.value, VERSION: result.version}))
        self.outputs.extend(result.outputs)

    async def commit(self, cursors: dict[Part, tuple[int, Event]]) -> None:
        rt = self.rt
        await rt.durable()  # the decisions, before any effect or output
        for event, key, value in self.accounts:
            with in_partition(event):
                if newer_or_equal(rt.accounts.get(key), value[VERSION]):
                    rt.accounts[key] = value
        sent = await rt.sender.enqueue(self.outputs)
        write_cursors(rt.guard, cursors)
        await rt.durable(sent)


def install(rt: Runtime) -> None:
    """The ``ledger`` agent over ``a6.ledger``."""
    batches = Batches(LedgerStage(rt), rt.guard, rt.shield, rt.seal, check_mac=True)

    async def stale() -> None:
        rt.ledger.mark_stale()

    rt.decisions.on_recover(stale)

    # Not before the tables (the global accounts' copy included) have caught up: see
    # Runtime.running.
    consume(rt.app, rt.ledger_topic, "ledger", batches, ready=rt.until_running)

    @rt.app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def revoked(sender: Any, *args: Any, **kwargs: Any) -> None:
        rt.ledger.mark_stale()
