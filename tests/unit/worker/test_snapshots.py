"""The ledger state's local snapshots: the file's format and seal, and which stored
decisions a restart re-applies after one (gateway.worker.snapshots)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from gateway.core.ingest import RawInput
from gateway.core.state import VERSION
from gateway.core.topics import LEDGER_TOPIC
from gateway.worker import forked
from gateway.worker import memory as memory_module
from gateway.worker.memory import LedgerMemory
from gateway.worker.snapshots import (
    SnapshotFile,
    chunks,
    in_turns,
    parse,
    seal,
    to_reapply,
)
from gateway.worker.workerstate import WorkerState, rebuild
from tests.unit.worker.test_memory import TABLES, run_scenario

SECRET = b"k" * 32


def _record(partition: int, offset: int, source: str, eid: str) -> RawInput:
    value = json.dumps({"event": {"source": source, "id": eid}, "data": {}}).encode()
    return RawInput(LEDGER_TOPIC, partition, offset, eid.encode(), value, 0)


def _decision(version: int, key: str) -> dict[str, Any]:
    return {"version": version, "effects": [["openings", key, {"n": version}]], "outputs": []}


def test_the_decisions_after_each_partitions_position_are_reapplied_in_version_order() -> None:
    decisions = {
        "R|a": _decision(4, "x"),  # at the position: the snapshot has it
        "R|b": _decision(7, "y"),
        "R|c": _decision(5, "z"),
        "S|d": _decision(3, "w"),  # partition 1, after its position 2
        "S|e": _decision(1, "v"),  # redelivered at 3, decided at 1: the snapshot has it
    }
    tails = {
        0: [
            _record(0, 4, "R", "a"),
            _record(0, 5, "R", "c"),
            _record(0, 7, "R", "b"),
            _record(0, 6, "R", "undecided"),
        ],
        1: [
            _record(1, 2, "S", "e"),
            _record(1, 3, "S", "d"),
            _record(1, 3, "S", "e"),
            RawInput(LEDGER_TOPIC, 1, 4, b"x", b"not json", 0),
        ],
    }
    got = to_reapply({0: 4, 1: 2}, tails, decisions)
    assert [v for v, _ in got] == [3, 5, 7]
    assert [e[0][1] for _, e in got] == ["w", "z", "y"]
    assert to_reapply({0: 7, 1: 3}, tails, decisions) == []


def test_a_snapshot_holds_the_positions_and_the_tables_under_its_mac() -> None:
    tables: dict[Any, dict[str, Any]] = {n: {} for n in (*TABLES, "accounts", "decisions")}
    tables["blocks"] = {"k": {"a": 1, VERSION: 3}}
    body = b"".join(chunks({0: 5, 2: -1}, tables))
    snap = parse(SECRET, seal(SECRET, body))
    assert snap.positions == {0: 5, 2: -1}
    assert snap.tables["blocks"] == {"k": {"a": 1, VERSION: 3}}
    for bad in (
        seal(b"o" * 32, body),  # another key
        seal(SECRET, body)[:-1] + b"x",  # its MAC changed
        seal(SECRET, body.replace(b'"a":1', b'"a":2')[:-1]) + b"}",  # its bytes changed
        seal(SECRET, body.replace(b"worker-snapshot.v1", b"worker-snapshot.v0")),
        seal(SECRET, b'{"format":"a6gw.worker-snapshot.v1"}\n{}'),
        b"short",
    ):
        with pytest.raises(ValueError):
            parse(SECRET, bad)


def test_the_file_is_replaced_whole_and_a_bad_one_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "w" / "ledger-state.snapshot"
    file = SnapshotFile(path, SECRET)
    assert file.load() is None
    tables: dict[Any, dict[str, Any]] = {n: {} for n in (*TABLES, "accounts", "decisions")}
    parts = list(chunks({1: 9}, tables))
    file.write(parts)
    assert path.read_bytes() == seal(SECRET, b"".join(parts))  # written piece by piece
    assert file.load() is not None and not path.with_suffix(".tmp").exists()
    assert file.load().positions == {1: 9}  # type: ignore[union-attr]
    path.write_bytes(path.read_bytes()[:-3])
    assert file.load() is None
    assert SnapshotFile(path, b"o" * 32).load() is None


def _tails(records: dict[int, list[RawInput]]) -> Any:
    async def read(positions: Any) -> dict[int, list[RawInput]]:
        return {
            p: [r for r in records.get(p, []) if r.offset >= max(v, 0)]
            for p, v in positions.items()
        }

    return read


def test_a_restart_restores_the_snapshot_and_the_decisions_after_it(tmp_path: Path) -> None:
    pipe = run_scenario(tmp_path / "scenario")
    live = pipe.worker
    versions = sorted(int(d["version"]) for d in pipe.decisions.values())
    cut = versions[len(versions) // 2]
    # The state as it was at `cut` (its decisions up to there), snapshotted.
    early = {k: d for k, d in pipe.decisions.items() if int(d["version"]) <= cut}
    file = SnapshotFile(tmp_path / "data" / "ledger-state.snapshot", SECRET)
    file.write(list(chunks({0: cut}, rebuild(early, {}).tables_now())))
    # Each decision's input on a6.ledger at its version (the pipeline uses one partition).
    key_of = {int(d["version"]): k for k, d in pipe.decisions.items()}
    records = {0: [_record(0, v, *key_of[v].split("|", 1)) for v in sorted(key_of)]}

    async def run() -> LedgerMemory:
        memory = LedgerMemory(pipe.decisions, pipe.accounts, file)
        await memory.recover({0}, lambda p: None, _tails(records))
        if memory._writing is not None:  # noqa: SLF001 - the snapshot it starts at once
            await memory._writing  # noqa: SLF001
        return memory

    memory = asyncio.run(run())
    assert (memory.restores, memory.rebuilds) == (1, 0) and not memory.stale
    state = memory.current()
    for name in TABLES:
        assert state.tables[name] == live.tables[name], name
    assert state.own_accounts == live.own_accounts
    assert sorted(b.key for b in state.blocks()) == sorted(b.key for b in live.blocks())
    assert memory.positions == {0: cut}
    # A worker holding other partitions ignores it and rebuilds from every decision.
    other = LedgerMemory(pipe.decisions, pipe.accounts, file)
    asyncio.run(other.recover({0, 1}, lambda p: 7 if p == 0 else None, _tails(records)))
    assert (other.restores, other.rebuilds, other.positions) == (0, 1, {0: 7, 1: -1})
    assert other.current().tables["blocks"] == live.tables["blocks"]


def test_a_snapshot_is_taken_only_when_every_effect_in_it_is_durable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory_module, "SNAPSHOT_QUIET_S", 0.0)
    file = SnapshotFile(tmp_path / "ledger-state.snapshot", SECRET)
    decisions = {f"R|{i}": _decision(i, f"k{i}") for i in range(3000)}

    def writing(memory: LedgerMemory) -> asyncio.Task[None]:
        task = memory._writing  # noqa: SLF001 - the snapshot being written, if any
        assert task is not None
        return task

    async def run() -> None:
        memory = LedgerMemory(decisions, {}, file)
        await memory.recover({0}, lambda p: 2999, _tails({}))
        assert memory.written == 0 and memory._writing is None  # noqa: SLF001 - not at once
        await asyncio.sleep(0.01)
        await writing(memory)  # due soon after: 6,000 of work
        snap = file.load()
        assert snap is not None and snap.positions == {0: 2999}
        state: WorkerState = memory.current()
        for i in range(3000, 6000):
            state.apply([], i)  # decided, not yet durable
        memory.snapshot()
        assert writing(memory).done()  # dirty: nothing started
        memory.settled({0: 5999, 1: 10})
        assert not writing(memory).done()
        await memory.close()
        snap = file.load()
        assert snap is not None and snap.positions == {0: 5999}
        # A rebuild mid-batch (a step failed half applied) may hold the batch's decisions,
        # not durable yet: nothing is taken before the batch settles.
        memory.mark_stale()
        memory.current().apply([], 6000)
        await memory.revoked()
        assert writing(memory).done() and memory.written == 2
        assert memory.stale and memory.positions is None
        memory.settled({0: 6000})  # stale since the revocation: nothing
        assert memory.written == 2 and writing(memory).done()

    asyncio.run(run())


def test_work_below_the_threshold_is_snapshotted_once_the_ledger_is_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory_module, "SNAPSHOT_QUIET_S", 0.0)
    monkeypatch.setattr(memory_module, "SNAPSHOT_IDLE_S", 0.05)
    file = SnapshotFile(tmp_path / "ledger-state.snapshot", SECRET)
    decisions = {f"R|{i}": _decision(i, f"k{i}") for i in range(3000)}

    async def run() -> None:
        memory = LedgerMemory(decisions, {}, file)
        await memory.recover({0}, lambda p: 2999, _tails({}))
        await asyncio.sleep(0.01)
        assert memory._writing is not None  # noqa: SLF001 - the first one: a rebuild's
        await memory._writing  # noqa: SLF001
        assert memory.written == 1
        memory.when_idle()  # nothing new since: nothing
        assert memory._writing.done() and memory.written == 1  # noqa: SLF001
        state = memory.current()
        for i in range(3000, 3010):  # far below the threshold
            state.apply([], i)
        memory.settled({0: 3009})
        assert memory._writing.done()  # noqa: SLF001 - not due by work
        memory.when_idle()  # settled just now: not idle yet
        assert memory._writing.done()  # noqa: SLF001
        await asyncio.sleep(0.06)
        memory.when_idle()
        await memory._writing  # noqa: SLF001
        assert memory.written == 2
        snap = file.load()
        assert snap is not None and snap.positions == {0: 3009}
        memory.when_idle()  # all of it in the snapshot now
        assert memory._writing.done() and memory.written == 2  # noqa: SLF001

    asyncio.run(run())


def test_a_snapshot_is_made_in_turns_with_the_agents() -> None:
    """Between two pieces, the other tasks of the event loop run."""
    turns: list[int] = []

    async def scenario() -> list[bytes]:
        made: list[bytes] = []

        def pieces() -> Any:
            for i in range(5):
                made.append(b"%d" % i)
                turns.append(len(ran))  # the agents' turns so far
                yield made[-1]

        ran: list[None] = []

        async def agent() -> None:
            while True:
                ran.append(None)
                await asyncio.sleep(0)

        task = asyncio.ensure_future(agent())
        try:
            return await in_turns(pieces(), pause=0.001)
        finally:
            task.cancel()

    assert asyncio.run(scenario()) == [b"0", b"1", b"2", b"3", b"4"]
    assert all(later > earlier for earlier, later in zip(turns, turns[1:], strict=False))


def _no_fork(work: object) -> int | None:
    raise AssertionError("the loop makes the snapshot: nothing is forked")


@pytest.mark.parametrize(("writer", "can_fork"), [("loop", True), ("fork", True), ("fork", False)])
def test_a_snapshot_holds_the_state_at_its_start_forked_or_made_in_the_loop(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    writer: str,
    can_fork: bool,
) -> None:
    """Made in the loop (the default), or by a forked child when the config says so and the
    process can fork: the state as it was when the snapshot started, not what the worker
    changed after."""
    caplog.set_level(logging.INFO, logger="a6gw.worker")
    if writer == "loop":
        monkeypatch.setattr(forked, "start", _no_fork)
    elif not can_fork:
        monkeypatch.setattr(forked, "start", lambda work: None)
    file = SnapshotFile(tmp_path / "ledger-state.snapshot", SECRET)
    decisions = {f"R|{i}": _decision(i, f"k{i}") for i in range(10)}

    async def run() -> None:
        memory = LedgerMemory(decisions, {}, file)
        memory.fork = writer == "fork"
        await memory.recover({0}, lambda p: 9, _tails({}))
        await asyncio.sleep(0.01)
        if memory._writing is not None:  # noqa: SLF001 - the rebuild's, if any
            await memory._writing  # noqa: SLF001
        written = memory.written
        before = memory.current().tables_now()
        memory.current().apply([], 10)  # work the next snapshot holds (made durable)
        memory.current().dirty = False
        memory.snapshot()
        memory.current().apply([], 11)
        memory.current().tables["blocks"]["late"] = {"v": 1}  # while it is written
        assert memory._writing is not None  # noqa: SLF001
        await memory._writing  # noqa: SLF001
        assert memory.written == written + 1
        snap = file.load()
        assert snap is not None and snap.positions == {0: 9}
        assert snap.tables["blocks"] == before["blocks"] and "late" not in snap.tables["blocks"]

    asyncio.run(run())
    written = [r.getMessage() for r in caplog.records if "snapshot written" in r.getMessage()]
    forked_by = writer == "fork" and can_fork
    assert written and all(("by pid" in m) == forked_by for m in written)
    assert all(("in the loop" in m) == (not forked_by) for m in written)
