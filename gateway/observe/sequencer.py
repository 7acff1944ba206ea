"""The sequencer's metrics: what it appends and finds on record already, the tree size, the
last checkpoint, and the discrepancies by status (:data:`gateway.observe.metrics.AUDIT`,
exported only while this worker owns the log)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from gateway.audit.logstore import LogStore
from gateway.observe import metrics as m
from gateway.observe.tally import EntryTally, split_appended
from gateway.services.discrepancies import load_discrepancies

__all__ = ["SequencerView"]

log = logging.getLogger("a6gw.observe")


class SequencerView:
    """Called by the sequencer (``gateway.worker.sequencing.AuditWriter``) as it works."""

    def __init__(
        self,
        store: LogStore,
        state: m.AuditState = m.AUDIT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.state = state
        self.clock = clock
        self.tally = EntryTally(state, clock)

    def took_over(self, signed_size: int) -> None:
        """The sequencer owns the log; ``signed_size``: the last published checkpoint's
        size (-1: none published yet). The discrepancies' statuses are read from the
        store's index once here, then followed entry by entry."""
        s = self.state
        found: dict[str, str]
        try:
            tracked = load_discrepancies(self.store)
            found = {d: str(t.discrepancy.status) for d, t in tracked.items()}
        except Exception:  # noqa: BLE001 - the metrics must not stop the sequencer
            log.exception("metrics: cannot read the discrepancies from the audit store")
            found = {}
        with s.lock:
            s.discrepancies = found
        s.tree_size = self.store.size()
        s.checkpoint_size = signed_size if signed_size >= 0 else None
        s.checkpoint_at = self.clock()
        s.active = True

    def appended(self, items: Sequence[tuple[str, bytes]], added: int) -> None:
        """A batch given to the store, of which it appended ``added``."""
        size = self.store.size()
        new, old = split_appended(items, added, self.store.index_of, size - added)
        self.state.tree_size = size
        if new:
            self.tally.appended(new)
        if old:
            self.tally.duplicates(old)

    def published(self, size: int) -> None:
        self.state.checkpoint_size = size
        self.state.checkpoint_at = self.clock()

    def left(self) -> None:
        """Another sequencer took the log over."""
        self.state.active = False

    def refused(self, code: str, why: str) -> None:
        """The sequencer refused to run (the worker stops next)."""
        m.REFUSALS.labels(code).inc()
        self.state.refusal = f"{code}: {why}"
