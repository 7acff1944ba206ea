"""``a6gw worker``: check the topics (``a6gw topics`` creates them), then run the faust
worker until SIGTERM/SIGINT.

By default the command supervises: it runs the faust worker in a child process and starts
it again when it exits with ``EXIT_STALLED`` (its watchdog found the consumer wedged; see
``gateway.worker.watch``). A crash loses nothing, so a restart is always safe. Under a
service manager that restarts on failure (systemd, Kubernetes), ``--no-supervise`` runs the
worker in the command's own process instead.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import NoReturn

from gateway.config import LoadedConfig
from gateway.kafka.admin import wait_for_topics
from gateway.kafka.clients import clients_for
from gateway.worker.topics import topic_plan

log = logging.getLogger("a6gw.worker")

EXIT_STALLED = 75  # EX_TEMPFAIL (sysexits.h); gateway.worker.app uses the same code
RESTART_PAUSE_S = 1.0


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


def supervise(cmd: list[str]) -> int:
    """Run ``cmd`` (the worker without supervision); start it again each time it stalls.

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
    while True:
        child = subprocess.Popen(cmd)
        code = child.wait()
        if stopping or code != EXIT_STALLED:
            return 128 - code if code < 0 else code  # killed by a signal: the shell's 128 + n
        restarts += 1
        print(
            f"a6gw worker: the worker stalled and exited; starting it again (restart {restarts})",
            file=sys.stderr,
            flush=True,
        )
        time.sleep(RESTART_PAUSE_S)
