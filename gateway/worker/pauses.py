"""The garbage collector's pauses of a worker's event loop: each collection of the oldest
generation (the whole heap) is timed and logged, so a slow decision can be set beside it.

A collection of the whole heap walks every object the worker keeps (its ledger state among
them): tens to hundreds of milliseconds in which no agent runs. The worker's thresholds
(``gateway.worker.run.GC_THRESHOLDS``) make them rare; this module shows how long each is.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

log = logging.getLogger("a6gw.worker")

#: the oldest generation (CPython's 2)
OLDEST = 2


class Pauses:
    """A ``gc.callbacks`` entry that times the collections of the oldest generation."""

    def __init__(self) -> None:
        self.started: float | None = None
        self.count = 0
        self.total_s = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != OLDEST:
            return
        if phase == "start":
            self.started = time.perf_counter()
        elif phase == "stop" and self.started is not None:
            took = time.perf_counter() - self.started
            self.started = None
            self.count += 1
            self.total_s += took
            freed = int(info.get("collected", 0))
            # Logged once the collection is over: a collection can start inside a log
            # handler's write, which a line written from here would interleave with.
            try:
                asyncio.get_running_loop().call_soon(_report, took, freed)
            except RuntimeError:  # no event loop in this thread
                _report(took, freed)


def _report(took: float, freed: int) -> None:
    log.info("garbage collection of the whole heap: %.0f ms, %d objects freed", took * 1e3, freed)


def watch() -> Pauses:
    """Start timing the worker's full collections (once per process)."""
    for cb in gc.callbacks:
        if isinstance(cb, Pauses):
            return cb
    pauses = Pauses()
    gc.callbacks.append(pauses)
    return pauses
