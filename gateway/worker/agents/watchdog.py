"""``watchdog``: partitions whose records stop reaching their agent are sought back, and a
wedged worker exits to be restarted (``gateway.worker.watch``)."""

from __future__ import annotations

import logging
import os
import time
from functools import cached_property

from aiokafka.errors import KafkaError
from faust.types import TP

from gateway.core import topics
from gateway.core.topics import AUDIT_TOPIC, COMMANDS_TOPIC, FINDINGS_TOPIC, LEDGER_TOPIC
from gateway.observe.metrics import PARKED
from gateway.observe.tally import Positions
from gateway.worker.exits import Exit
from gateway.worker.gaps import Probe, cursor_key
from gateway.worker.runtime import Runtime
from gateway.worker.watch import Restart, Seek, Status, Watch, next_offset

log = logging.getLogger("a6gw.worker")

# The agent that consumes each topic (input topics: ingest), for the watchdog.
AGENT_OF = {
    AUDIT_TOPIC: "sequencer",
    LEDGER_TOPIC: "ledger",
    FINDINGS_TOPIC: "discrepancies",
    COMMANDS_TOPIC: "discrepancies",
}


def install(rt: Runtime) -> None:
    """The ``watchdog`` timer, every ``stall_s / 4``; its offset probe closes at shutdown."""
    stall_s = rt.config.timeouts.stall_s
    dog = _Watchdog(rt, Watch(stall_s), Probe(rt.kafka, rt.config.gateway.id))

    @rt.app.timer(interval=stall_s / 4)  # type: ignore[untyped-decorator]
    async def watchdog() -> None:
        """Partitions whose records stop reaching their agent are sought back (see watch)."""
        await dog.tick()

    rt.on_shutdown(dog.probe.close)


class _Watchdog:
    def __init__(self, rt: Runtime, watch: Watch, probe: Probe) -> None:
        self.rt = rt
        self.watch = watch
        self.probe = probe
        self.guarded = {*rt.owners, LEDGER_TOPIC, AUDIT_TOPIC, FINDINGS_TOPIC, COMMANDS_TOPIC}
        self.positions = Positions()

    @cached_property
    def parked(self) -> dict[str, str]:
        """``a6.retry.<id>`` → ``<id>`` of each HTTPS partner: its lag is what is parked."""
        https = [r.id for r in self.rt.config.registries if r.transport == "https"]
        return {topics.retry_topic(r): r for r in https}

    @cached_property
    def delivered(self) -> dict[str, str]:
        """Exported, not watched: the HTTPS partners' delivery topics → their agents (which
        keep cursors too)."""
        out = {topics.output_topic(r): f"deliver-{r}" for r in self.parked.values()}
        return out | {t: f"redeliver-{r}" for t, r in self.parked.items()}

    async def tick(self) -> None:
        if self.rt.running():
            await self.check()
        else:
            # While the tables recover nothing moves, and nothing is stuck: the clocks start
            # again once the worker runs (a stale one would seek a partition at once).
            self.watch.forget(set())

    def _status(self, tp: TP, committed: dict[TP, int], end: dict[TP, int]) -> Status:
        key = cursor_key(tp.topic, tp.partition)
        if tp.topic == AUDIT_TOPIC:
            last = self.rt.store.position(tp.topic, tp.partition)
        else:
            last = self.rt.guard.cursors.get(key)
        return Status(last=last, committed=committed.get(tp), end=end.get(tp, 0))

    def _export(
        self, tps: list[TP], shown: list[TP], committed: dict[TP, int], end: dict[TP, int]
    ) -> None:
        """Each partition's end, agent position and lag as metrics (gateway.observe)."""
        rows = []
        for tp in tps + shown:
            agent = self.delivered.get(tp.topic) or AGENT_OF.get(tp.topic, "ingest")
            position = next_offset(self._status(tp, committed, end).last)
            rows.append((tp.topic, tp.partition, agent, end.get(tp, 0), position))
        lag = self.positions.update(rows)
        for topic, registry in self.parked.items():
            PARKED.labels(registry).set(lag.get(topic, 0))

    async def check(self) -> None:
        consumer = self.rt.app.consumer
        tps = sorted(tp for tp in consumer.assignment() if tp.topic in self.guarded)
        shown = sorted(tp for tp in consumer.assignment() if tp.topic in self.delivered)
        try:
            committed, end = await self.probe.offsets(tps + shown)
        except KafkaError as exc:
            log.warning("watchdog: cannot read offsets (%s); trying again later", exc)
            return
        self._export(tps, shown, committed, end)
        self.watch.forget({cursor_key(tp.topic, tp.partition) for tp in tps})
        statuses = [
            (
                cursor_key(tp.topic, tp.partition),
                AGENT_OF.get(tp.topic, "ingest"),
                self._status(tp, committed, end),
            )
            for tp in tps
        ]
        by_key = {cursor_key(tp.topic, tp.partition): tp for tp in tps}
        for key, action in self.watch.check_all(statuses, time.monotonic()):
            if isinstance(action, Seek):
                if not self.rt.running() or by_key[key] not in consumer.assignment():
                    continue  # revoked while the offsets were read: its new owner watches it
                log.warning("%s: stuck (%s); seeking to %d", key, action, action.offset)
                consumer.resume_partitions({by_key[key]})
                await consumer.seek(by_key[key], action.offset)
            elif isinstance(action, Restart):
                # Nothing is lost by a crash (the guard and the cursors see to that), so a
                # wedged consumer is replaced by a fresh process; the supervisor restarts it.
                log.error("%s; restarting the worker", action.reason)
                logging.shutdown()
                os._exit(Exit.STALLED)
