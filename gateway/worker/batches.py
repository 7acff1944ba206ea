"""Agents decide what a fetch returned as a batch: no broker round trip per record.

An agent takes its records in batches (:func:`gateway.transport.faust_batches.take_batches`:
up to :data:`BATCH_MAX` records and :data:`BATCH_MAX_BYTES`, handed over once the first has
waited :data:`BATCH_WITHIN_S`, at once if it waited while the last batch was handled) and
hands each to :meth:`Batches.run`, which

1. puts back, per partition, the records the consumer skipped (the contiguity guard,
   :meth:`gateway.worker.gaps.Guard.complete`), and leaves out those at or before the
   partition's cursor: handled already, with everything their run wrote on the broker (a
   redelivery after a kill or a rebalance, of records whose offsets were not committed
   yet), so they are neither decided nor sent again;
2. splits the records into runs: the records with no death against them in the attempts
   journal go together; a *suspect* (a record in flight at an earlier death) runs after
   the records before it and alone in the process
   (:meth:`gateway.worker.faults.Shield.alone`): the suspects of one death together, a
   suspect of more deaths in a run of its own (:func:`runs`); a record is quarantined
   (GWF-002) after :data:`~gateway.worker.faults.MAX_ALONE` deaths in a run of its own;
3. for each run: checks each record's MAC (a forged record is dead-lettered, MSG-010) and
   decides the records in order, each seeing the effects of the ones before it
   (:meth:`Stage.decide`); an exception one record raises makes that record a gateway-fault
   dead letter (GWF-001) and the run goes on; then :meth:`Stage.commit` makes the run
   durable (the ledger: its decisions with one flush, then its effects and outputs with
   one more) and, once the broker has all of it, writes one cursor per partition (its
   changelog record goes out with the next writes); the run's rows of the ``inputs`` and
   ``decisions`` tables reach their changelogs in that flush as one record per table
   partition (``gateway.worker.batched``), not one per row;
4. returns, so that faust acknowledges the batch's events and commits their offsets after.

A run's records get their attempts-journal lines in one write before the first is decided,
and their closing lines in one write after the commit: a death anywhere in the run, its
flushes included, counts against every record of the run. On the restart they are
suspects: they run once more together, alone in the process (a kill no input caused ends
there, in one run); if they die again, each runs alone, so the bystanders are cleared by
their next run and only the record that kills the process reaches the quarantine (the batch
is bisected down to single records). Only deaths in a run of one record count toward the
quarantine: a kill from outside that lands in the batch and again in the suspects' run
does not quarantine a bystander. An edge error (the broker) retries the whole run: the
steps' outputs are idempotent (a decision already made is found and re-sent, not made
again).

Tables of faust are partitioned by the event being processed (``current_event``); a batch
holds several partitions, so every table access of a record runs inside
:func:`in_partition` of an event of the record's partition.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import faust
from faust.streams import _current_event
from faust.types import EventT, StreamT, TopicT

from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.observe.tally import InputTally
from gateway.transport.faust_batches import take_batches
from gateway.worker.exits import Exit
from gateway.worker.faults import Shield, is_edge
from gateway.worker.gaps import Guard, cursor_key, raw_of
from gateway.worker.sealed import Seal
from gateway.worker.trail import Trail

log = logging.getLogger("a6gw.worker")

#: At most this many records per batch; a batch is handed over when full or once its first
#: record has waited BATCH_WITHIN_S, whichever comes first (at most that much latency per
#: hop, beyond the batch being handled when a record arrives). At 500 inputs/s on the 2-core
#: benchmark machine, p50/p99 from send to decision were 51/99 ms with 10 ms and 36/71 ms
#: with 5 ms, 45/123 ms with 2 ms (more, smaller commits: the ledger committed 75% of the
#: time); faust's take_events and 10 ms: 62/120 ms (one run each).
BATCH_MAX = 500
BATCH_WITHIN_S = 0.005
#: A batch is full once its records' values reach this many bytes (the record that crosses
#: it included): a few hundred ordinary records are ~0.2-0.5 MB, while one issuance of
#: 1,000 blocks is ~0.1 MB of input and ~0.2 MB of audit entry, which take milliseconds
#: each to decide or to index (48 such entries took the sequencer 618 ms in one turn of
#: the event loop), so 500 of them in one batch would hold the loop for seconds.
BATCH_MAX_BYTES = 1 << 20
#: how often each agent logs what its batches cost
REPORT_S = 10.0

Part = tuple[str, int]
#: a faust event (a consumed record and its place in the stream)
Event = EventT[Any]


@contextmanager
def in_partition(event: Event) -> Iterator[None]:
    """Table reads and writes inside go to ``event``'s partition (faust takes it from the
    event being processed, a context variable it does not export)."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


class Stage(Protocol):
    """What one agent does with a run of records."""

    step: str
    #: what the run will write at its commit (each record's appended as it is decided)
    outputs: list[Output]

    def begin(self) -> None:
        """A new run: nothing decided yet."""

    def decide(self, rec: RawInput, event: Event) -> None:
        """Decide ``rec`` (inside ``in_partition(event)``), seeing the run's earlier effects;
        keep what it writes for :meth:`commit`. No broker round trip."""

    def add(self, outputs: list[Output]) -> None:
        """Outputs to write with the run's (dead letters)."""

    async def commit(self, cursors: dict[Part, tuple[int, Event]]) -> None:
        """Make the run durable: what was decided, its effects, its outputs, and the cursor
        of each partition (``cursors``: the last offset and an event of the partition)."""


class Collecting:
    """What every stage keeps of a run: the outputs to write at its commit."""

    def __init__(self) -> None:
        self.outputs: list[Output] = []

    def begin(self) -> None:
        self.outputs = []

    def add(self, outputs: list[Output]) -> None:
        self.outputs.extend(outputs)


Item = tuple[RawInput, Event]
#: awaited before a batch: whether to decide it now
Ready = Callable[[], Awaitable[bool]]


def runs(items: Sequence[Item], starts: Callable[[RawInput], int]) -> list[tuple[bool, list[Item]]]:
    """``items`` cut into runs, in order, each marked whether it runs alone in the process:
    the records with no death against them (``starts`` 0) together; the suspects of one
    death (``starts`` 1) next to each other together, alone; a suspect of more deaths
    alone, one record per run.

    This bisects a batch the process died in: a kill that no input caused (the common
    case) costs one more run of its suspects, together; when they die again, each runs
    alone and only the one that kills the process is quarantined.
    """
    out: list[tuple[bool, list[Item]]] = []
    last = -1  # the starts of the run being built (-1: none, or a single suspect's)
    for item in items:
        n = starts(item[0])
        if n in (0, 1) and n == last:
            out[-1][1].append(item)
        else:
            out.append((n > 0, [item]))
            last = n if n in (0, 1) else -1
    return out


def write_cursors(guard: Guard, cursors: dict[Part, tuple[int, Event]]) -> None:
    """One cursor write per partition of a run (never moving a cursor back). A stage writes
    them last, once everything else of the run is on the broker: a record at or before its
    cursor is skipped when it comes again (:meth:`Batches.run`)."""
    for (topic, partition), (offset, ev) in cursors.items():
        key = cursor_key(topic, partition)
        with in_partition(ev):
            last = guard.cursors.get(key)
            if last is None or offset > last:
                guard.cursors[key] = offset


def consume(
    app: faust.App, topic: TopicT, name: str, batches: Batches, *, ready: Ready | None = None
) -> None:
    """The agent ``name`` over ``topic``, handing each fetched batch to ``batches``.

    ``ready`` (the ledger's: :meth:`gateway.worker.runtime.Runtime.until_running`) is
    awaited before each batch; when it says False the batch is left undecided, acknowledged
    as faust acknowledges the records it skips at a rebalance, and the contiguity guard or
    the watchdog brings its records back (``gateway.worker.gaps``).
    """

    async def agent(stream: StreamT[bytes]) -> None:
        async for batch in take_batches(stream, BATCH_MAX, BATCH_WITHIN_S, BATCH_MAX_BYTES):
            if ready is None or await ready():
                await batches.run(batch)

    app.agent(topic, name=name, concurrency=1)(agent)


class Batches:
    """Runs one agent's batches through its :class:`Stage` (see the module)."""

    def __init__(
        self, stage: Stage, guard: Guard, shield: Shield, seal: Seal, *, check_mac: bool
    ) -> None:
        self.stage = stage
        self.guard = guard
        self.shield = shield
        self.seal = seal
        self.check_mac = check_mac
        self.tally = InputTally(stage.step)
        self.batches = 0
        self.records = 0
        #: records skipped as handled already (at or before their partition's cursor)
        self.redelivered = 0
        # Seconds spent deciding and committing since the last report (every REPORT_S), and
        # the CPU seconds of the deciding (it does not await: the loop runs nothing else).
        self.spent = [0.0, 0.0, 0.0]
        self.counts = [0, 0]
        self.reported = time.monotonic()
        self.trail = Trail()  # a line per decision and dead letter (gateway.worker.trail)

    async def run(self, events: Sequence[Event]) -> None:
        """Decide and commit one batch; returns when it is durable (then faust acks it)."""
        try:
            items: list[Item] = []

            async def complete() -> None:
                items[:] = await self._complete(events)

            await self.shield.retry(self.stage.step, complete)  # the broker may fail
            self.tally.inputs(rec.topic for rec, _ in items)
            attempts = self.shield.attempts
            for solo, run in runs(items, attempts.starts):
                if solo:
                    rec = run[0][0]
                    log.warning(
                        "%s: %s[%d]@%d and %d more were in flight at %d deaths; "
                        "handling them alone",
                        self.stage.step, rec.topic, rec.partition, rec.offset,
                        len(run) - 1, attempts.starts(rec),
                    )  # fmt: skip
                async with self.shield.alone(solo):
                    await self.shield.retry(self.stage.step, self._attempt, run, solo)
        except Exception:
            # Not the input's fault (each record's exception is caught in _attempt) and not
            # the edge's (retried): a bug of this module. The events must not be acked, so
            # the process dies and the journal counts it against the run's records.
            log.critical("%s: a batch failed; exiting", self.stage.step, exc_info=True)
            logging.shutdown()
            os._exit(Exit.CRASHED)

    async def _complete(self, events: Sequence[Event]) -> list[Item]:
        """The batch's records by partition, in order, skipped ones put back and those at
        or before their partition's cursor (handled already) left out."""
        parts: dict[Part, list[Event]] = {}
        for ev in events:
            parts.setdefault((ev.message.topic, ev.message.partition), []).append(ev)
        items: list[Item] = []
        for (topic, partition), evs in parts.items():
            with in_partition(evs[-1]):
                last = self.guard.cursors.get(cursor_key(topic, partition))
            recs = await self.guard.complete(last, [raw_of(e.message) for e in evs])
            if last is not None and recs and recs[0].offset <= last:
                # handled already, its run whole on the broker (the cursor is written last):
                # a redelivery after a kill or a rebalance, before its offset was committed
                done = [r for r in recs if r.offset <= last]
                self.redelivered += len(done)
                log.info(
                    "%s: %s[%d]: %d records at or before the cursor %d skipped (handled "
                    "already: redelivered after a restart or a rebalance)",
                    self.stage.step, topic, partition, len(done), last,
                )  # fmt: skip
                # a death after the cursor's write and before the run's closing lines
                attempts = self.shield.attempts
                attempts.end_all([r for r in done if attempts.starts(r)])
                recs = [r for r in recs if r.offset > last]
            items.extend((r, evs[-1]) for r in recs)
        return items

    async def _attempt(self, run: list[Item], solo: bool = False) -> None:
        stage, shield, attempts = self.stage, self.shield, self.shield.attempts
        started, cpu = time.monotonic(), time.thread_time()
        stage.begin()
        self.trail.begin()
        begun = [rec for rec, _ in run]
        doomed = [attempts.doomed(rec) for rec in begun]
        cursors: dict[Part, tuple[int, Event]] = {}
        try:
            # A run of one suspect is alone in the process (Shield.alone): its death is its own.
            attempts.begin_all(
                [rec for rec, d in zip(begun, doomed, strict=True) if not d],
                alone=solo and len(run) == 1,
            )
            for (rec, ev), d in zip(run, doomed, strict=True):
                part = (rec.topic, rec.partition)
                if part not in cursors or rec.offset > cursors[part][0]:
                    cursors[part] = (rec.offset, ev)
                made = len(stage.outputs)
                if d:
                    stage.add(shield.quarantine_outputs(stage.step, rec, attempts.starts(rec)))
                else:
                    self._decide(rec, ev)
                self.trail.note(rec, made, len(stage.outputs))
            decided, cpu = time.monotonic(), time.thread_time() - cpu
            await stage.commit(cursors)
        except Exception as exc:
            if is_edge(exc):  # retried by the caller: the process did not die on these
                attempts.end_all(begun)
            raise
        attempts.end_all(begun)
        self.trail.emit(stage.step, stage.outputs)
        self.tally.batch()
        self.batches += 1
        self.records += len(run)
        self._account(len(run), decided - started, time.monotonic() - decided, cpu)

    def _account(self, records: int, decide_s: float, commit_s: float, cpu_s: float) -> None:
        self.counts[0] += 1
        self.counts[1] += records
        self.spent[0] += decide_s
        self.spent[1] += commit_s
        self.spent[2] += cpu_s
        now = time.monotonic()
        if now - self.reported >= REPORT_S:
            log.info(
                "%s: %d records in %d batches over %.0f s; deciding %.2f s (%.2f s of CPU), "
                "committing %.2f s",
                self.stage.step, self.counts[1], self.counts[0], now - self.reported,
                self.spent[0], self.spent[2], self.spent[1],
            )  # fmt: skip
            self.spent, self.counts, self.reported = [0.0, 0.0, 0.0], [0, 0], now

    def _decide(self, rec: RawInput, ev: Event) -> None:
        stage, shield = self.stage, self.shield
        if self.check_mac and (refusal := self.seal.refusal(rec)) is not None:
            stage.add(refusal[1])
            return
        try:
            shield.inject(rec)
            with in_partition(ev):
                stage.decide(rec, ev)
        except MemoryError:
            log.critical("%s: out of memory on %s; exiting", stage.step, rec.offset)
            logging.shutdown()
            os._exit(Exit.CRASHED)
        except Exception as exc:  # noqa: BLE001 - every exception is mapped, none lost
            if is_edge(exc):
                raise
            stage.add(shield.fault_outputs(stage.step, rec, exc))
