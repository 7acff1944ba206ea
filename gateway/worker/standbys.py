"""The copies of the global tables (``accounts``): whether a worker has read what the other
workers wrote before it decides.

faust assigns a global table's partitions that another worker writes to every worker as
*standby* partitions. It resumes the streams once a worker's own (active) changelog
partitions are recovered and reads the standbys after, so a restarted or new worker could
decide against an account it has not read yet. :meth:`gateway.worker.runtime.Runtime.running`
waits for them (:class:`StandbyWait`): they are caught up once read up to the highwater
faust took of them as recovery ended.

The wait is bounded: faust clears its changelog queue whenever it resumes the flow, which it
does once more as recovery ends, after it resumed the standby partitions, so records of
theirs fetched by then can be dropped and never fetched again (seen in the three-worker
fault run: a standby partition at offset 1 of 3, or a new worker's at -1 of 5, for minutes,
and seeking it back did not bring them). Past the bound the worker decides, and says how
far behind its copy is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("a6gw.worker")


def lagging(recovery: Any) -> dict[Any, int]:
    """The standby changelog partitions of faust's ``recovery`` (with no standby replicas
    configured: the global tables' partitions of other workers) not read up to the highwater
    it took of them when recovery ended, with the records each still has to read (an offset
    ``-1`` or ``None``: nothing read; a highwater ``-1``: empty)."""
    offsets, highwaters = recovery.standby_offsets, recovery.standby_highwaters
    out = {}
    for tp in recovery.standby_tps:
        read = offsets.get(tp)
        left = highwaters.get(tp, -1) - (-1 if read is None else read)
        if left > 0:
            out[tp] = left
    return out


def standbys_caught_up(recovery: Any) -> bool:
    """No standby partition :func:`lagging`."""
    return not lagging(recovery)


@dataclass
class StandbyWait:
    """Whether the standbys are caught up, or were waited for ``limit_s`` since this
    generation's recovery was first seen behind."""

    limit_s: float
    clock: Callable[[], float] = time.monotonic
    #: the generation waited for and since when
    since: tuple[int, float] | None = field(default=None)
    warned: bool = False

    def settled(self, recovery: Any, generation: int) -> bool:
        behind = lagging(recovery)
        if not behind:
            return True
        now = self.clock()
        if self.since is None or self.since[0] != generation:
            self.since, self.warned = (generation, now), False
        if now - self.since[1] < self.limit_s:
            return False
        if not self.warned:
            self.warned = True
            log.warning(
                "deciding though the copy of the global tables is %d records behind after "
                "%.0f s (faust did not read them: %s)",
                sum(behind.values()), self.limit_s,
                ", ".join(f"{tp.topic}[{tp.partition}]" for tp in sorted(behind)),
            )  # fmt: skip
        return True
