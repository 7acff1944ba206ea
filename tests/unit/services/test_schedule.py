"""``a6gw reconcile --every``: the duration parser and the schedule, on an injected clock."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from gateway.cli.main import build_parser
from gateway.errors import RegistryError
from gateway.services.schedule import Schedule, next_tick, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("1h", 3600), ("1h30m", 5400), ("1d", 86400), ("2m5s", 125)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("15", "units"),
        ("", "units"),
        ("1.5h", "units"),
        ("m", "units"),
        ("30m1h", "units"),  # units out of order
        ("5 m", "units"),
        ("-5m", "units"),
        ("1m1m", "units"),
        ("0s", "longer than 0"),
        ("0h0m", "longer than 0"),
        ("8d", "at most 7d"),
    ],
)
def test_bad_durations_say_why(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_duration(text)


def test_the_cli_refuses_a_bad_duration_as_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["reconcile", "--config", "c.yaml", "--every", "15"])
    assert exc.value.code == 2
    assert "invalid duration '15'" in capsys.readouterr().err
    args = build_parser().parse_args(["reconcile", "--config", "c.yaml", "--every", "1h30m"])
    assert args.every == 5400 and args.registry is None


def test_next_tick_keeps_the_grid_and_counts_missed_ticks() -> None:
    assert next_tick(100.0, 10.0, 103.0) == (110.0, 0)
    assert next_tick(100.0, 10.0, 110.0) == (120.0, 1)  # the run ended on the next tick
    assert next_tick(100.0, 10.0, 135.5) == (140.0, 3)
    assert next_tick(100.0, 10.0, 99.0) == (110.0, 0)  # a clock that went back: never before


class World:
    """A fake clock and the pauses the schedule asked for; jobs that take time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.pauses: list[float] = []
        self.started: list[tuple[str, float]] = []

    def clock(self) -> float:
        return self.now

    def pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds

    def job(self, name: str, takes: float, fails: set[int] | None = None) -> Callable[[], str]:
        calls = {"n": 0}

        def run() -> str:
            calls["n"] += 1
            self.started.append((name, self.now))
            self.now += takes
            if fails and calls["n"] in fails:
                raise RegistryError(f"{name} unreachable", code="REG-HTTP")
            return f"{name} ok"

        return run


def _schedule(
    world: World, jobs: dict[str, Callable[[], str]], every: float, runs: int
) -> Schedule:
    sched = Schedule(every, jobs, logging.getLogger("a6gw.test.schedule"), clock=world.clock)

    def pause(seconds: float) -> None:
        world.pause(seconds)
        if sched.runs >= runs:
            sched.stop()

    sched.pause = pause
    return sched


def test_runs_each_job_every_interval_in_order_without_overlap() -> None:
    world = World()
    jobs = {"IDN01": world.job("IDN01", 2.0), "MNG01": world.job("MNG01", 3.0)}
    sched = _schedule(world, jobs, 60.0, runs=3)
    assert sched.run() == 3
    assert world.started == [
        ("IDN01", 1000.0),
        ("MNG01", 1002.0),
        ("IDN01", 1060.0),
        ("MNG01", 1062.0),
        ("IDN01", 1120.0),
        ("MNG01", 1122.0),
    ]
    assert world.pauses == [55.0, 55.0, 55.0]


def test_a_run_longer_than_the_interval_skips_ticks(caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    sched = _schedule(world, {"JPN01": world.job("JPN01", 25.0)}, 10.0, runs=2)
    with caplog.at_level(logging.INFO, "a6gw.test.schedule"):
        sched.run()
    # 1000 -> 1025 (ticks at 1010 and 1020 missed) -> next at 1030
    assert world.started == [("JPN01", 1000.0), ("JPN01", 1030.0)]
    assert "2 ticks skipped (runs never overlap)" in caplog.text


def test_a_failed_run_is_counted_logged_and_retried(caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    jobs = {"IDN01": world.job("IDN01", 1.0, fails={1, 2}), "MNG01": world.job("MNG01", 1.0)}
    sched = _schedule(world, jobs, 30.0, runs=3)
    with caplog.at_level(logging.INFO, "a6gw.test.schedule"):
        sched.run()
    assert [n for n, _ in world.started] == ["IDN01", "MNG01"] * 3  # the loop never ended
    text = caplog.text
    assert "run 1 of IDN01 failed (REG-HTTP; 1 consecutive failure), retried" in text
    assert "run 2 of IDN01 failed (REG-HTTP; 2 consecutive failures)" in text
    assert "IDN01 works again after 2 failed runs" in text
    assert "run 3 of IDN01: IDN01 ok" in text
    assert sched.failures == {"IDN01": 0, "MNG01": 0}


def test_any_exception_is_a_failed_run_not_the_end() -> None:
    world = World()

    def broken() -> str:
        raise OSError("disk full")

    sched = _schedule(world, {"X": broken}, 5.0, runs=4)
    assert sched.run() == 4
    assert sched.failures == {"X": 4}


def test_stop_during_a_run_ends_after_it_and_before_the_next_job() -> None:
    world = World()
    sched = Schedule(5.0, {}, logging.getLogger("a6gw.test.schedule"), clock=world.clock)

    def first() -> str:
        sched.stop()  # as the SIGTERM handler does while a run goes on
        return "done"

    def second() -> str:
        raise AssertionError("not started after a stop")

    sched.jobs = {"A": first, "B": second}
    sched.pause = world.pause
    assert sched.run() == 1
    assert world.pauses == []


def test_the_default_pause_ends_early_on_stop() -> None:
    """Without an injected pause, the schedule naps in short slices and sees a stop."""
    import threading
    import time

    sched = Schedule(3600.0, {"A": lambda: "ok"}, logging.getLogger("a6gw.test.schedule"))
    timer = threading.Timer(0.3, sched.stop)
    timer.start()
    t0 = time.monotonic()
    assert sched.run() == 1
    assert time.monotonic() - t0 < 5.0
