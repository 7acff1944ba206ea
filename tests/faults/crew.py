"""The workers of a fault run: ``a6gw worker`` started N times, each with its own folder
(and so its own static group-instance id), killed with ``kill -9`` and started again, lost
for good, or joined by a new one while inputs flow."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.worker.process import WorkerProcess


@dataclass
class Crew:
    """``live[0]`` is the gateway's first worker; the others are added with their folder
    ``<data_dir>/worker-<n>`` and log ``<root>/worker-<n>.log``."""

    config: Path
    root: Path
    data_dir: Path
    live: list[WorkerProcess]
    lost: list[WorkerProcess] = field(default_factory=list)
    made: int = 1
    #: each ``a6gw worker`` supervises this many worker processes (``--processes``)
    processes: int = 1

    @classmethod
    def of(
        cls,
        first: WorkerProcess,
        config: Path,
        root: Path,
        data_dir: Path,
        size: int,
        processes: int = 1,
    ) -> Crew:
        crew = cls(config, root, data_dir, [first], processes=processes)
        if processes > 1:
            first.stop()
            first.extra_args = (*first.extra_args, "--processes", str(processes))
            first.start()
        for _ in range(size - 1):
            crew.add()
        return crew

    def processes_args(self) -> tuple[str, ...]:
        return ("--processes", str(self.processes)) if self.processes > 1 else ()

    def add(self) -> WorkerProcess:
        """Start one more worker: a new member of the group (a rebalance)."""
        n = self.made
        self.made += 1
        folder = self.data_dir / f"worker-{n}"
        worker = WorkerProcess(
            self.config,
            self.root / f"worker-{n}.log",
            extra_args=("--datadir", str(folder), *self.processes_args()),
        )
        worker.start()
        self.live.append(worker)
        return worker

    def kill_and_restart(self, rnd: random.Random) -> str:
        """``kill -9`` one live worker (its supervisor and child) and start it again with
        the same folder, so under the same instance id; with several processes each, one
        of the supervisor's processes, which it starts again. Says which."""
        place = rnd.randrange(len(self.live))
        worker = self.live[place]
        children = worker.children() if self.processes > 1 else []
        if children:
            pid = rnd.choice(children)
            worker.kill_child(pid)
            return f"process {pid} of worker {place} (its supervisor starts it again)"
        worker.kill()
        worker.start()
        return f"worker {place} and restarted it"

    def lose(self, rnd: random.Random) -> int:
        """``kill -9`` one live worker for good (a lost machine); returns its place."""
        if len(self.live) < 2:
            raise ValueError("the last worker cannot be lost")
        place = rnd.randrange(len(self.live))
        worker = self.live.pop(place)
        worker.kill()
        self.lost.append(worker)
        return place

    def stop(self) -> None:
        for worker in self.live:
            worker.stop()

    def crashes(self) -> list[str]:
        return [c for w in self.live + self.lost for c in w.crashes()]

    def logged(self, text: str) -> int:
        """How many lines of the workers' logs contain ``text``."""
        return sum(w.log_tail(10**9).count(text) for w in self.live + self.lost)


@dataclass
class Progress:
    """Says how a phase goes every ``every_s`` seconds: decided so far and the rate."""

    say: Callable[[str], None]
    label: str
    total: int
    every_s: float = 10.0
    started: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)

    def tick(self, done: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s:
            return
        self.last = now
        rate = done / max(now - self.started, 1e-9)
        self.say(f"  {self.label}: {done}/{self.total} decided ({rate:.0f} inputs/s)")
