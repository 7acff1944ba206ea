"""When a worker may decide: not while rebalancing, not before its tables recovered, and not
before its copy of the global ``accounts`` table has read what other workers wrote (faust
resumes the streams before it reads a global table's standby partitions)."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, cast

from faust.types import TP

from gateway.worker.runtime import Runtime
from gateway.worker.standbys import CatchUp, standbys_caught_up

OTHERS = TP("a6gw-demo-accounts-changelog", 1)
MINE = TP("a6gw-demo-accounts-changelog", 0)


@dataclass
class FakeRecovery:
    standby_tps: set[TP] = field(default_factory=lambda: {OTHERS})
    standby_offsets: Counter[TP] = field(default_factory=Counter)
    standby_highwaters: Counter[TP] = field(default_factory=Counter)
    completed: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class FakeFlow:
    active: bool = True

    def is_active(self) -> bool:
        return self.active


@dataclass
class FakeConsumer:
    """Seeks the standby partition as faust's consumer would: its records come again and
    recovery applies the ones after what it read."""

    recovery: FakeRecovery
    seeks: list[tuple[TP, int]] = field(default_factory=list)

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))
        self.recovery.standby_offsets[tp] = self.recovery.standby_highwaters[tp]


@dataclass
class FakeApp:
    recovery: FakeRecovery = field(default_factory=FakeRecovery)
    rebalancing: bool = False
    flow_control: FakeFlow = field(default_factory=FakeFlow)

    @property
    def consumer(self) -> FakeConsumer:
        return self._consumer

    def __post_init__(self) -> None:
        self._consumer = FakeConsumer(self.recovery)

    @property
    def tables(self) -> Any:
        return self


def runtime(app: FakeApp) -> Runtime:
    """A Runtime with only the app: running() and until_running() read nothing else."""
    rt = object.__new__(Runtime)
    rt.app = cast(Any, app)
    rt.standbys = CatchUp()
    return rt


def test_standbys_caught_up_compares_each_standby_offset_with_its_highwater() -> None:
    rec = FakeRecovery()
    rec.standby_highwaters[OTHERS] = 9
    rec.standby_offsets[OTHERS] = None  # type: ignore[assignment]  # nothing read yet
    assert not standbys_caught_up(rec)
    rec.standby_offsets[OTHERS] = 8
    assert not standbys_caught_up(rec)
    rec.standby_offsets[OTHERS] = 9
    assert standbys_caught_up(rec)
    # An empty standby partition (highwater -1) has nothing to wait for.
    rec.standby_highwaters[OTHERS] = -1
    rec.standby_offsets[OTHERS] = None  # type: ignore[assignment]
    assert standbys_caught_up(rec)
    # Highwaters of partitions no longer standbys here are not waited for.
    rec.standby_highwaters[MINE] = 50
    assert standbys_caught_up(rec)


def test_a_restarted_worker_is_not_running_until_it_read_the_other_workers_accounts() -> None:
    app = FakeApp()
    app.recovery.completed.set()
    app.recovery.standby_highwaters[OTHERS] = 3
    app.recovery.standby_offsets[OTHERS] = -1
    rt = runtime(app)
    assert not rt.running()  # its own partitions are recovered, the others' accounts not
    app.recovery.standby_offsets[OTHERS] = 3
    assert rt.running()
    app.rebalancing = True
    assert not rt.running()
    app.rebalancing = False
    app.recovery.completed.clear()
    assert not rt.running()


def test_until_running_waits_for_the_standbys_to_catch_up() -> None:
    app = FakeApp()
    app.recovery.completed.set()
    app.recovery.standby_highwaters[OTHERS] = 3
    app.recovery.standby_offsets[OTHERS] = 0
    rt = runtime(app)

    async def main() -> tuple[bool, bool]:
        waiting = asyncio.ensure_future(rt.until_running(poll_s=0.001))
        await asyncio.sleep(0.02)
        before = waiting.done()
        app.recovery.standby_offsets[OTHERS] = 3  # the changelog read to its end
        return before, await asyncio.wait_for(waiting, 1)

    assert asyncio.run(main()) == (False, True)


def test_until_running_gives_up_when_a_rebalance_suspends_the_flow() -> None:
    """faust waits at a revocation for the batch in hand to be acknowledged: waiting on
    would hang the rebalance."""
    app = FakeApp()
    rt = runtime(app)  # recovery not completed

    async def main() -> bool:
        waiting = asyncio.ensure_future(rt.until_running(poll_s=0.001))
        await asyncio.sleep(0.01)
        app.rebalancing = True
        app.flow_control.active = False
        return await asyncio.wait_for(waiting, 1)

    assert asyncio.run(main()) is False


def test_the_start_of_a_worker_is_waited_out_not_given_up() -> None:
    """faust resumes the flow, then ends the rebalance: a batch in between waits."""
    app = FakeApp(rebalancing=True)
    app.recovery.completed.set()
    rt = runtime(app)

    async def main() -> bool:
        waiting = asyncio.ensure_future(rt.until_running(poll_s=0.001))
        await asyncio.sleep(0.01)
        app.rebalancing = False
        return await asyncio.wait_for(waiting, 1)

    assert asyncio.run(main()) is True


def test_a_standby_partition_whose_records_faust_dropped_is_sought_back() -> None:
    """faust clears its changelog queue as recovery ends: the standby partition's records
    fetched by then never come. It stands still at offset 1 of 3 until sought back to 2."""
    app = FakeApp()
    app.recovery.completed.set()
    app.recovery.standby_highwaters[OTHERS] = 3
    app.recovery.standby_offsets[OTHERS] = 1
    rt = runtime(app)
    assert asyncio.run(asyncio.wait_for(rt.until_running(poll_s=0.01), 5)) is True
    assert app.consumer.seeks == [(OTHERS, 2)]


def test_catch_up_seeks_only_a_partition_that_read_nothing_for_a_while() -> None:
    rec = FakeRecovery()
    rec.standby_highwaters[OTHERS] = 9
    rec.standby_offsets[OTHERS] = None  # type: ignore[assignment]
    consumer = FakeConsumer(rec)
    consumer_seek = consumer.seek

    async def seek_only(tp: TP, offset: int) -> None:  # the records come later
        consumer.seeks.append((tp, offset))

    consumer.seek = seek_only  # type: ignore[method-assign]
    now = [0.0]
    catch = CatchUp(clock=lambda: now[0])

    def look(at: float) -> list[tuple[TP, int]]:
        now[0] = at
        return asyncio.run(catch.nudge(consumer, rec))

    assert look(0.0) == []  # first look: it may be reading
    rec.standby_offsets[OTHERS] = 4
    assert look(1.5) == []  # it moved
    assert look(3.0) == []  # still for 1.5 s only
    assert look(3.5) == [(OTHERS, 5)]  # still for 2 s: read again after 4
    assert look(4.0) == []  # another caller looks soon after: the seek gets its time
    assert look(5.5) == [(OTHERS, 5)]
    consumer.seek = consumer_seek  # type: ignore[method-assign]
    rec.standby_offsets[OTHERS] = 9
    assert look(6.0) == [] and catch.marks == {}  # caught up: forgotten
