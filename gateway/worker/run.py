"""``a6gw worker``: check the topics (``a6gw topics`` creates them), then run the faust
worker until SIGTERM/SIGINT.

By default the command supervises: it runs the faust worker in a child process and starts
it again whenever it ends other than cleanly: it stalled (``Exit.STALLED``: its watchdog
found the consumer wedged; see ``gateway.worker.watch``) or it died (an exit status, a
signal: the attempts journal of ``gateway.worker.faults`` then counts the death against the
input being handled, and quarantines an input that kills it again and again). A clean exit
ends that child's supervision; the sequencer's refusal (``Exit.REFUSED``: an operator must
look) stops every child and ends supervision (``gateway.worker.exits`` lists the statuses).
A crash loses nothing, so a restart is always safe. The supervisor counts each child's
restarts and writes the count to ``restarts.json`` in the child's data folder. Under a
service manager that restarts on failure (systemd, Kubernetes), ``--no-supervise`` runs the
worker in the command's own process instead.

``--processes N`` supervises N children, each a member of the consumer group with its own
data folder (``<datadir>/<i>``: its RocksDB tables and its attempts journal; two workers
never share one) and its own *static* group-instance id (:func:`instance_id_for`), each
restarted on its own. A restarted child rejoins under the same id, so the broker hands it
back its partitions at once instead of waiting for the session timeout (KIP-345).
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import hashlib
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, NoReturn, Protocol

from gateway.config import LoadedConfig
from gateway.transport.admin import wait_for_topics
from gateway.transport.clients import clients_for
from gateway.transport.topic_plan import topic_plan
from gateway.worker import pauses
from gateway.worker.exits import FINAL, Exit, describe

log = logging.getLogger("a6gw.worker")

RESTART_PAUSE_S = 1.0
MAX_RESTART_PAUSE_S = 30.0
#: A run at least this long resets the pause between restarts to its minimum.
HEALTHY_RUN_S = 60.0
#: How often the supervisor looks at its children.
TICK_S = 0.2
#: Kafka's rule for a group instance id: these characters, at most 249 of them.
_ID_CHARS = re.compile(r"[^a-zA-Z0-9._-]")
_ID_MAX = 249


def run_worker(
    lc: LoadedConfig,
    *,
    loglevel: str = "info",
    datadir: Path | None = None,
    instance_id: str | None = None,
    metrics_port: int | None = None,
) -> NoReturn:
    """The faust worker in this process; exits the process when stopped. ``instance_id``:
    the consumer's static group-instance id (None: a dynamic member); ``metrics_port``: of
    its metrics and health server (None: ``metrics.worker_port``; 0: none)."""
    import faust

    from gateway.worker import observed
    from gateway.worker.app import create_runtime
    from gateway.worker.trustlog import record_trust

    log.info("event loop: %s", "uvloop" if use_uvloop() else "asyncio")
    log.info("garbage collector thresholds: %s", tune_gc())
    log.info("switch interval: %g s", tune_switching())
    pauses.watch()
    datadir = datadir or (lc.data_dir / "worker")
    if not hold_folder(datadir, "worker.lock"):
        print(
            f"a6gw worker: another worker uses {datadir}: give each worker its own --datadir",
            file=sys.stderr,
            flush=True,
        )
        sys.exit(Exit.REFUSED)
    # The worker may not create topics (its principal has no CREATE): they must be there.
    topics, _configs = topic_plan(lc.config)
    asyncio.run(wait_for_topics(clients_for(lc, "worker"), topics))
    # The trust file's keys and the Parties' settings go on record, if they changed, before
    # this worker decides anything (gateway.worker.trustlog).
    asyncio.run(record_trust(lc))
    rt = create_runtime(lc, datadir=datadir, instance_id=instance_id)
    # The command configured logging (gateway.logs): faust must not replace its handler
    # with its own colour console (override_logging=False), so faust's lines, the agents'
    # and aiokafka's all come out in the chosen format.
    worker = faust.Worker(
        rt.app, loglevel=loglevel, quiet=True, redirect_stdouts=False, override_logging=False
    )
    worker.spinner = None  # its terminal codes would break the lines; "Ready" is logged
    port = lc.config.metrics.worker_port if metrics_port is None else metrics_port
    observed.start(rt, port, lambda: worker.loop)
    worker.execute_from_commandline()  # exits the process (SystemExit) when stopped


def use_uvloop() -> bool:
    """Run the worker's event loops (faust's and its consumer thread's) on uvloop where it
    is installed (a dependency everywhere but Windows): the stream framework's per-record
    work is callbacks and futures, which uvloop runs in less CPU than asyncio's own loop
    (``tests/bench/bench_e2e.py``). Whether it did."""
    try:
        import uvloop  # noqa: PLC0415 - present except on Windows
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


#: The collector's thresholds in a worker (CPython's: 700, 10, 10). A worker allocates a few
#: thousand objects per input and keeps a state of tens of thousands of records, so at
#: CPython's thresholds it collected the youngest generation ~40 times a second and the
#: whole heap (60-75 ms each, growing with the state) every few seconds: 4-5% of its time
#: in a burst, and the longest pauses of its event loop. At these it collects the youngest
#: generation once every ~50,000 allocations (a few MB of young objects), and the whole heap
#: about once in 20 s of a burst (``tests/bench/bench_e2e.py``, 20,000 inputs: 0.45 s of
#: collection in 10 s before, 0.09 s after).
GC_THRESHOLDS = (50_000, 20, 20)


def tune_gc() -> tuple[int, int, int]:
    """Set :data:`GC_THRESHOLDS`; the thresholds now."""
    gc.set_threshold(*GC_THRESHOLDS)
    return gc.get_threshold()


#: How long a thread holds the interpreter while another waits for it (CPython's: 5 ms).
#: The worker's Kafka consumer runs in a thread of its own (faust's consumer thread: fetches,
#: offsets, the group's heartbeats), beside the event loop that runs the agents. The loop
#: gives the interpreter up for an instant at each system call, which restarts the waiting
#: thread's 5 ms, so under load the consumer thread got its turn late and seldom: every call
#: into it (a fetch, a commit) waited behind the agents' work. At 1 ms it waits at most that
#: long (``tests/bench/bench_e2e.py``, two processes, runs in alternation where the machine
#: ran steady: 1,509-1,629 inputs/s in a burst against 1,348-1,453, 0.91-0.98 ms of CPU per
#: input against 1.02-1.09, p99 at 500 inputs/s 137-166 ms against 204-249; over ten pairs
#: on three days, the p99 lower in seven, the burst higher and the CPU lower in six).
SWITCH_INTERVAL_S = 0.001


def tune_switching() -> float:
    """Set :data:`SWITCH_INTERVAL_S`; the interval now."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return sys.getswitchinterval()


_held: list[IO[str]] = []


def hold_folder(datadir: Path, name: str) -> bool:
    """Lock ``datadir/name`` for the rest of this process's life; False if another live
    process holds it (two workers must never share a folder)."""
    datadir.mkdir(parents=True, exist_ok=True)
    lock = (datadir / name).open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return False
    _held.append(lock)  # the lock lasts as long as the file stays open
    return True


def instance_id_for(gateway_id: str, datadir: Path, *, host: str | None = None) -> str:
    """The default static group-instance id of the worker whose data folder is ``datadir``:
    the gateway id, the host name, the folder's name and a digest of its absolute path.

    Stable across restarts (same host, same folder), and distinct for two workers on one
    host, which must have distinct folders anyway (RocksDB locks its tables).
    """
    host = host or socket.gethostname()
    where = str(datadir.absolute()).encode()
    digest = hashlib.sha256(where).hexdigest()[:8]
    return clean_instance_id(f"{gateway_id}-{host}-{datadir.name}-{digest}")


def clean_instance_id(text: str) -> str:
    """``text`` as Kafka accepts a group instance id (other characters become ``_``)."""
    return _ID_CHARS.sub("_", text)[-_ID_MAX:]


@dataclass(frozen=True)
class Member:
    """One worker child: its index, data folder, group-instance id and command line."""

    index: int
    datadir: Path
    instance_id: str | None
    cmd: tuple[str, ...]

    @property
    def status(self) -> Path:
        """Where the supervisor writes this child's restart count."""
        return self.datadir / "restarts.json"


def plan_members(
    base_cmd: Sequence[str],
    datadir: Path,
    processes: int,
    *,
    gateway_id: str,
    instance_id: str | None = None,
    static: bool = True,
    host: str | None = None,
    metrics_port: int | None = None,
) -> list[Member]:
    """The children of ``--processes N``: one alone uses ``datadir``, several use
    ``datadir/<i>``. Their ids: ``instance_id`` (``instance_id-<i>`` for several), else
    :func:`instance_id_for` each child's folder; none if not ``static``. Each child runs
    ``base_cmd --no-supervise --datadir D`` with ``--instance-id ID`` or
    ``--no-instance-id``; with ``metrics_port`` P, ``--metrics-port P+i`` (one port per
    process; P 0: ``--metrics-port 0``, none)."""
    if processes < 1:
        raise ValueError("at least one worker process")
    out = []
    for i in range(processes):
        folder = datadir if processes == 1 else datadir / str(i)
        ident: str | None = None
        if static and instance_id:
            ident = clean_instance_id(instance_id if processes == 1 else f"{instance_id}-{i}")
        elif static:
            ident = instance_id_for(gateway_id, folder, host=host)
        cmd = [*base_cmd, "--no-supervise", "--datadir", str(folder)]
        cmd += ["--instance-id", ident] if ident else ["--no-instance-id"]
        if metrics_port is not None:
            cmd += ["--metrics-port", str(metrics_port + i if metrics_port else 0)]
        out.append(Member(i, folder, ident, tuple(cmd)))
    return out


class Proc(Protocol):
    """What the supervisor needs of a child process (``subprocess.Popen``)."""

    pid: int

    def poll(self) -> int | None: ...

    def send_signal(self, sig: int) -> None: ...


def _popen(cmd: Sequence[str]) -> Proc:
    return subprocess.Popen(list(cmd))


@dataclass
class Slot:
    """The supervisor's bookkeeping for one child."""

    member: Member
    proc: Proc | None = None
    restarts: int = 0
    pause: float = RESTART_PAUSE_S
    started: float = 0.0
    #: when to start it again (None: not waiting)
    restart_at: float | None = None
    #: its final status once it is not to be started again
    final: int | None = None


@dataclass
class Supervisor:
    """Runs each member, starts it again on its own when it stalls or dies."""

    members: Sequence[Member]
    spawn: Callable[[Sequence[str]], Proc] = _popen
    clock: Callable[[], float] = time.monotonic
    say: Callable[[str], None] = field(default=lambda m: print(m, file=sys.stderr, flush=True))
    slots: list[Slot] = field(init=False)
    stopping: bool = field(default=False, init=False)
    #: a status that ends every child (the sequencer's refusal)
    verdict: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.slots = [Slot(m) for m in self.members]

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Pass ``signum`` to every running child; start none again."""
        self.stopping = True
        for s in self.slots:
            if s.proc is not None and s.proc.poll() is None:
                s.proc.send_signal(signum)

    def step(self) -> int | None:
        """Reap the children that ended, start those that are due; the final status once
        no child is left."""
        now = self.clock()
        for s in self.slots:
            if s.proc is None and s.final is None and not self.stopping:
                if s.restart_at is None or now >= s.restart_at:
                    self._start(s, now)
            elif s.proc is not None:
                code = s.proc.poll()
                if code is not None:
                    self._ended(s, code, now)
        if any(s.proc is not None for s in self.slots):
            return None
        if self.stopping or all(s.final is not None for s in self.slots):
            return self._status()
        return None

    def run(self, tick: float = TICK_S) -> int:
        """Supervise until every child has ended; SIGTERM and SIGINT go to the children."""

        def forward(signum: int, _frame: FrameType | None) -> None:
            self.stop(signum)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        while (code := self.step()) is None:
            time.sleep(tick)
        return code

    def _start(self, s: Slot, now: float) -> None:
        s.proc = self.spawn(s.member.cmd)
        s.started = now
        s.restart_at = None

    def _ended(self, s: Slot, code: int, now: float) -> None:
        s.proc = None
        if self.stopping or code in FINAL:
            s.final = code
            if code == Exit.REFUSED and not self.stopping:
                self.verdict = code
                self.say(f"a6gw worker: worker {s.member.index} refused to run; stopping all")
                self.stop()
            return
        s.restarts += 1
        why = "stalled" if code == Exit.STALLED else f"died ({describe(code)})"
        self.say(
            f"a6gw worker: worker {s.member.index} {why}; starting it again (restart {s.restarts})"
        )
        _write_status(s.member.status, s.restarts, code)
        if now - s.started >= HEALTHY_RUN_S:
            s.pause = RESTART_PAUSE_S
        s.restart_at = now + s.pause
        s.pause = min(s.pause * 2, MAX_RESTART_PAUSE_S)

    def _status(self) -> int:
        """The refusal if there was one, else the first child's status that is not 0
        (a signal as a shell reports it: 128 + n), else 0."""
        if self.verdict is not None:
            return self.verdict
        for s in self.slots:
            if s.final:
                return 128 - s.final if s.final < 0 else s.final
        return 0


def supervise(members: Sequence[Member]) -> int:
    """Run and supervise ``members`` (:func:`plan_members`) until they have all ended; what
    the supervisor has to say goes to the log (as a warning)."""
    return Supervisor(members, say=log.warning).run()


def _write_status(path: Path, restarts: int, code: int) -> None:
    """The restart count, for operators and tests (a later metrics exporter reads it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"restarts": restarts, "last_exit": code}) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        print(f"a6gw worker: cannot write {path}: {exc}", file=sys.stderr, flush=True)
