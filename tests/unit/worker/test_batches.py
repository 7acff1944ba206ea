"""Batches: decided in order, one commit per run, one cursor per partition; one input's
fault does not fail its batch; deaths pin suspects, which run alone (the bisection)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.core.topics import DLQ_TOPIC, LEDGER_TOPIC
from gateway.worker import batches as batches_module
from gateway.worker.batches import (
    BATCH_MAX,
    BATCH_MAX_BYTES,
    BATCH_WITHIN_S,
    Batches,
    Event,
    Part,
    consume,
    runs,
    write_cursors,
)
from gateway.worker.faults import MAX_ALONE, Attempts, Shield
from gateway.worker.gaps import Guard, cursor_key
from gateway.worker.sealed import Seal


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes = b"k"
    value: bytes = b"v"
    timestamp: float = 1_700_000_000.0
    timestamp_type: int = 1
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(eq=False)
class FakeEvent:
    message: Message


def events(partition: int, offsets: list[int], marker: dict[int, bytes] | None = None) -> Any:
    marker = marker or {}
    return [
        FakeEvent(Message(LEDGER_TOPIC, partition, o, value=marker.get(o, b"ok"))) for o in offsets
    ]


class FakeReader:
    def __init__(self) -> None:
        self.asked: list[tuple[int, range]] = []

    async def read(self, topic: str, partition: int, wanted: range) -> list[RawInput]:
        self.asked.append((partition, wanted))
        return [RawInput(topic, partition, o, b"k", b"ok", 0) for o in wanted]


class Recorder:
    """A stage that records what it decides and commits; raises on a b"bad" value, fails
    the edge on its first ``edge_failures`` commits, or raises a bug in commit."""

    step = "ledger"

    def __init__(self, guard: Guard, *, edge_failures: int = 0, bug: bool = False) -> None:
        self.guard = guard
        self.decided: list[tuple[int, int]] = []
        self.commits: list[list[tuple[int, int]]] = []
        self.outputs: list[Output] = []
        self.sent: list[Output] = []
        self.run: list[tuple[int, int]] = []
        self.edge_failures = edge_failures
        self.bug = bug

    def begin(self) -> None:
        self.outputs, self.run = [], []

    def add(self, outputs: list[Output]) -> None:
        self.outputs.extend(outputs)

    def decide(self, rec: RawInput, event: Event) -> None:
        assert event.message.partition == rec.partition
        if rec.value == b"bad":
            raise RecursionError("a bug of the step")
        self.decided.append((rec.partition, rec.offset))
        self.run.append((rec.partition, rec.offset))

    async def commit(self, cursors: dict[Part, tuple[int, Event]]) -> None:
        if self.bug:
            raise ValueError("a bug of the commit")
        if self.edge_failures:
            self.edge_failures -= 1
            raise KafkaConnectionError()
        write_cursors(self.guard, cursors)
        self.commits.append(self.run)
        self.sent.extend(self.outputs)


def setup(tmp_path: Path, **kw: Any) -> tuple[Batches, Recorder, dict[str, int], FakeReader]:
    cursors: dict[str, int] = {}
    reader = FakeReader()
    guard = Guard(cursors, reader)  # type: ignore[arg-type]
    stage = Recorder(guard, **kw)

    async def send_all(outputs: list[Output]) -> None:
        stage.add(outputs)

    shield = Shield(Attempts(tmp_path / "attempts.log"), send_all, pause_s=0.01)
    seal = Seal(b"k" * 32, skew_s=300)
    return Batches(stage, guard, shield, seal, check_mac=False), stage, cursors, reader


def test_runs_put_the_suspects_of_one_death_together_and_the_others_each_alone() -> None:
    items: Any = [(RawInput("t", 0, o, None, b"", 0), None) for o in range(9)]
    deaths = {2: 1, 3: 1, 4: 2, 5: 3, 6: 1, 8: 2}
    cut = runs(items, lambda r: deaths.get(r.offset, 0))
    assert [(solo, [i[0].offset for i in run]) for solo, run in cut] == [
        (False, [0, 1]),
        (True, [2, 3]),
        (True, [4]),
        (True, [5]),
        (True, [6]),
        (False, [7]),
        (True, [8]),
    ]


def test_a_batch_is_decided_in_order_and_committed_once_with_one_cursor_per_partition(
    tmp_path: Path,
) -> None:
    batches, stage, cursors, reader = setup(tmp_path)
    cursors[cursor_key(LEDGER_TOPIC, 1)] = 2
    batch = [*events(0, [0, 1]), *events(1, [5, 6]), *events(0, [2])]  # 3..4 of p1 skipped
    asyncio.run(batches.run(batch))
    assert reader.asked == [(1, range(3, 5))]
    assert stage.commits == [[(0, 0), (0, 1), (0, 2), (1, 3), (1, 4), (1, 5), (1, 6)]]
    assert cursors == {cursor_key(LEDGER_TOPIC, 0): 2, cursor_key(LEDGER_TOPIC, 1): 6}
    assert batches.shield.attempts.pending == {}


def test_records_at_or_before_their_cursor_are_handled_already_and_skipped(
    tmp_path: Path,
) -> None:
    """A redelivery after a kill or a rebalance (its offsets not committed yet): everything
    its run wrote is on the broker, since the cursor is written last."""
    batches, stage, cursors, reader = setup(tmp_path)
    cursors[cursor_key(LEDGER_TOPIC, 0)] = 2
    # a death after the cursor's write, before the run's closing lines
    batches.shield.attempts.begin_all([RawInput(LEDGER_TOPIC, 0, 2, b"k", b"ok", 0)])
    asyncio.run(batches.run(events(0, [1, 2])))
    assert stage.decided == [] and stage.commits == [] and batches.redelivered == 2
    assert batches.shield.attempts.pending == {}  # closed: it will not run again
    assert cursors[cursor_key(LEDGER_TOPIC, 0)] == 2  # never moved back
    asyncio.run(batches.run([*events(0, [2, 3]), *events(1, [0])]))
    assert stage.commits == [[(0, 3), (1, 0)]] and batches.redelivered == 3
    assert cursors == {cursor_key(LEDGER_TOPIC, 0): 3, cursor_key(LEDGER_TOPIC, 1): 0}
    assert reader.asked == [] and batches.shield.attempts.pending == {}


def test_one_input_that_raises_is_a_dead_letter_and_its_batch_goes_on(tmp_path: Path) -> None:
    batches, stage, _, _ = setup(tmp_path)
    asyncio.run(batches.run(events(0, [0, 1, 2], {1: b"bad"})))
    assert stage.commits == [[(0, 0), (0, 2)]]
    letters = [json.loads(o.value) for o in stage.sent if o.topic == DLQ_TOPIC]
    assert [(d["offset"], d["reason_code"]) for d in letters] == [(1, "GWF-001")]
    assert letters[0]["fault"] == {"step": "ledger", "exception": "RecursionError"}
    assert batches.shield.attempts.pending == {}


def test_an_edge_error_retries_the_whole_run(tmp_path: Path) -> None:
    batches, stage, _, _ = setup(tmp_path, edge_failures=2)
    asyncio.run(batches.run(events(0, [0, 1])))
    assert stage.decided == [(0, 0), (0, 1)] * 3  # decided again: the steps are idempotent
    assert stage.commits == [[(0, 0), (0, 1)]]
    assert batches.shield.attempts.pending == {}  # the edge failed, not the process


def test_a_bug_outside_the_steps_kills_the_process_and_counts_against_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exit_(status: int) -> None:
        raise SystemExit(status)

    monkeypatch.setattr(os, "_exit", exit_)
    batches, _, _, _ = setup(tmp_path, bug=True)
    with pytest.raises(SystemExit):
        asyncio.run(batches.run(events(0, [0, 1, 2])))
    journal = Attempts(tmp_path / "attempts.log")
    assert journal.pending == {(LEDGER_TOPIC, 0, o): 1 for o in (0, 1, 2)}


def test_after_a_death_the_suspects_run_alone_and_the_culprit_is_quarantined(
    tmp_path: Path,
) -> None:
    """A death in a batch's flush counts against its records 0..3; the culprit, 2, killed
    the process twice more on its own. On this start the suspects before it run together,
    alone in the process, and are cleared, 2 is quarantined unhandled, 3 runs alone, and
    the rest runs together."""
    path = tmp_path / "attempts.log"
    journal = Attempts(path)
    journal.begin_all([RawInput(LEDGER_TOPIC, 0, o, None, b"", 0) for o in range(4)])
    for _ in range(MAX_ALONE):
        journal.begin(RawInput(LEDGER_TOPIC, 0, 2, None, b"", 0), alone=True)
    journal.close()
    batches, stage, cursors, _ = setup(tmp_path)
    asyncio.run(batches.run(events(0, list(range(6)))))
    assert stage.commits == [[(0, 0), (0, 1)], [], [(0, 3)], [(0, 4), (0, 5)]]
    letters = [json.loads(o.value) for o in stage.sent if o.topic == DLQ_TOPIC]
    assert [(d["offset"], d["reason_code"]) for d in letters] == [(2, "GWF-002")]
    assert Attempts(path).pending == {}
    assert cursors[cursor_key(LEDGER_TOPIC, 0)] == 5


def test_kills_from_outside_in_the_batch_and_the_suspects_run_do_not_quarantine(
    tmp_path: Path,
) -> None:
    """3 was in flight at three kills no input caused: in its batch, in the suspects' run,
    and once alone. One death alone is not enough: it runs alone again and is decided."""
    path = tmp_path / "attempts.log"
    journal = Attempts(path)
    journal.begin_all([RawInput(LEDGER_TOPIC, 0, o, None, b"", 0) for o in range(5)])
    journal.begin_all([RawInput(LEDGER_TOPIC, 0, o, None, b"", 0) for o in (3, 4)])
    journal.begin(RawInput(LEDGER_TOPIC, 0, 3, None, b"", 0), alone=True)
    journal.close()
    reopened = Attempts(path)  # compacted as it opens: the counts hold
    three = RawInput(LEDGER_TOPIC, 0, 3, None, b"", 0)
    assert (reopened.starts(three), reopened.alone) == (3, {(LEDGER_TOPIC, 0, 3): 1})
    reopened.close()
    batches, stage, _, _ = setup(tmp_path)
    asyncio.run(batches.run(events(0, list(range(6)))))
    assert stage.commits == [[(0, 0), (0, 1), (0, 2)], [(0, 3)], [(0, 4)], [(0, 5)]]
    assert [o for o in stage.sent if o.topic == DLQ_TOPIC] == []
    assert Attempts(path).pending == {}


def test_an_input_that_kills_the_process_is_quarantined_after_two_deaths_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Start after start on the same records, 2 kills the process: in the batch, in the
    suspects' run, then twice alone; the next start quarantines it and decides the rest."""

    def exit_(status: int) -> None:
        raise SystemExit(status)

    monkeypatch.setattr(os, "_exit", exit_)
    monkeypatch.setenv("A6GW_TEST_FAULTS", "exit:poison")
    deaths = 0
    while True:
        batches, stage, _, _ = setup(tmp_path)
        try:
            asyncio.run(batches.run(events(0, list(range(4)), {2: b"poison"})))
            break
        except SystemExit:
            deaths += 1
        finally:
            batches.shield.attempts.close()
    assert deaths == 2 + MAX_ALONE
    assert [(0, 2)] not in stage.commits and stage.commits[-1] == [(0, 3)]
    letters = [json.loads(o.value) for o in stage.sent if o.topic == DLQ_TOPIC]
    assert [(d["offset"], d["reason_code"]) for d in letters] == [(2, "GWF-002")]
    assert "after 4 starts" in letters[0]["reason"]


class FakeStream:
    """A stream whose batches are given (the batching is ``test_faust_batches``'s)."""

    def __init__(self, batches: list[list[Any]]) -> None:
        self.batches = batches


async def fake_take(stream: FakeStream, n: int, within: float, max_bytes: int) -> Any:
    assert (n, within, max_bytes) == (BATCH_MAX, BATCH_WITHIN_S, BATCH_MAX_BYTES)
    for batch in stream.batches:
        yield batch


class FakeApp:
    """Keeps the agent function ``consume`` declares."""

    def __init__(self) -> None:
        self.agents: dict[str, Any] = {}

    def agent(self, topic: Any, name: str, concurrency: int) -> Any:
        assert concurrency == 1

        def declare(fn: Any) -> Any:
            self.agents[name] = fn
            return fn

        return declare


def test_consume_decides_a_batch_only_once_ready_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger waits for its tables (the global accounts' copy included) before each
    batch; a batch that ``ready`` refuses (a rebalance began) is left undecided, for the
    contiguity guard to put back when the partition's next record comes."""
    batches, stage, cursors, reader = setup(tmp_path)
    answers = iter([True, False, True])
    asked: list[int] = []

    async def ready() -> bool:
        asked.append(len(stage.decided))
        return next(answers)

    app = FakeApp()
    monkeypatch.setattr(batches_module, "take_batches", fake_take)
    consume(app, None, "ledger", batches, ready=ready)  # type: ignore[arg-type]
    stream = FakeStream([events(0, [0, 1]), events(0, [2, 3]), events(0, [4])])
    asyncio.run(app.agents["ledger"](stream))
    assert asked == [0, 2, 2]  # asked before each batch, before deciding it
    # 2..3 were not decided with the second batch: the guard reads them back first.
    assert reader.asked == [(0, range(2, 4))]
    assert stage.decided == [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4)]
    assert cursors[cursor_key(LEDGER_TOPIC, 0)] == 4


def test_the_report_gives_the_deciding_s_cpu_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    batches, stage, _, _ = setup(tmp_path)
    decide = stage.decide

    def busy(rec: RawInput, event: Event) -> None:
        until = time.thread_time() + 0.02  # CPU, not sleep
        while time.thread_time() < until:
            pass
        decide(rec, event)

    monkeypatch.setattr(stage, "decide", busy)
    monkeypatch.setattr("gateway.worker.batches.REPORT_S", 0.0)
    with caplog.at_level(logging.INFO, logger="a6gw.worker"):
        asyncio.run(batches.run(events(0, [0, 1, 2])))
    (line,) = [r.getMessage() for r in caplog.records if "batches over" in r.getMessage()]
    cpu = float(re.search(r"\(([0-9.]+) s of CPU\)", line).group(1))  # type: ignore[union-attr]
    assert line.startswith("ledger: 3 records in 1 batches") and 0.06 <= cpu < 1
