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
from gateway.worker.standbys import StandbyWait, lagging, standbys_caught_up

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
class FakeApp:
    recovery: FakeRecovery = field(default_factory=FakeRecovery)
    rebalancing: bool = False
    flow_control: FakeFlow = field(default_factory=FakeFlow)
    consumer_generation_id: int = 1
    should_stop: bool = False

    @property
    def tables(self) -> Any:
        return self


def runtime(app: FakeApp, wait: StandbyWait | None = None) -> Runtime:
    """A Runtime with only the app: running() and until_running() read nothing else."""
    rt = object.__new__(Runtime)
    rt.app = cast(Any, app)
    rt.standbys = wait or StandbyWait(limit_s=60.0)
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


def test_the_wait_for_the_standbys_is_bounded_per_recovery() -> None:
    """faust can drop a standby partition's records as recovery ends and never read them:
    past the bound the worker decides (and says how far behind its copy is)."""
    app = FakeApp()
    app.recovery.completed.set()
    app.recovery.standby_highwaters[OTHERS] = 3
    app.recovery.standby_offsets[OTHERS] = 1
    assert lagging(app.recovery) == {OTHERS: 2}
    now = [100.0]
    rt = runtime(app, StandbyWait(limit_s=15.0, clock=lambda: now[0]))
    assert not rt.running()
    now[0] = 114.0
    assert not rt.running()
    now[0] = 115.0
    assert rt.running()
    # A new recovery (another generation) waits again.
    app.consumer_generation_id = 2
    assert not rt.running()
    now[0] = 131.0
    assert rt.running()


def test_a_stopping_worker_is_not_running() -> None:
    """faust closes the tables while the timers still run: the watchdog read every cursor
    as None and sought each partition to offset 0 (seen as the recovery run's worker
    stopped)."""
    app = FakeApp()
    app.recovery.completed.set()
    rt = runtime(app)
    assert rt.running()
    app.should_stop = True
    assert not rt.running()
    assert asyncio.run(asyncio.wait_for(rt.until_running(poll_s=0.001), 1)) is False
