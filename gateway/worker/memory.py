"""The ledger's working state in memory, whose durable changelog is the ``decisions`` table.

The ledger agent decides against a plain :class:`gateway.core.state.LedgerState` held in
this process. Nothing else about it is stored: each value of the ``decisions`` table (a
faust table keyed ``source|id``, MAC-sealed, whose changelog takes one record per batch and
partition: ``gateway.worker.batched``) already carries the decision's effects and its
version (the input's offset in its ledger partition), so the state is the effects of the
stored decisions applied in version order.

**Recovery.** After partitions are revoked the state is marked stale. Each time the
``decisions`` table has recovered (at the start, after a rebalance), :meth:`LedgerMemory.recover`
makes the state of the ``a6.ledger`` partitions this worker holds, before the next decision:

- from the local snapshot (``gateway.worker.snapshots``) when it fits: the snapshot's
  state, then the stored decisions of the inputs after each partition's position (read back
  from ``a6.ledger``) whose version is after it, applied in version order; or
- from every stored decision of the partitions it holds, in version order (the full
  rebuild), when there is no snapshot or it does not fit.

Effects of different ledger partitions touch disjoint keys (an approach's blocks,
transfers, authorizations, Joint Committee decisions, openings and transactions are keyed
by the approach, which is the ledger partition key; accounts are keyed ``registry|account``
and written only by account events, routed ``registry:<id>``: see
:func:`gateway.core.ingest.routing_key`), so ordering stored decisions by their version
orders each partition's decisions as they were made, and the partitions do not interfere.

**Snapshots** are taken only when every effect in the state comes from a durable decision:
after a batch's flushes (:meth:`LedgerMemory.settled`, which also moves each partition's
position to the batch's last offset; every earlier input of the partition has been handled,
its decision durable), a few seconds after a recovery, and at revocation or shutdown if no
batch is half decided (``WorkerState.dirty``). The state is copied then (the records are shared,
never changed in place) and written in the background, atomically. So a snapshot holds
every durable decision of its partitions up to each position and nothing that was not
durable; no input at or before a position is decided after it, and every decision after it
has a version after it, which the catch-up re-applies. A crash while one is written leaves
the previous one. A snapshot taken of this worker's state after its partitions changed does
not fit (other partitions) and is not used.

**A decision is durable before any of its effects.** Within a batch the ledger decides each
input against the state with the earlier inputs' effects applied in memory, and puts its
decision into the table (its local store at once; the changelog takes the batch's
decisions together, a record per partition, at the next flush); it then waits until every
decision of the batch is on the broker (one flush) before it writes anything else: the
``accounts`` global table, the outputs (the signed decisions, notices and audit entries)
(one more flush); its cursors are written once that flush returned (their changelog record
goes out with the next writes). Only then are the batch's offsets committed. An input
redelivered at or before its partition's cursor is skipped: everything its batch wrote is
on the broker (``gateway.worker.batches``). A crash at any point therefore leaves each
input after the cursor either

- with its decision stored: the rebuilt state includes its effects, and the redelivered
  input takes the redelivery path of :func:`gateway.core.steps.ledger_step` (its stored
  effects re-applied, a no-op by version, and its stored outputs re-sent; the decision is
  put again, so a decision the local store kept but the changelog lost reaches the
  changelog before its outputs are sent again); or
- without it: nothing of it was written but its place in memory, gone with the process,
  and the redelivered input is decided again against the same state (the decisions before
  it in its partition).

**Accounts** are read by every partition. They stay in the ``accounts`` global table, a
copy of the account effects (with their version) written after the decisions flush. An
account key is written by one partition only: an account this worker's state holds belongs
to a partition it holds, whose every decision the state has (including, as a batch goes
on, the earlier inputs' account effects, which are not in the global table yet), so that
copy is read first; any other account is read from the global table, which the worker
holding its partition keeps.

The ``timeouts`` timer reads the transfers of the same state.

**Cost.** A full rebuild reads and decodes every stored decision (their outputs are most of
their bytes) and applies every effect; a restore decodes the snapshot and applies only the
decisions after it. Either derives the indexes once, in bulk (:meth:`WorkerState.load`).
A snapshot is written once the work (decisions + effects) since the last one reaches half
the state's records (at least :data:`SNAPSHOT_MIN_WORK`): writing one costs ~1 µs of CPU
per record (its bytes, MAC and write; ~5-8 µs before the bytes were made with orjson), so
snapshots cost ~2-3 µs per unit of work whatever the state's size, and a restart re-applies
at most that much work after one. Work below that threshold is
snapshotted once the ledger has had no batch for :data:`SNAPSHOT_IDLE_S` (:meth:`when_idle`):
after a burst, a restart re-applies nothing.

**Who makes the bytes** (config ``gateway.snapshot_writer``). By default the event loop, in
pieces of ~1 ms between the agents' batches (:func:`gateway.worker.snapshots.in_turns`),
from a copy of the state's mappings; a thread writes them. Or a forked child, from the state
as it was at the fork (``gateway.worker.forked``): the loop pays 7-25 ms for the fork of a
worker holding 130,000 records, not the ~250 ms of making the bytes, but the worker then
copies each memory page it writes while the child lives. Measured at 500 inputs/s on the
2-core benchmark machine, that copying took 16,500 page faults and 0.68 s of system time in
the 3 s after a fork (4,500 and 0.33 s with the loop making the bytes), most of it at once:
the worker stood still for about half a second and the p99 rose to 250-1,100 ms, against
230 ms in the loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from gateway.core.state import TableName
from gateway.worker import forked
from gateway.worker.snapshots import (
    Positions,
    SnapshotFile,
    chunks,
    in_turns,
    to_reapply,
)
from gateway.worker.workerstate import WorkerState, rebuild

log = logging.getLogger("a6gw.worker")

#: a snapshot is written once this much work (decisions + effects applied) was done since
#: the last one, and at least 1/SNAPSHOT_SHARE of the state's records: its cost stays a small
#: share of the work, and a restart re-applies at most that much after it
SNAPSHOT_MIN_WORK = 2_000
SNAPSHOT_SHARE = 2
#: no snapshot is started this long after a recovery (the first decisions come first)
SNAPSHOT_QUIET_S = 5.0
#: work not in a snapshot yet is snapshotted once no batch has settled for this long: a
#: burst that ended below the threshold leaves a restart nothing to re-apply
SNAPSHOT_IDLE_S = 2.0
#: reads each held partition's ``a6.ledger`` records from a position on (None: cannot)
Tails = Callable[[Mapping[int, int]], Awaitable["Mapping[int, Any] | None"]]


class LedgerMemory:
    """Holds the current :class:`WorkerState`: restored from the snapshot and the decisions
    after it, or rebuilt from every stored decision; writes the snapshots."""

    def __init__(
        self,
        decisions: Mapping[str, Any],
        accounts: Mapping[str, Any],
        snapshots: SnapshotFile | None = None,
    ) -> None:
        self.decisions = decisions
        self.accounts = accounts
        self.snapshots = snapshots
        self.stale = True
        self._state = WorkerState(decisions, accounts)
        self.rebuilds = 0
        self.restores = 0
        self.written = 0
        #: the snapshot positions of the state (None: not known, no snapshot is taken)
        self.positions: Positions | None = None
        self._work_at_snapshot = 0
        #: work since the last snapshot before the next is due (config: snapshot_every)
        self.min_work = SNAPSHOT_MIN_WORK
        #: a forked child makes the snapshots (config: snapshot_writer), else the loop does
        self.fork = False
        self._quiet_until = 0.0
        self._settled_at = 0.0
        self._writing: asyncio.Task[None] | None = None

    def mark_stale(self) -> None:
        self.stale = True

    def current(self) -> WorkerState:
        """The state, rebuilt first if it is stale (a step failed half applied)."""
        if self.stale:
            self._state = rebuild(self.decisions, self.accounts)
            # Mid-batch, the table holds the batch's decisions, not durable yet: no
            # snapshot until the batch has settled.
            self._state.dirty = True
            self.stale = False
            self.rebuilds += 1
        return self._state

    async def recover(
        self, held: set[int], cursor: Callable[[int], int | None], tails: Tails
    ) -> None:
        """The state of the ``a6.ledger`` partitions ``held``, once the ``decisions`` table
        has recovered: the snapshot and the decisions after it when the snapshot fits, else
        every stored decision (``cursor``: the ledger's cursor of a partition, the position
        of a state that has every stored decision)."""
        self.stale, self.positions = True, None
        started, cpu = time.monotonic(), time.process_time()
        snap = self.snapshots.load() if self.snapshots is not None else None
        if snap is not None and set(snap.positions) != held:
            log.info(
                "ledger snapshot of partitions %s ignored: this worker holds %s; rebuilding",
                sorted(snap.positions),
                sorted(held),
            )
            snap = None
        got = await tails(snap.positions) if snap is not None else None
        if snap is None or got is None:
            state = rebuild(self.decisions, self.accounts)
            positions = {p: _known(cursor(p)) for p in held}
            self.rebuilds += 1
            self._work_at_snapshot = 0  # a snapshot is due at the first settled batch
        else:
            later = to_reapply(snap.positions, got, self.decisions)
            state = WorkerState.restored(self.decisions, self.accounts, snap.tables, later)
            positions = dict(snap.positions)
            self.restores += 1
            # the file holds this state, unless decisions after it were re-applied
            self._work_at_snapshot = 0 if later else state.work
            log.info(
                "ledger state restored from its snapshot and %d later decisions in %.2f s "
                "(%.2f s CPU)",
                len(later),
                time.monotonic() - started,
                time.process_time() - cpu,
            )
        state.dirty = False
        self._state, self.stale, self.positions = state, False, positions
        # Not at once: the first decisions after a restart come first.
        self._quiet_until = time.monotonic() + SNAPSHOT_QUIET_S
        asyncio.get_running_loop().call_later(SNAPSHOT_QUIET_S, self._maybe_snapshot)

    def settled(self, positions: Mapping[int, int]) -> None:
        """Every decision whose effects the state has is durable, and every input of each
        partition up to ``positions`` has been handled: a snapshot may be taken now."""
        state = self._state
        if self.stale or self.positions is None:
            return
        for p, offset in positions.items():
            if p in self.positions:
                self.positions[p] = max(self.positions[p], offset)
        state.dirty = False
        self._settled_at = time.monotonic()
        self._maybe_snapshot()

    def when_idle(self) -> None:
        """Snapshot the work not in a snapshot yet once no batch has settled for
        :data:`SNAPSHOT_IDLE_S` (the worker's ``ledger-idle`` timer asks every second)."""
        now = time.monotonic()
        if (
            self._state.work > self._work_at_snapshot
            and now - self._settled_at >= SNAPSHOT_IDLE_S
            and now >= self._quiet_until
        ):
            self.snapshot()

    def _maybe_snapshot(self) -> None:
        state = self._state
        if time.monotonic() < self._quiet_until:
            return
        due = max(self.min_work, state.size() // SNAPSHOT_SHARE)
        if state.work - self._work_at_snapshot >= due:
            self.snapshot()

    def snapshot(self) -> None:
        """Start writing a snapshot of the state as it is now, if it may be taken and none
        is being written: the state is copied now and the bytes are made in the event loop,
        in turns with the agents, and written in a thread; or, with :attr:`fork` and where
        the process can fork, a forked child writes it (``gateway.worker.forked``)."""
        state = self._state
        if (
            self.snapshots is None
            or self.positions is None
            or self.stale
            or state.dirty
            or (self._writing is not None and not self._writing.done())
        ):
            return
        self._work_at_snapshot = state.work
        positions, file = dict(self.positions), self.snapshots
        started = time.monotonic()
        pid = None
        if self.fork:
            pid = forked.start(lambda: file.write(list(chunks(positions, state.tables_now()))))
        loop = asyncio.get_running_loop()
        if pid is None:
            self._writing = loop.create_task(self._write(positions, state.tables_now()))
            return
        fork_s = time.monotonic() - started
        records = state.snapshot_records()
        self._writing = loop.create_task(self._reap(pid, positions, records, started, fork_s))

    async def _reap(
        self, pid: int, positions: Positions, records: int, started: float, fork_s: float
    ) -> None:
        end = await forked.exited(pid)
        if end is None or end.code != 0:
            code = None if end is None else end.code
            log.warning("ledger snapshot not written (its writer, pid %d, exited %s)", pid, code)
            return
        how = f"by pid {pid} with {end.cpu_s:.2f} s of CPU, forked in {fork_s * 1e3:.1f} ms"
        self._written(positions, records, started, how)

    async def _write(self, positions: Positions, tables: dict[TableName, dict[str, Any]]) -> None:
        assert self.snapshots is not None
        started = time.monotonic()
        parts = await in_turns(chunks(positions, tables))
        try:
            await asyncio.to_thread(self.snapshots.write, parts)
        except OSError as exc:
            log.warning("ledger snapshot not written (%s)", exc)
            return
        self._written(positions, sum(len(t) for t in tables.values()), started, "in the loop")

    def _written(self, positions: Positions, records: int, started: float, how: str) -> None:
        self.written += 1
        log.info(
            "ledger snapshot written (%d records, positions %s) in %.2f s, %s",
            records,
            positions,
            time.monotonic() - started,
            how,
        )

    async def revoked(self) -> None:
        """Partitions are being revoked: snapshot the state if it may be, then mark it
        stale until :meth:`recover`."""
        if self._state.work != self._work_at_snapshot:
            self.snapshot()
        self.stale, self.positions = True, None

    async def close(self) -> None:
        """At shutdown: a last snapshot if the state may be taken, and wait for it."""
        if not self.stale and self._state.work != self._work_at_snapshot:
            self.snapshot()
        if self._writing is not None:
            await self._writing


def _known(offset: int | None) -> int:
    return -1 if offset is None else int(offset)
