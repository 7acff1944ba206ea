"""The worker process's exit statuses, and what the supervisor does with each.

``a6gw worker`` supervises a child that runs the faust worker (``gateway.worker.run``); the
child's status tells the supervisor whether to start it again. Statuses above 64 follow
``sysexits.h``.
"""

from __future__ import annotations

import signal
from enum import IntEnum


class Exit(IntEnum):
    """An exit status of the worker process."""

    OK = 0
    """Stopped cleanly (SIGTERM, SIGINT): supervision ends."""

    REFUSED = 3
    """The sequencer refuses the audit store: it is behind, or apart from, the last
    published checkpoint (``AUD-BEHIND``, ``AUD-FORK``, ``AUD-CHECKPOINT``). An operator must
    look, so the supervisor does not start the worker again. Also: another live worker
    holds the worker's data folder (``gateway.worker.run.hold_folder``)."""

    CRASHED = 70
    """``EX_SOFTWARE``: the worker killed itself on an input (a test's injected crash, or a
    ``MemoryError``); the attempts journal counts the death against the input
    (``gateway.worker.faults``) and the supervisor starts the worker again."""

    STALLED = 75
    """``EX_TEMPFAIL``: the watchdog found the consumer wedged (``gateway.worker.watch``);
    nothing is lost by a crash, so the supervisor starts a fresh worker."""


#: The statuses after which the supervisor does not start the worker again.
FINAL = frozenset({Exit.OK, Exit.REFUSED})


def describe(code: int) -> str:
    """A child's return code as the supervisor reports it: a signal (negative) or a status."""
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"
