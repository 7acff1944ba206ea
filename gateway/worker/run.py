"""``a6gw worker``: check the topics (``a6gw topics`` creates them), then run the faust
worker until SIGTERM/SIGINT.

By default the command supervises: it runs the faust worker in a child process and starts
it again whenever it ends other than cleanly: it stalled (``Exit.STALLED``: its watchdog
found the consumer wedged; see ``gateway.worker.watch``) or it died (an exit status, a
signal: the attempts journal of ``gateway.worker.faults`` then counts the death against the
input being handled, and quarantines an input that kills it again and again). Only a clean
exit and the sequencer's refusal (``Exit.REFUSED``: an operator must look) end supervision
(``gateway.worker.exits`` lists the statuses).
A crash loses nothing, so a restart is always safe. The supervisor counts the restarts and
writes the count to ``<datadir>/restarts.json``. Under a service manager that restarts on
failure (systemd, Kubernetes), ``--no-supervise`` runs the worker in the command's own
process instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import NoReturn

from gateway.config import LoadedConfig
from gateway.transport.admin import wait_for_topics
from gateway.transport.clients import clients_for
from gateway.transport.topic_plan import topic_plan
from gateway.worker.exits import FINAL, Exit, describe

log = logging.getLogger("a6gw.worker")

RESTART_PAUSE_S = 1.0
MAX_RESTART_PAUSE_S = 30.0
#: A run at least this long resets the pause between restarts to its minimum.
HEALTHY_RUN_S = 60.0


def run_worker(
    lc: LoadedConfig, *, loglevel: str = "info", datadir: Path | None = None
) -> NoReturn:
    """The faust worker in this process; exits the process when stopped."""
    import faust

    from gateway.worker.app import create_app

    # The worker may not create topics (its principal has no CREATE): they must be there.
    topics, _configs = topic_plan(lc.config)
    asyncio.run(wait_for_topics(clients_for(lc, "worker"), topics))
    app = create_app(lc, datadir=datadir)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    worker.execute_from_commandline()  # exits the process (SystemExit) when stopped


def supervise(cmd: list[str], *, status: Path | None = None) -> int:
    """Run ``cmd`` (the worker without supervision); start it again each time it stalls or
    dies, pausing longer after each quick death; count the restarts (in ``status``).

    SIGTERM and SIGINT go to the child, and the supervisor then exits with its code.
    """
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    restarts = 0
    pause = RESTART_PAUSE_S
    while True:
        started = time.monotonic()
        child = subprocess.Popen(cmd)
        code = child.wait()
        if stopping or code in FINAL:
            return 128 - code if code < 0 else code  # killed by a signal: the shell's 128 + n
        restarts += 1
        why = "stalled" if code == Exit.STALLED else f"died ({describe(code)})"
        print(
            f"a6gw worker: the worker {why}; starting it again (restart {restarts})",
            file=sys.stderr,
            flush=True,
        )
        if status is not None:
            _write_status(status, restarts, code)
        if time.monotonic() - started >= HEALTHY_RUN_S:
            pause = RESTART_PAUSE_S
        time.sleep(pause)
        pause = min(pause * 2, MAX_RESTART_PAUSE_S)


def _write_status(path: Path, restarts: int, code: int) -> None:
    """The restart count, for operators and tests (a later metrics exporter reads it)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"restarts": restarts, "last_exit": code}) + "\n")
        os.replace(tmp, path)
    except OSError as exc:
        print(f"a6gw worker: cannot write {path}: {exc}", file=sys.stderr, flush=True)
