"""The contiguity guard and the watchdog: pure decisions, and the guard over a fake reader."""

from __future__ import annotations

import asyncio

import pytest

from gateway.core.ingest import RawInput
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC
from gateway.worker.gaps import Guard, cursor_key, missing
from gateway.worker.watch import Restart, Seek, Status, Watch, skipped, waiting


def rec(offset: int, topic: str = LEDGER_TOPIC, partition: int = 2) -> RawInput:
    return RawInput(topic, partition, offset, b"k", f"v{offset}".encode(), 0)


class FakeReader:
    """Serves records from a list, as the broker would; counts what was asked."""

    def __init__(self, log: list[RawInput]) -> None:
        self.log = log
        self.asked: list[range] = []

    async def read(self, topic: str, partition: int, wanted: range) -> list[RawInput]:
        self.asked.append(wanted)
        return [r for r in self.log if r.offset in wanted]


@pytest.mark.parametrize(
    ("last", "offset", "expected"),
    [
        (None, 0, range(0)),
        (None, 3, range(3)),
        (4, 5, range(0)),
        (4, 4, range(0)),  # a redelivery
        (4, 2, range(0)),  # an older redelivery
        (4, 9, range(5, 9)),
    ],
)
def test_missing(last: int | None, offset: int, expected: range) -> None:
    assert missing(last, offset) == expected


def test_guard_processes_a_skipped_range_first_and_in_order() -> None:
    log = [rec(i) for i in range(10)]
    reader = FakeReader(log)
    cursors: dict[str, int] = {cursor_key(LEDGER_TOPIC, 2): 3}
    guard = Guard(cursors, reader)  # type: ignore[arg-type]
    handled: list[int] = []

    async def handle(r: RawInput) -> None:
        handled.append(r.offset)

    async def scenario() -> None:
        await guard.run(log[7], handle)  # 4..6 were skipped by the consumer
        await guard.run(log[8], handle)
        await guard.run(log[5], handle)  # a late redelivery is handled, the cursor stays

    asyncio.run(scenario())
    assert handled == [4, 5, 6, 7, 8, 5]
    assert reader.asked == [range(4, 7)]
    assert guard.filled == 3
    assert cursors[cursor_key(LEDGER_TOPIC, 2)] == 8


def test_guard_leaves_the_cursor_where_the_handler_failed() -> None:
    log = [rec(i) for i in range(6)]
    cursors: dict[str, int] = {cursor_key(LEDGER_TOPIC, 2): 1}
    guard = Guard(cursors, FakeReader(log))  # type: ignore[arg-type]

    async def handle(r: RawInput) -> None:
        if r.offset == 3:
            raise RuntimeError("broker gone")

    with pytest.raises(RuntimeError):
        asyncio.run(guard.run(log[5], handle))
    assert cursors[cursor_key(LEDGER_TOPIC, 2)] == 2  # 3 is read again next time


def test_complete_puts_skipped_records_back_into_a_batch() -> None:
    log = [rec(i, AUDIT_TOPIC, 0) for i in range(12)]
    guard = Guard({}, FakeReader(log))  # type: ignore[arg-type]
    batch = [log[0], log[1], log[5], log[6], log[11]]
    done = asyncio.run(guard.complete(None, batch))
    assert [r.offset for r in done] == list(range(12))
    assert [r.offset for r in asyncio.run(guard.complete(6, [log[3], log[7]]))] == [3, 7]


def test_status_predicates() -> None:
    assert skipped(Status(last=4, committed=9, end=9))
    assert not skipped(Status(last=8, committed=9, end=9))
    assert not skipped(Status(last=None, committed=None, end=5))
    assert skipped(Status(last=None, committed=3, end=5))
    assert waiting(Status(last=None, committed=None, end=5))
    assert not waiting(Status(last=4, committed=5, end=5))


def check(watch: Watch, key: str, status: Status, now: float) -> Seek | Restart | None:
    """One partition, alone on its agent."""
    actions = dict(watch.check_all([(key, "ingest", status)], now))
    return actions.get(key)


def test_watch_seeks_a_skipped_tail_at_once() -> None:
    watch = Watch(stall_s=30)
    assert check(watch, "t#0", Status(last=4, committed=9, end=9), now=0.0) == Seek(5)


def test_watch_seeks_a_stalled_partition_after_stall_s_then_restarts() -> None:
    watch = Watch(stall_s=30)
    stalled = Status(last=4, committed=5, end=20)
    assert check(watch, "t#0", stalled, now=0.0) is None
    assert check(watch, "t#0", stalled, now=29.0) is None
    assert check(watch, "t#0", stalled, now=30.0) == Seek(5)
    assert check(watch, "t#0", stalled, now=31.0) is None  # the seek gets stall_s to work
    action = check(watch, "t#0", stalled, now=60.0)
    assert isinstance(action, Restart)
    assert "t#0" in action.reason and "offset 4" in action.reason


def test_watch_a_seek_that_helps_starts_the_clock_again() -> None:
    watch = Watch(stall_s=30)
    assert check(watch, "t#0", Status(last=4, committed=9, end=9), now=0.0) == Seek(5)
    assert check(watch, "t#0", Status(last=8, committed=9, end=9), now=10.0) is None
    assert check(watch, "t#0", Status(last=8, committed=9, end=30), now=35.0) is None
    assert check(watch, "t#0", Status(last=8, committed=9, end=30), now=64.0) is None
    assert check(watch, "t#0", Status(last=8, committed=9, end=30), now=65.0) == Seek(9)


def test_watch_counts_a_stall_from_when_records_wait_not_from_an_idle_spell() -> None:
    """A partition caught up for minutes, then given records: its agent gets ``stall_s`` to
    take them (the benchmark's phases: the ingest agent idles while the ledger works)."""
    watch = Watch(stall_s=10)
    for step in range(10):  # caught up, the agent idle
        assert check(watch, "t#0", Status(last=8, committed=9, end=9), now=step * 5.0) is None
    arrived = Status(last=8, committed=9, end=500)
    assert check(watch, "t#0", arrived, now=50.0) is None
    assert check(watch, "t#0", arrived, now=55.0) is None
    assert check(watch, "t#0", Status(last=300, committed=9, end=500), now=57.5) is None
    assert check(watch, "t#0", Status(last=300, committed=301, end=500), now=60.0) is None
    # and one that truly stalls once its records wait is sought stall_s later
    stuck = Status(last=300, committed=301, end=900)
    assert check(watch, "t#0", stuck, now=62.5) is None
    assert check(watch, "t#0", stuck, now=70.0) == Seek(301)


def test_watch_leaves_a_waiting_partition_alone_while_its_agent_is_busy() -> None:
    """A busy agent works through other partitions' batches first: not a stall."""
    watch = Watch(stall_s=10)
    waiting_p0 = Status(last=4, committed=5, end=500)
    for step in range(20):
        busy_p1 = Status(last=100 + step * 50, committed=100, end=5000)
        actions = watch.check_all(
            [("t#0", "ingest", waiting_p0), ("t#1", "ingest", busy_p1)], now=step * 5.0
        )
        assert actions == []
    # Another agent moving does not count: the ledger's progress says nothing of ingest.
    watch = Watch(stall_s=10)
    seen = []
    for step in range(3):
        ledger = Status(last=step, committed=0, end=100)
        seen += watch.check_all(
            [("t#0", "ingest", waiting_p0), ("l#0", "ledger", ledger)], now=step * 5.0
        )
    assert seen == [("t#0", Seek(5))]


def test_watch_leaves_a_moving_partition_alone() -> None:
    watch = Watch(stall_s=30)
    for step in range(10):
        status = Status(last=step * 10, committed=step * 10 + 1, end=500)
        assert check(watch, "t#0", status, now=step * 20.0) is None


def test_watch_leaves_a_caught_up_partition_alone() -> None:
    watch = Watch(stall_s=1)
    for step in range(5):
        assert check(watch, "t#0", Status(last=9, committed=10, end=10), now=step * 10.0) is None


def test_watch_forgets_partitions_it_no_longer_owns() -> None:
    watch = Watch(stall_s=30)
    status = Status(last=4, committed=5, end=20)
    check(watch, "t#0", status, now=0.0)
    watch.forget(set())
    assert check(watch, "t#0", status, now=40.0) is None  # the partition's clock starts again


def test_after_a_kill_the_watch_counts_the_redelivery_as_progress_and_never_seeks_past_it() -> None:
    """kill -9 during a batch's flush: the local cursor (2022) is ahead of the committed
    offset (1973). The records between are decided again without moving the cursor; the
    group's commits show the progress. A partition stalled there is sought back to the
    committed offset, not past the records the crash may have left undone."""
    watch = Watch(stall_s=10)
    for step, committed in enumerate([1973, 1990, 2005, 2020, 2023]):
        status = Status(last=2022, committed=committed, end=5000)
        assert check(watch, "t#0", status, now=step * 6.0) is None
    watch = Watch(stall_s=10)
    stuck = Status(last=2022, committed=1973, end=5000)
    assert check(watch, "t#0", stuck, now=0.0) is None
    assert check(watch, "t#0", stuck, now=10.0) == Seek(1973)
    # A skipped tail still goes back to the cursor + 1, below the committed offset.
    assert check(Watch(stall_s=10), "t#1", Status(last=4, committed=9, end=9), 0.0) == Seek(5)
