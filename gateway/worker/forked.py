"""Work on the worker's memory as it is now, done by a forked child: the event loop pays
for the fork only.

A ledger snapshot of 130,000 records costs ~80 ms of CPU in a process of its own, but
~250 ms when it is made in the worker's event loop between the agents' batches, and the
inputs that arrive meanwhile wait: at 500 inputs/s the seconds of a snapshot were the
slowest of a run (p99 150-300 ms). A child made by ``fork(2)`` sees the state as it was at
the fork (copy-on-write) while the worker goes on changing its own; it writes the file and
exits. The parent polls for its exit (``wait4`` with ``WNOHANG``), never blocking, and
learns the CPU time the child used.

The child runs no event loop, logs nothing through the parent's handlers and exits with
``os._exit`` (no finalizers: the parent's RocksDB, sockets and threads are not its own). It
is killed if the worker dies first (Linux ``PR_SET_PDEATHSIG``), so a restarted worker
never races an orphan for the snapshot file. Where a process cannot fork, :func:`start`
says so and the caller does the work itself.

The worker forks for its snapshots only with ``gateway.snapshot_writer: fork``: while the
child lives, the worker copies each memory page it writes, and on the benchmark's virtual
machine that stood it still for about half a second per snapshot (``gateway.worker.memory``).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

#: how often the parent looks whether its child is done
POLL_S = 0.02
#: ``prctl(2)``: the signal the child gets when the thread that forked it dies
PR_SET_PDEATHSIG = 1
#: the child's exit code when its work raised
FAILED = 1


def start(work: Callable[[], None]) -> int | None:
    """Fork a child that runs ``work()`` and exits (0 when it returned); its pid, or None
    when this process cannot fork (the caller then does the work itself)."""
    if not hasattr(os, "fork"):
        return None
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        return None
    if pid == 0:
        _child(work, parent)
    return pid


def _child(work: Callable[[], None], parent: int) -> NoReturn:
    code = FAILED
    try:
        _die_with(parent)
        # The parent's event loop catches signals through a wakeup descriptor the child
        # shares: a signal to the child must not reach the parent's handlers.
        signal.set_wakeup_fd(-1)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        _yield_to_others()
        work()
        code = 0
    except BaseException:  # noqa: BLE001 - reported by the exit code (and on stderr)
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
    finally:
        os._exit(code)


def _die_with(parent: int) -> None:
    """Ask the kernel to kill this child when the worker dies (Linux; elsewhere a no-op)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the worker died before the request took
        os._exit(FAILED)


def _yield_to_others() -> None:
    """Run only when the CPU would idle otherwise (Linux ``SCHED_IDLE``; else the lowest
    nice): the worker and the broker go first, the snapshot can wait."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


@dataclass(frozen=True)
class Exit:
    """How a child ended."""

    #: its exit code (a negative number: killed by that signal)
    code: int
    #: the CPU time it used, user and system, in seconds
    cpu_s: float


async def exited(pid: int, poll_s: float = POLL_S) -> Exit | None:
    """How the child ``pid`` ended, once it has; None when another waiter collected it."""
    while True:
        try:
            done, status, usage = os.wait4(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return Exit(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime)
        await asyncio.sleep(poll_s)
