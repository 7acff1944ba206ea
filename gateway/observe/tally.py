"""What the worker's hooks count, a batch at a time: audit entries and partition positions.

:func:`entry_facts` reads what the metrics need from an audit entry's bytes (one parse,
:func:`gateway.core.canonical.glance`); :class:`EntryTally` counts a sequenced batch with one
increment per label set, not one per entry; :class:`Positions` keeps the partition gauges
to the partitions the worker owns now. :class:`InputTally` counts an agent's records per topic.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.core.canonical import glance
from gateway.observe import metrics as m

__all__ = ["EntryFacts", "EntryTally", "InputTally", "Positions", "arrival_s", "entry_facts"]


@dataclass(frozen=True)
class EntryFacts:
    """What the metrics count of one audit entry."""

    entry_type: str
    outcome: str
    codes: tuple[str, ...]
    #: when the input arrived (``decided_at``: a decision is dated at its input's arrival)
    decided_at: str | None
    #: (discrepancy id, its status after this entry), for discrepancy entries
    discrepancy: tuple[str, str] | None = None


UNKNOWN = EntryFacts("unknown", "unknown", (), None)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "unknown"


def entry_facts(body: bytes) -> EntryFacts:
    """The facts of an entry's bytes; :data:`UNKNOWN` for bytes that are no JSON object."""
    try:
        obj = glance(body)
    except ValueError:
        return UNKNOWN
    if not isinstance(obj, dict):
        return UNKNOWN
    results = obj.get("results")
    codes = tuple(
        r["code"] for r in results or () if isinstance(r, dict) and isinstance(r.get("code"), str)
    )
    found = obj.get("discrepancy")
    discrepancy = None
    if obj.get("entry_type") == "discrepancy" and isinstance(found, dict):
        ident = found.get("discrepancy_id")
        status = found.get("status", "open")  # a finding as found has no status: open
        if isinstance(ident, str) and isinstance(status, str):
            discrepancy = (ident, status)
    at = obj.get("decided_at")
    return EntryFacts(
        _text(obj.get("entry_type")),
        _text(obj.get("outcome")),
        codes,
        at if isinstance(at, str) else None,
        discrepancy,
    )


def arrival_s(decided_at: str) -> float | None:
    """``decided_at`` (RFC 3339, UTC) as seconds since the epoch; None if it is not one."""
    try:
        return datetime.fromisoformat(decided_at).timestamp()
    except ValueError:
        return None


class EntryTally:
    """Counts what the sequencer appends, and what it finds on record already."""

    def __init__(self, state: m.AuditState = m.AUDIT, clock: Callable[[], float] = time.time):
        self.state = state
        self.clock = clock

    def appended(self, bodies: Iterable[bytes]) -> None:
        """Entries newly on record: by type and outcome; decisions by outcome and code,
        with their latency; dead letters and gateway faults by code; discrepancies."""
        entries: Counter[tuple[str, str]] = Counter()
        decisions: Counter[str] = Counter()
        codes: Counter[tuple[str, str]] = Counter()
        dead: Counter[str] = Counter()
        now = self.clock()
        latencies: list[float] = []
        for body in bodies:
            f = entry_facts(body)
            entries[(f.entry_type, f.outcome)] += 1
            if f.entry_type == "decision":
                decisions[f.outcome] += 1
                for code in f.codes:
                    codes[(f.outcome, code)] += 1
                arrived = arrival_s(f.decided_at) if f.decided_at else None
                if arrived is not None:
                    latencies.append(max(0.0, now - arrived))
            elif f.entry_type == "dead-letter":
                for code in f.codes:
                    dead[code] += 1
            if f.discrepancy is not None:
                with self.state.lock:
                    self.state.discrepancies[f.discrepancy[0]] = f.discrepancy[1]
        for (kind, outcome), n in entries.items():
            m.ENTRIES.labels(kind, outcome).inc(n)
        for outcome, n in decisions.items():
            m.DECISIONS.labels(outcome).inc(n)
        for (outcome, code), n in codes.items():
            m.DECISION_CODES.labels(outcome, code).inc(n)
        for code, n in dead.items():
            m.DEAD_LETTERS.labels(code).inc(n)
            if code.startswith("GWF-"):
                m.FAULTS.labels(code).inc(n)
        for seconds in latencies:
            m.LATENCY.observe(seconds)

    def duplicates(self, bodies: Iterable[bytes]) -> None:
        """Entries found on record already: re-sent decisions by outcome, all by type."""
        kinds: Counter[str] = Counter()
        resent: Counter[str] = Counter()
        for body in bodies:
            f = entry_facts(body)
            kinds[f.entry_type] += 1
            if f.entry_type == "decision":
                resent[f.outcome] += 1
        for kind, n in kinds.items():
            m.DUPLICATES.labels(kind).inc(n)
        for outcome, n in resent.items():
            m.RESENT.labels(outcome).inc(n)


def split_appended(
    items: Sequence[tuple[str, bytes]],
    added: int,
    index_of: Callable[[str], int | None],
    start: int,
) -> tuple[list[bytes], list[bytes]]:
    """``items`` a store was given, as (appended, found on record already).

    ``added`` is how many the store appended, at leaf indices from ``start`` on. When it
    appended them all (the usual case) nothing is looked up; else each item's leaf index
    is (``index_of``): an item is new if it is at ``start`` or later, the first time its id
    occurs in ``items``.
    """
    if added == len(items):
        return [body for _, body in items], []
    new: list[bytes] = []
    old: list[bytes] = []
    seen: set[str] = set()
    for entry_id, body in items:
        index = None if entry_id in seen else index_of(entry_id)
        seen.add(entry_id)
        (new if index is not None and index >= start else old).append(body)
    return new, old


class InputTally:
    """An agent's input counter per topic, its children kept (no label lookup per batch)."""

    def __init__(self, agent: str) -> None:
        self.agent = agent
        self._by_topic: dict[str, Any] = {}
        self._batches = m.BATCHES.labels(agent)

    def inputs(self, topics: Iterable[str]) -> None:
        """Count a batch's records, given the topic of each."""
        for topic, n in Counter(topics).items():
            child = self._by_topic.get(topic)
            if child is None:
                child = self._by_topic[topic] = m.INPUTS.labels(self.agent, topic)
            child.inc(n)

    def batch(self) -> None:
        self._batches.inc()


#: (topic, partition, agent)
Part = tuple[str, str, str]


class Positions:
    """The partition gauges of the partitions a worker owns now (others are removed)."""

    def __init__(self) -> None:
        self.shown: set[Part] = set()

    def update(self, rows: Iterable[tuple[str, int, str, int, int]]) -> dict[str, int]:
        """``(topic, partition, agent, end, position)`` of every partition owned → the lag
        of each topic summed (what the caller may export further)."""
        now: set[Part] = set()
        lag_by_topic: dict[str, int] = {}
        for topic, partition, agent, end, position in rows:
            labels = (topic, str(partition), agent)
            lag = max(0, end - position)
            m.LAG.labels(*labels).set(lag)
            m.END_OFFSET.labels(*labels).set(end)
            m.POSITION.labels(*labels).set(position)
            now.add(labels)
            lag_by_topic[topic] = lag_by_topic.get(topic, 0) + lag
        for labels in self.shown - now:
            for gauge in (m.LAG, m.END_OFFSET, m.POSITION):
                try:
                    gauge.remove(*labels)
                except KeyError:
                    pass
        self.shown = now
        return lag_by_topic
