"""The end-to-end benchmark's worker processes and the CPU their process trees use.

CPU is read from ``/proc/<pid>/stat`` (user + system time of every process of a worker's
tree: the supervisor, its worker child, anything they start, plus what reaped children
used), so no extra dependency is needed. Linux only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from gateway.worker.process import WorkerProcess

_HZ = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """``(parent pid, CPU seconds of the process and its reaped children)``."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rpartition(")")[2].split()
    # after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt
    # cmajflt utime stime cutime cstime ...
    ticks = sum(int(f) for f in fields[11:15])
    return int(fields[1]), ticks / _HZ


def tree_cpu_s(roots: list[int]) -> float:
    """CPU seconds (user + system) used so far by the process trees under ``roots``."""
    parent: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None:
            parent[int(entry)], cpu[int(entry)] = st
    children: dict[int, list[int]] = {}
    for pid, ppid in parent.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [r for r in roots if r in cpu]
    while todo:
        pid = todo.pop()
        total += cpu[pid]
        todo += children.get(pid, [])
    return total


class Workers:
    """``n`` ``a6gw worker`` processes of one config in one consumer group, each with its
    own table folder under ``data`` and its own log under ``logs``."""

    def __init__(self, config: Path, data: Path, logs: Path, n: int) -> None:
        self.dirs = [data / f"worker-{i}" for i in range(n)]
        self.procs = [
            WorkerProcess(config, logs / f"worker-{i}.log", extra_args=("--datadir", str(d)))
            for i, d in enumerate(self.dirs)
        ]

    def start(self) -> None:
        for p in self.procs:
            p.start()

    def stop(self) -> None:
        for p in self.procs:
            p.stop()

    def start_one(self, i: int) -> None:
        self.procs[i].start()

    def kill(self, i: int = 0) -> None:
        self.procs[i].kill()

    def wipe_tables(self, i: int = 0) -> None:
        shutil.rmtree(self.dirs[i], ignore_errors=True)

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs if p.pid is not None and p.alive()]

    def cpu_s(self) -> float:
        return tree_cpu_s(self.pids())

    def check_alive(self) -> None:
        for p in self.procs:
            p.check_alive()

    def crashes(self) -> list[str]:
        return [c for p in self.procs for c in p.crashes()]

    def restarts(self) -> int:
        """How often the supervisors restarted a stalled or dead worker (from their logs)."""
        return sum(p.log_tail(10**9).count("starting it again") for p in self.procs)

    def log_tail(self) -> str:
        return "\n".join(p.log_tail(20) for p in self.procs)
