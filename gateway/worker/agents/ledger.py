"""``ledger``: ``a6.ledger`` → checks against the block ledger → decisions, notices, audit
entries, a batch at a time (``gateway.worker.batches``) against the state in memory
(``gateway.worker.memory``, which says why a crash loses nothing)."""

from __future__ import annotations

import logging
from typing import Any

from gateway.core.ingest import RawInput
from gateway.core.state import VERSION, newer_or_equal
from gateway.core.steps import forwarded_key, ledger_step
from gateway.core.topics import LEDGER_TOPIC
from gateway.worker.batches import (
    Batches,
    Collecting,
    Event,
    Part,
    consume,
    in_partition,
    write_cursors,
)
from gateway.worker.gaps import cursor_key
from gateway.worker.runtime import Runtime
from gateway.worker.snapshots import FILE_NAME, LedgerTail, SnapshotFile

log = logging.getLogger("a6gw.worker")


class LedgerStage(Collecting):
    """Decides a run of ledger records; its decisions are durable (one changelog record per
    partition, one flush) before anything else."""

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
        record, parsed = rt.handoff.read(rec.value)  # json.loads, unless ingest kept it
        state = rt.ledger.current()
        result = ledger_step(
            record,
            state,
            rt.ctx.directory,
            rt.ctx.signer,
            version=rec.offset,
            event=parsed,
            headers=rec.headers,  # the hop's trace context, if any
        )
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
        await rt.durable(await rt.sender.enqueue(self.outputs))
        write_cursors(rt.guard, cursors)  # last: the run is on the broker
        rt.ledger.settled({p: offset for (_, p), (offset, _) in cursors.items()})


def install(rt: Runtime) -> None:
    """The ``ledger`` agent over ``a6.ledger``."""
    batches = Batches(LedgerStage(rt), rt.guard, rt.shield, rt.seal, check_mac=True)

    keep_snapshots(rt)

    # Not before the tables (the global accounts' copy included) have caught up: see
    # Runtime.running.
    consume(rt.app, rt.ledger_topic, "ledger", batches, ready=rt.until_running)

    @rt.app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def revoked(sender: Any, *args: Any, **kwargs: Any) -> None:
        await rt.ledger.revoked()


def keep_snapshots(rt: Runtime) -> None:
    """The ledger state's snapshots in the worker's data folder; the state recovered from
    them (or rebuilt) each time the ``decisions`` table has recovered; a last one at
    shutdown (``gateway.worker.memory``)."""
    memory = rt.ledger
    memory.snapshots = SnapshotFile(rt.datadir / FILE_NAME, rt.seal.secret)
    memory.min_work = rt.config.gateway.snapshot_every
    memory.fork = rt.config.gateway.snapshot_writer == "fork"
    tail = LedgerTail(rt.kafka, rt.reader, LEDGER_TOPIC)

    def cursor(partition: int) -> int | None:
        value = rt.guard.cursors.get(cursor_key(LEDGER_TOPIC, partition))
        return None if value is None else int(value)

    async def recovered() -> None:
        actives = rt.app.assignor.assigned_actives()
        held = {tp.partition for tp in actives if tp.topic == LEDGER_TOPIC}
        try:
            await memory.recover(held, cursor, tail.read)
        except Exception:  # noqa: BLE001 - the next decision rebuilds it (or fails loudly)
            log.exception("ledger state not recovered; rebuilding it before the next decision")
            memory.mark_stale()

    rt.decisions.on_recover(recovered)
    rt.on_shutdown(memory.close)

    @rt.app.timer(interval=1.0)  # type: ignore[untyped-decorator]
    async def ledger_idle() -> None:
        """A snapshot of the work not in one once the ledger has been idle a while."""
        if rt.running():
            memory.when_idle()
