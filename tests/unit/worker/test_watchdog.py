"""The watchdog timer: it checks only a running worker, and its clocks start again after a
recovery (a partition that stood still while the tables recovered is not stuck)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from gateway.worker.agents.watchdog import _Watchdog
from gateway.worker.watch import Seek, Status, Watch


class Dog(_Watchdog):
    """The watchdog with its broker check counted instead of made."""

    checks = 0

    async def check(self) -> None:
        self.checks += 1


def test_the_watchdog_forgets_its_clocks_while_the_worker_is_not_running() -> None:
    running = [True]
    rt: Any = SimpleNamespace(owners={}, running=lambda: running[0])
    watch = Watch(stall_s=10)
    dog = Dog(rt, watch, probe=None)  # type: ignore[arg-type]
    stalled = Status(last=4, committed=5, end=20)
    assert watch.check_all([("t#0", "ledger", stalled)], now=0.0) == []
    asyncio.run(dog.tick())
    assert dog.checks == 1
    # Recovery, or a rebalance, takes 30 s: the partition stands still meanwhile.
    running[0] = False
    asyncio.run(dog.tick())
    assert dog.checks == 1
    running[0] = True
    assert watch.check_all([("t#0", "ledger", stalled)], now=30.0) == []  # not stuck yet
    assert watch.check_all([("t#0", "ledger", stalled)], now=40.0) == [("t#0", Seek(5))]
