"""The worker's supervisor: restarts a stalled worker, passes other exits and signals on."""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import uvloop

from gateway.worker.exits import Exit
from gateway.worker.run import (
    GC_THRESHOLDS,
    SWITCH_INTERVAL_S,
    Member,
    supervise,
    tune_gc,
    tune_switching,
    use_uvloop,
)


def one(cmd: list[str], datadir: Path | None = None) -> list[Member]:
    """A single child running ``cmd`` (its restart count in ``datadir``)."""
    return [Member(0, datadir or Path("/nonexistent/a6gw-test"), None, tuple(cmd))]


# A stand-in worker: counts its starts in a file and exits with the code listed for each.
CHILD = """
import pathlib, sys, time
count = pathlib.Path(sys.argv[1])
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
codes = [int(c) for c in sys.argv[2].split(",") if c]
if n < len(codes):
    sys.exit(codes[n])
time.sleep(60)
"""


def test_a_stalled_worker_is_started_again(tmp_path: Path) -> None:
    count = tmp_path / "starts"
    code = supervise(
        one(
            [
                sys.executable,
                "-c",
                CHILD,
                str(count),
                f"{Exit.STALLED:d},{Exit.STALLED:d},{Exit.REFUSED:d}",
            ],
            tmp_path,
        )
    )
    assert code == Exit.REFUSED
    assert count.read_text() == "3"


def test_a_clean_exit_is_not_restarted(tmp_path: Path) -> None:
    count = tmp_path / "starts"
    assert supervise(one([sys.executable, "-c", CHILD, str(count), "0"])) == 0
    assert count.read_text() == "1"


def test_sigterm_reaches_the_worker_and_ends_supervision(tmp_path: Path) -> None:
    count = tmp_path / "starts"
    script = (
        "import sys; from pathlib import Path; from gateway.worker.run import Member, supervise; "
        f"cmd = (sys.executable, '-c', {CHILD!r}, {str(count)!r}, ''); "
        f"sys.exit(supervise([Member(0, Path({str(tmp_path)!r}), None, cmd)]))"
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while not count.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert count.exists(), "the worker never started"
    proc.send_signal(signal.SIGTERM)
    # The worker died of the signal; the supervisor exits as a shell reports that: 128 + 15.
    assert proc.wait(30) == 128 + signal.SIGTERM
    assert count.read_text() == "1"


DYING = """
import os, pathlib, signal, sys
count = pathlib.Path(sys.argv[1])
n = int(count.read_text()) if count.exists() else 0
count.write_text(str(n + 1))
if n == 0:
    os._exit(70)
if n == 1:
    os.kill(os.getpid(), signal.SIGKILL)
sys.exit(0)
"""


def test_a_worker_that_died_is_started_again_and_counted(tmp_path: Path) -> None:
    count = tmp_path / "starts"
    status = tmp_path / "restarts.json"
    assert supervise(one([sys.executable, "-c", DYING, str(count)], tmp_path)) == 0
    assert count.read_text() == "3"
    assert json.loads(status.read_text()) == {"restarts": 2, "last_exit": -9}


def test_the_worker_collects_garbage_less_often_than_cpythons_default() -> None:
    before = gc.get_threshold()
    try:
        assert tune_gc() == GC_THRESHOLDS == gc.get_threshold()
        assert GC_THRESHOLDS[0] > before[0]  # the youngest generation: the frequent one
    finally:
        gc.set_threshold(*before)


def test_the_worker_switches_threads_more_often_than_cpythons_default() -> None:
    before = sys.getswitchinterval()
    try:
        assert tune_switching() == SWITCH_INTERVAL_S == sys.getswitchinterval()
        assert SWITCH_INTERVAL_S < before  # CPython's 5 ms
    finally:
        sys.setswitchinterval(before)


def test_the_worker_runs_on_uvloop() -> None:
    before = asyncio.get_event_loop_policy()
    try:
        assert use_uvloop()
        loop = asyncio.new_event_loop()  # what faust and its consumer thread get
        try:
            assert isinstance(loop, uvloop.Loop)
        finally:
            loop.close()
    finally:
        asyncio.set_event_loop_policy(before)
