"""The copies of the global tables (``accounts``): whether a worker has read what the other
workers wrote, and reading it again where faust dropped it.

faust assigns a global table's partitions that another worker writes to every worker as
*standby* partitions. It resumes the streams once a worker's own (active) changelog
partitions are recovered and reads the standbys after, so a restarted or new worker must
wait for them before it decides (:meth:`gateway.worker.runtime.Runtime.running`): they are
caught up once read up to the highwater faust took of them as recovery ended.

faust also clears its changelog queue whenever it resumes the flow, which it does once more
as recovery ends, after it resumed the standby partitions: records of theirs fetched by
then are dropped and, the fetch position being past them, never fetched again. A worker
restarted after another wrote accounts would then never read those accounts (seen in the
three-worker fault run: a standby partition at offset 1 of 3 for minutes, across a
rebalance). :class:`CatchUp` seeks such a partition back to just after what was read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("a6gw.worker")

#: how often a wait for the tables looks for standby partitions that stand still
CATCH_UP_S = 1.0
#: a standby partition that read nothing for this long (since it was last looked at or
#: sought) is sought back
STILL_S = 2.0


def lagging(recovery: Any) -> set[Any]:
    """The standby changelog partitions of faust's ``recovery`` (with no standby replicas
    configured: the global tables' partitions of other workers) not read up to the highwater
    it took of them when recovery ended (``-1``: empty; an offset ``None``: nothing read)."""
    offsets, highwaters = recovery.standby_offsets, recovery.standby_highwaters
    out = set()
    for tp in recovery.standby_tps:
        read = offsets.get(tp)
        if (-1 if read is None else read) < highwaters.get(tp, -1):
            out.add(tp)
    return out


def standbys_caught_up(recovery: Any) -> bool:
    """No standby partition :func:`lagging`."""
    return not lagging(recovery)


@dataclass
class CatchUp:
    """Remembers what each lagging standby partition had read, and since when."""

    clock: Callable[[], float] = time.monotonic
    #: partition -> the offset it had read (None: nothing) and since when (or its seek)
    marks: dict[Any, tuple[int | None, float]] = field(default_factory=dict)

    async def nudge(self, consumer: Any, recovery: Any) -> list[tuple[Any, int]]:
        """Seek each lagging partition that read nothing for :data:`STILL_S` back to just
        after what it read (faust's recovery skips records it applied already); returns
        the seeks made. Several callers may look: a seek is given that long to work."""
        behind = lagging(recovery)
        seeks = []
        now = self.clock()
        for tp in sorted(behind):
            read = recovery.standby_offsets.get(tp)
            was, since = self.marks.get(tp, (read, now))
            if was != read:
                since = now
            self.marks[tp] = (read, since)
            if now - since >= STILL_S:
                offset = 0 if read is None or read < 0 else read + 1
                log.warning(
                    "%s[%d]: the standby copy stands still at offset %s; seeking to %d",
                    tp.topic, tp.partition, read, offset,
                )  # fmt: skip
                try:
                    await consumer.seek(tp, offset)
                except Exception as exc:  # noqa: BLE001 - revoked meanwhile: recovery again
                    log.info("cannot seek %s[%d] (%s)", tp.topic, tp.partition, exc)
                    continue
                seeks.append((tp, offset))
                self.marks[tp] = (read, now)
        for tp in set(self.marks) - behind:
            del self.marks[tp]
        return seeks
