"""The ledger state one worker holds in memory (:class:`WorkerState`), and its full rebuild
from the stored decisions (:func:`rebuild`); ``gateway.worker.memory`` says how it is kept,
recovered and snapshotted."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.core.state import TABLES, VERSION, LedgerState, Put, TableName, newer_or_equal
from gateway.worker.snapshots import Stored

log = logging.getLogger("a6gw.worker")


class WorkerState(LedgerState):
    """The ledger state of one worker: its partitions' effects in memory; decisions read
    from the ``decisions`` table; accounts from memory or the ``accounts`` global table."""

    def __init__(self, decisions: Mapping[str, Any], accounts: Mapping[str, Any]) -> None:
        super().__init__()
        self.decisions = decisions
        self.global_accounts = accounts
        self.own_accounts: dict[str, dict[str, Any]] = {}
        #: decisions + effects applied (what a snapshot saves a restart from re-applying)
        self.work = 0
        #: effects applied since the last :meth:`LedgerMemory.settled`, maybe of decisions
        #: not durable yet: no snapshot may be taken of the state then
        self.dirty = False

    def apply(self, effects: Iterable[Put], version: int) -> None:
        effects = list(effects)
        self.work += 1 + len(effects)
        self.dirty = True
        for eff in effects:
            if eff.table == "accounts":
                if newer_or_equal(self.own_accounts.get(eff.key), version):
                    self.own_accounts[eff.key] = {**eff.value, VERSION: version}
        super().apply([e for e in effects if e.table != "accounts"], version)

    def load(self, stored: Iterable[Stored]) -> None:
        """Apply stored decisions' effects in bulk, in the order given (version order):
        each table's last write of each key, then every index derived once."""
        tables = self.tables
        own = self.own_accounts
        for version, effects in stored:
            self.work += 1 + len(effects)
            for table, key, value in effects:
                rec = {**value, VERSION: version}
                if table == "accounts":
                    own[key] = rec
                else:
                    tables[table][key] = rec
        self.rebuild_index()

    def tables_now(self) -> dict[TableName, dict[str, Any]]:
        """The tables as they are now, its own accounts in ``accounts`` (what a snapshot
        holds): copies of the mappings; the records are never changed in place."""
        out = {name: dict(self.tables[name]) for name in TABLES}
        out["accounts"] = dict(self.own_accounts)
        out["decisions"] = {}
        return out

    def snapshot_records(self) -> int:
        """How many records :meth:`tables_now` holds (without copying them)."""
        left_out = ("accounts", "decisions")
        kept = sum(len(self.tables[n]) for n in TABLES if n not in left_out)
        return kept + len(self.own_accounts)

    @classmethod
    def restored(
        cls,
        decisions: Mapping[str, Any],
        accounts: Mapping[str, Any],
        tables: Mapping[TableName, dict[str, Any]],
        later: Iterable[Stored] = (),
    ) -> WorkerState:
        """The state a snapshot's tables hold (see :meth:`tables_now`) with the stored
        decisions ``later`` applied after them (in bulk: the indexes are derived once)."""
        state = cls(decisions, accounts)
        for name in TABLES:
            if name not in ("accounts", "decisions"):
                state.tables[name] = tables[name]
        state.own_accounts = dict(tables["accounts"])
        state.load(later)
        return state

    def get(self, table: TableName, key: str) -> dict[str, Any] | None:
        if table == "decisions":
            stored = self.decisions.get(key)
            return dict(stored) if stored is not None else None
        if table == "accounts":
            return self.account(key)
        return super().get(table, key)

    def account(self, key: str) -> dict[str, Any] | None:
        # An account in memory belongs to a partition this worker holds, whose every
        # decision the state has: it is the newest. Any other is read from the global table.
        best = self.own_accounts.get(key)
        if best is None:
            best = self.global_accounts.get(key)
        if best is None:
            return None
        return {k: v for k, v in best.items() if k != VERSION}

    def size(self) -> int:
        return sum(len(t) for t in self.tables.values()) + len(self.own_accounts)


def rebuild(decisions: Mapping[str, Any], accounts: Mapping[str, Any]) -> WorkerState:
    """The state the stored decisions make: their effects applied in version order."""
    started, cpu = time.monotonic(), time.process_time()
    # Only the effects are kept while sorting (a decision's outputs are most of its bytes).
    stored = sorted(((int(d["version"]), d["effects"]) for d in decisions.values()), key=_first)
    state = WorkerState(decisions, accounts)
    state.load(stored)
    state.dirty = False
    log.info(
        "ledger state rebuilt from %d decisions in %.2f s (%.2f s CPU)",
        len(stored),
        time.monotonic() - started,
        time.process_time() - cpu,
    )
    return state


def _first(item: Stored) -> int:
    return item[0]
