"""Work done by a forked child on the memory as it was at the fork (``gateway.worker.forked``):
real forks, real exits."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gateway.worker import forked


def test_the_child_sees_the_memory_as_it_was_at_the_fork(tmp_path: Path) -> None:
    state = {"n": 1}
    out = tmp_path / "seen"

    def work() -> None:
        time.sleep(0.05)  # the parent changes its state meanwhile
        out.write_text(str(state["n"]))

    async def main() -> forked.Exit | None:
        pid = forked.start(work)
        assert pid is not None and pid != os.getpid()
        state["n"] = 2
        return await forked.exited(pid, poll_s=0.005)

    end = asyncio.run(main())
    assert end is not None and end.code == 0
    assert out.read_text() == "1" and state["n"] == 2


def test_a_child_whose_work_raises_exits_failed(capfd: pytest.CaptureFixture[str]) -> None:
    def work() -> None:
        raise ValueError("no room")

    async def main() -> forked.Exit | None:
        pid = forked.start(work)
        assert pid is not None
        return await forked.exited(pid, poll_s=0.005)

    end = asyncio.run(main())
    assert end is not None and end.code == forked.FAILED
    assert "ValueError: no room" in capfd.readouterr().err


def test_a_child_collected_by_another_waiter_is_reported_as_unknown() -> None:
    async def main() -> forked.Exit | None:
        pid = forked.start(lambda: None)
        assert pid is not None
        os.waitpid(pid, 0)
        return await forked.exited(pid, poll_s=0.005)

    assert asyncio.run(main()) is None


def test_the_child_s_cpu_time_is_reported() -> None:
    def work() -> None:
        until = time.process_time() + 0.2
        while time.process_time() < until:  # busy: CPU time, not sleep
            pass

    async def main() -> forked.Exit | None:
        pid = forked.start(work)
        assert pid is not None
        return await forked.exited(pid, poll_s=0.005)

    end = asyncio.run(main())
    # the parent's own CPU time is not in it: it mostly slept, polling
    assert end is not None and end.code == 0 and 0.2 <= end.cpu_s < 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_dies_with_the_worker() -> None:
    """A worker killed while its child writes leaves no orphan to race the next worker."""
    script = (
        "import os, sys, time\n"
        "from gateway.worker import forked\n"
        "pid = forked.start(lambda: time.sleep(60))\n"
        "print(pid, flush=True)\n"
        "time.sleep(0.3)\n"
        "os._exit(9)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    child = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
