"""A shorter `make faults`: kill -9 the worker and restart the broker during a run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.faults import run
from tests.ports import free_port_pair

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_kill_9_and_broker_restart_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    report = run(
        tmp_path / "run",
        events=1500,
        kills=3,
        broker_restart=True,
        port=free_port_pair(),
        say=print,
    )
    print(report.render())
    assert report.problems == []
    assert (report.kills, report.broker_restarts) == (3, 1)
    assert (report.losses, report.duplicates, report.lag) == (0, 0, 0)
    assert report.decisions == report.inputs
    assert report.restores >= 1  # a restart took the snapshot and the decisions after it
