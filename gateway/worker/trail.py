"""One INFO line per decision and per dead letter, on the ``a6gw.decisions`` logger.

An agent's run (``gateway.worker.batches``) notes which of its stage's outputs each record
produced (:meth:`Trail.note`); once the run is durable (its commit returned),
:meth:`Trail.emit` logs, for each record, each audit entry among its outputs: a decision
(``decision``), a dead letter (``dead-letter``), a discrepancy's entry (``discrepancy``).
Nothing is logged for a run that failed: it runs again, and logs then. A record that left
no audit entry (an input forwarded to the ledger, a re-sent output) gets a DEBUG line.

The audit entry is the one source of the line's fields (it is what the log will hold):
``entry_id``, ``entry_type``, ``outcome``, ``codes`` (its results' codes, in order),
``event_id`` and ``source`` (an authenticated input's), and where the record was read:
``step``, ``topic``, ``partition``, ``offset``. A decision the ledger re-sends for a
redelivered input logs again, with the same ``entry_id``.

When the logger is not enabled for INFO, a run costs one level check and nothing else.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.core.canonical import glance
from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC

log = logging.getLogger("a6gw.decisions")


class Trail:
    """The notes of one run: each record and the slice of the stage's outputs it made."""

    def __init__(self) -> None:
        self.on = False
        self.notes: list[tuple[RawInput, int, int]] = []

    def begin(self) -> None:
        """A new run; notes are taken only if INFO lines would be written."""
        self.on = log.isEnabledFor(logging.INFO)
        self.notes = []

    def note(self, rec: RawInput, start: int, end: int) -> None:
        """``rec`` made the stage's outputs ``[start:end]``."""
        if self.on:
            self.notes.append((rec, start, end))

    def emit(self, step: str, outputs: list[Output]) -> None:
        """Log the run's audit entries (after its commit)."""
        if not self.on:
            return
        debug = log.isEnabledFor(logging.DEBUG)
        for rec, start, end in self.notes:
            logged = False
            for out in outputs[start:end]:
                if out.topic == AUDIT_TOPIC:
                    log_entry(step, rec, out.value)
                    logged = True
            if not logged and debug:
                topics = sorted({o.topic for o in outputs[start:end]})
                where = {"step": step, "topic": rec.topic, "partition": rec.partition}
                where |= {"offset": rec.offset, "to": topics}
                log.debug("no audit entry", extra=where)
        self.notes = []


def log_entry(step: str, rec: RawInput, value: bytes) -> None:
    """The INFO line of the audit entry ``value`` that ``step`` wrote for ``rec``."""
    if not log.isEnabledFor(logging.INFO):
        return
    fields = entry_fields(value)
    fields.update(step=step, topic=rec.topic, partition=rec.partition, offset=rec.offset)
    # log.info's record without its search of the stack for the caller (~3 µs a line; no
    # formatter of the gateway's shows where a line was logged)
    args = (fields["entry_type"], fields.get("outcome"))
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, "%s %s", args, None, "", fields))


def entry_fields(value: bytes) -> dict[str, Any]:
    """The logged fields of an audit entry's bytes (``entry_id``, ``entry_type``,
    ``outcome``, ``codes``, and ``event_id``/``source`` when its input has them); an entry
    that is not a JSON object gives ``{"entry_type": "unreadable"}``."""
    try:
        entry = glance(value)
    except ValueError:
        entry = None
    if not isinstance(entry, dict):
        return {"entry_type": "unreadable"}
    results = entry.get("results")
    fields: dict[str, Any] = {
        "entry_id": entry.get("entry_id"),
        "entry_type": entry.get("entry_type"),
        "outcome": entry.get("outcome"),
        "codes": [r.get("code") for r in results if isinstance(r, dict)]
        if isinstance(results, list)
        else [],
    }
    inp = entry.get("input")
    if isinstance(inp, dict) and "id" in inp and "source" in inp:
        fields["event_id"], fields["source"] = inp["id"], inp["source"]
    return fields
