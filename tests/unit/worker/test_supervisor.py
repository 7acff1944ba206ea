"""The supervisor of several worker processes, with fake processes and a fake clock: each
child has its own folder and instance id, and is restarted on its own."""

from __future__ import annotations

import json
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest

from gateway.worker.exits import Exit
from gateway.worker.run import (
    HEALTHY_RUN_S,
    RESTART_PAUSE_S,
    Member,
    Supervisor,
    clean_instance_id,
    hold_folder,
    instance_id_for,
    plan_members,
)

BASE = ("a6gw", "worker", "--config", "c.yaml")


class FakeProc:
    """A child that runs until the test ends it."""

    def __init__(self, cmd: Sequence[str], pid: int) -> None:
        self.cmd = tuple(cmd)
        self.pid = pid
        self.code: int | None = None
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return self.code

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        self.code = -sig


class Fixture:
    def __init__(self, members: list[Member]) -> None:
        self.now = 0.0
        self.procs: list[FakeProc] = []
        self.said: list[str] = []
        self.sup = Supervisor(
            members, spawn=self.spawn, clock=lambda: self.now, say=self.said.append
        )

    def spawn(self, cmd: Sequence[str]) -> FakeProc:
        proc = FakeProc(cmd, 1000 + len(self.procs))
        self.procs.append(proc)
        return proc

    def running(self, index: int) -> FakeProc:
        proc = self.sup.slots[index].proc
        assert isinstance(proc, FakeProc)
        return proc


def members(tmp_path: Path, n: int, **kw: object) -> list[Member]:
    return plan_members(BASE, tmp_path / "worker", n, gateway_id="gw", host="h1", **kw)  # type: ignore[arg-type]


def test_several_processes_have_their_own_folders_and_instance_ids(tmp_path: Path) -> None:
    ms = members(tmp_path, 3)
    assert [m.datadir for m in ms] == [tmp_path / "worker" / str(i) for i in range(3)]
    ids = [m.instance_id for m in ms]
    assert len(set(ids)) == 3 and all(i and i.startswith("gw-h1-") for i in ids)
    for m in ms:
        assert m.cmd[: len(BASE)] == BASE
        assert m.cmd[len(BASE) :] == (
            "--no-supervise",
            "--datadir",
            str(m.datadir),
            "--instance-id",
            m.instance_id,
        )
        assert m.status == m.datadir / "restarts.json"
    # The same plan again (a restart of the supervisor) gives the same identities.
    assert [m.instance_id for m in members(tmp_path, 3)] == ids


def test_one_process_keeps_the_folder_and_an_explicit_id_is_numbered(tmp_path: Path) -> None:
    (only,) = members(tmp_path, 1, instance_id="pod-7")
    assert (only.datadir, only.instance_id) == (tmp_path / "worker", "pod-7")
    assert [m.instance_id for m in members(tmp_path, 2, instance_id="pod-7")] == [
        "pod-7-0",
        "pod-7-1",
    ]
    dynamic = members(tmp_path, 2, static=False)
    assert all(m.instance_id is None and m.cmd[-1] == "--no-instance-id" for m in dynamic)
    with pytest.raises(ValueError):
        members(tmp_path, 0)


def test_the_default_instance_id_names_gateway_host_and_folder(tmp_path: Path) -> None:
    a = instance_id_for("gw", tmp_path / "a", host="box.example")
    assert a.startswith("gw-box.example-a-") and a == instance_id_for(
        "gw", tmp_path / "a", host="box.example"
    )
    assert a != instance_id_for("gw", tmp_path / "b" / "a", host="box.example")
    assert a != instance_id_for("gw", tmp_path / "a", host="other")
    assert clean_instance_id("gw/h 1:w") == "gw_h_1_w"
    assert len(clean_instance_id("x" * 400)) == 249


def test_every_child_starts_and_one_that_dies_is_restarted_alone(tmp_path: Path) -> None:
    f = Fixture(members(tmp_path, 3))
    assert f.sup.step() is None
    assert [p.cmd for p in f.procs] == [m.cmd for m in f.sup.members]
    victim = f.running(1)
    victim.code = -signal.SIGKILL
    f.now = 5.0
    assert f.sup.step() is None
    assert f.sup.slots[1].proc is None and len(f.procs) == 3  # waits its pause first
    f.now += RESTART_PAUSE_S
    f.sup.step()
    assert len(f.procs) == 4 and f.procs[3].cmd == f.sup.members[1].cmd  # same id, folder
    assert f.running(0) is f.procs[0] and f.running(2) is f.procs[2]  # the others go on
    assert [s.restarts for s in f.sup.slots] == [0, 1, 0]
    status = json.loads(f.sup.members[1].status.read_text())
    assert status == {"restarts": 1, "last_exit": -signal.SIGKILL}
    assert not f.sup.members[0].status.exists()
    assert "worker 1 died (signal SIGKILL)" in f.said[0]


def test_quick_deaths_pause_longer_and_a_healthy_run_resets_the_pause(tmp_path: Path) -> None:
    f = Fixture(members(tmp_path, 2))
    f.sup.step()
    starts = []
    for _ in range(3):  # dies at once, each time
        f.running(0).code = Exit.STALLED
        f.sup.step()
        due = f.sup.slots[0].restart_at
        assert due is not None
        starts.append(due - f.now)
        f.now = due
        f.sup.step()
    assert starts == [RESTART_PAUSE_S, 2 * RESTART_PAUSE_S, 4 * RESTART_PAUSE_S]
    f.now += HEALTHY_RUN_S
    f.running(0).code = Exit.CRASHED
    f.sup.step()
    assert f.sup.slots[0].restart_at == f.now + RESTART_PAUSE_S
    assert f.sup.slots[1].restarts == 0


def test_a_stop_reaches_every_child_and_restarts_none(tmp_path: Path) -> None:
    f = Fixture(members(tmp_path, 3))
    f.sup.step()
    f.running(2).code = Exit.CRASHED
    f.sup.step()  # child 2 waits for its restart
    f.sup.stop(signal.SIGTERM)
    assert [p.signals for p in f.procs] == [[signal.SIGTERM], [signal.SIGTERM], []]
    f.now += 100
    # Every child ended (by the signal): the supervisor ends as a shell reports it.
    assert f.sup.step() == 128 + signal.SIGTERM
    assert len(f.procs) == 3


def test_a_clean_exit_ends_only_that_child(tmp_path: Path) -> None:
    f = Fixture(members(tmp_path, 2))
    f.sup.step()
    f.running(0).code = Exit.OK
    f.now += 100
    assert f.sup.step() is None
    assert f.sup.slots[0].proc is None and f.sup.slots[0].final == 0 and len(f.procs) == 2
    f.running(1).code = Exit.OK
    assert f.sup.step() == 0


def test_a_refusal_stops_every_child(tmp_path: Path) -> None:
    f = Fixture(members(tmp_path, 3))
    f.sup.step()
    f.running(1).code = Exit.REFUSED
    assert f.sup.step() is None  # the others were told to stop; reaped next
    assert f.procs[0].signals == [signal.SIGTERM] and f.procs[2].signals == [signal.SIGTERM]
    assert f.sup.step() == Exit.REFUSED
    assert len(f.procs) == 3


def test_two_workers_cannot_hold_one_folder(tmp_path: Path) -> None:
    assert hold_folder(tmp_path / "w", "worker.lock")
    assert not hold_folder(tmp_path / "w", "worker.lock")
    assert hold_folder(tmp_path / "w", "supervisor.lock")
    assert hold_folder(tmp_path / "w2", "worker.lock")
