"""Three workers share the partitions: kill -9 one for good, kill -9 and restart others
(each rejoins under its static instance id), start a new one mid-run (a rebalance); every
input still ends as exactly one decision, the checkpoints are prefixes of the log, lag is 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.faults.faults import run
from tests.ports import free_port_pair

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.mark.timeout(400)
def test_three_workers_losing_one_and_gaining_one_lose_nothing(tmp_path: Path) -> None:
    report = run(
        tmp_path / "run",
        events=600,
        kills=2,
        broker_restart=False,
        port=free_port_pair(),
        workers=3,
        join=True,
        say=print,
    )
    print(report.render(), *report.problems, sep="\n")
    assert report.problems == []
    assert (report.workers, report.lost, report.joined, report.kills) == (3, 1, 1, 2)
    assert (report.losses, report.duplicates, report.wrong, report.lag) == (0, 0, 0, 0)
    assert report.decisions == report.inputs >= 600
    assert report.checkpoints >= 1


@pytest.mark.timeout(400)
def test_a_supervisor_of_three_processes_restarts_each_killed_one(tmp_path: Path) -> None:
    """``a6gw worker --processes 3``: kill -9 single processes; their supervisor starts each
    again in its own folder, under its own instance id."""
    report = run(
        tmp_path / "run",
        events=400,
        kills=3,
        broker_restart=False,
        port=free_port_pair(),
        processes=3,
        say=print,
    )
    print(report.render(), *report.problems, sep="\n")
    assert report.problems == []
    assert (report.losses, report.duplicates, report.wrong, report.lag) == (0, 0, 0, 0)
    assert report.decisions == report.inputs >= 400
    folders = tmp_path / "run" / "data" / "worker"
    assert sorted(p.name for p in folders.iterdir() if p.is_dir()) == ["0", "1", "2"]
    restarts = [json.loads(p.read_text())["restarts"] for p in folders.glob("*/restarts.json")]
    assert sum(restarts) == report.kills == 3
