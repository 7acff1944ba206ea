"""Watchdog for partitions whose records stop reaching their agent.

The guard in ``gaps`` repairs a skipped range when the next record of the partition arrives.
Two cases leave no next record to trigger it, and the watchdog finds them by comparing each
agent's cursor with the broker's view of the partition:

- the tail was skipped: the group's committed offset is past the cursor + 1;
- the partition stalled: records have waited after the cursor for ``stall_s`` seconds, and
  neither the cursor nor the committed offset has moved meanwhile, though the worker owns
  the partition (a partition idle for lack of records is not stalled: its clock starts when
  records wait again).

Either way the worker first seeks the partition back to the cursor + 1, or to the group's
committed offset when that is lower, and resumes fetching it; records between there and what
the agent has seen are then redelivered, which is harmless (every effect is idempotent). If
the partition still has not moved ``stall_s`` later, the consumer itself is wedged, and the
worker restarts: a crash is safe by design, and a fresh consumer starts from the committed
offsets.

After a ``kill -9`` the cursor in the worker's local store can be ahead of what reached the
broker (it is written as the batch commits, before the flush that makes the batch durable),
so the records from the committed offset up to the cursor are redelivered and decided again
without moving the cursor. The watchdog counts the committed offset moving as progress too,
and never seeks past it: a seek to the cursor + 1 would skip the records the crash left
undone, which nothing would bring back (the contiguity guard trusts the cursor).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Status:
    """What the broker and the agent know about one partition."""

    last: int | None  # the agent's cursor: the last offset it processed
    committed: int | None  # the group's committed offset (the next one to read)
    end: int  # the log end offset (one past the last record)


def next_offset(last: int | None) -> int:
    return 0 if last is None else last + 1


def seek_offset(status: Status) -> int:
    """Where to seek a partition: after the cursor, but never past the committed offset
    (records between the two may be undone: see the module)."""
    target = next_offset(status.last)
    return target if status.committed is None else min(target, status.committed)


def skipped(status: Status) -> bool:
    """Records were committed without the agent processing them."""
    return status.committed is not None and status.committed > next_offset(status.last)


def waiting(status: Status) -> bool:
    """Records are there that the agent has not processed."""
    return status.end > next_offset(status.last)


@dataclass(frozen=True)
class Seek:
    offset: int


@dataclass(frozen=True)
class Restart:
    reason: str


Action = Seek | Restart | None
#: a partition's cursor and committed offset
Place = tuple[int | None, int | None]


class Watch:
    """Remembers since when each partition's cursor, and each agent, has stood still.

    A partition whose records wait is only *stalled* when its agent as a whole has not moved
    for ``stall_s`` either: a busy agent works through its other partitions' records first
    (faust hands them over in fetched batches), which is not a fault.
    """

    def __init__(self, stall_s: float) -> None:
        self.stall_s = stall_s
        # key -> (cursor and committed offset, since when they stand there with records
        # waiting, whether a seek was tried since, whether records waited at the last check)
        self._state: dict[str, tuple[Place, float, bool, bool]] = {}
        self._agent_moved: dict[str, float] = {}

    def check_all(
        self, statuses: list[tuple[str, str, Status]], now: float
    ) -> list[tuple[str, Seek | Restart]]:
        """``(key, agent, status)`` of every partition owned → the actions to take."""
        for key, agent, status in statuses:
            place, waits = (status.last, status.committed), waiting(status)
            was, since, sought, waited = self._state.get(key, (place, now, False, waits))
            if was != place:  # the cursor moved, or the group committed more
                since, sought = now, False
                self._agent_moved[agent] = now
            elif waits and not waited:  # records again, after a caught-up spell
                since = now
            self._agent_moved.setdefault(agent, now)
            self._state[key] = (place, since, sought, waits)
        actions: list[tuple[str, Seek | Restart]] = []
        for key, agent, status in statuses:
            action = self._decide(key, status, now - self._agent_moved[agent] >= self.stall_s, now)
            if action is not None:
                actions.append((key, action))
        return actions

    def _decide(self, key: str, status: Status, agent_idle: bool, now: float) -> Action:
        place, since, sought, waits = self._state[key]
        stalled = waits and agent_idle and now - since >= self.stall_s
        if not (skipped(status) or stalled):
            return None
        if not sought:
            self._state[key] = (place, now, True, waits)  # give the seek time to take effect
            return Seek(seek_offset(status))
        if stalled:
            return Restart(
                f"{key} has not moved past offset {status.last} for {self.stall_s:.0f} s "
                f"after a seek, nor has its agent (committed {status.committed}, "
                f"end {status.end})"
            )
        return None

    def forget(self, keys: set[str]) -> None:
        """Partitions this worker no longer owns."""
        for key in set(self._state) - keys:
            del self._state[key]
