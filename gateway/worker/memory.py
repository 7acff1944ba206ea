"""The ledger's working state in memory, whose durable changelog is the ``decisions`` table.

The ledger agent decides against a plain :class:`gateway.core.state.LedgerState` held in
this process. Nothing else about it is stored: each value of the ``decisions`` table (a
faust table keyed ``source|id``, MAC-sealed, whose changelog takes one record per batch and
partition: ``gateway.worker.batched``) already carries the decision's effects and its
version (the input's offset in its ledger partition), so the state is the effects of the
stored decisions applied in version order.

**Recovery.** At the start, after the ``decisions`` table recovers and after partitions are
revoked, the state is marked stale; before the next decision (or timer scan) it is rebuilt
from the decisions of the partitions this worker holds, in version order. Effects of
different ledger partitions touch disjoint keys (an approach's blocks, transfers,
authorizations, Joint Committee decisions, openings and transactions are keyed by the
approach, which is the ledger partition key; accounts are keyed ``registry|account`` and
written only by account events, routed ``registry:<id>``: see
:func:`gateway.core.ingest.routing_key`), so ordering every stored decision by its version
orders each partition's decisions as they were made, and the partitions do not interfere.

**A decision is durable before any of its effects.** Within a batch the ledger decides each
input against the state with the earlier inputs' effects applied in memory, and puts its
decision into the table (its local store at once; the changelog takes the batch's
decisions together, a record per partition, at the next flush); it then waits until every
decision of the batch is on the broker (one flush) before it writes anything else: the
``accounts`` global table, the outputs (the signed decisions, notices and audit entries)
and its cursors (one more flush). Only then are the batch's offsets committed. A crash at
any point therefore leaves each input either

- with its decision stored: the rebuilt state includes its effects, and the redelivered
  input takes the redelivery path of :func:`gateway.core.steps.ledger_step` (its stored
  effects re-applied, a no-op by version, and its stored outputs re-sent; the decision is
  put again, so a decision the local store kept but the changelog lost reaches the
  changelog before its outputs are sent again); or
- without it: nothing of it was written but its place in memory, gone with the process,
  and the redelivered input is decided again against the same state (the decisions before
  it in its partition).

**Accounts** are read by every partition. They stay in the ``accounts`` global table, a
copy of the account effects (with their version) written after the decisions flush. An
account key is written by one partition only: an account this worker's state holds belongs
to a partition it holds, whose every decision the state has (including, as a batch goes
on, the earlier inputs' account effects, which are not in the global table yet), so that
copy is read first; any other account is read from the global table, which the worker
holding its partition keeps.

The ``timeouts`` timer reads the transfers of the same state.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.core.state import VERSION, LedgerState, Put, TableName, newer_or_equal

log = logging.getLogger("a6gw.worker")


class WorkerState(LedgerState):
    """The ledger state of one worker: its partitions' effects in memory; decisions read
    from the ``decisions`` table; accounts from memory or the ``accounts`` global table."""

    def __init__(self, decisions: Mapping[str, Any], accounts: Mapping[str, Any]) -> None:
        super().__init__()
        self.decisions = decisions
        self.global_accounts = accounts
        self.own_accounts: dict[str, dict[str, Any]] = {}

    def apply(self, effects: Iterable[Put], version: int) -> None:
        effects = list(effects)
        for eff in effects:
            if eff.table == "accounts":
                if newer_or_equal(self.own_accounts.get(eff.key), version):
                    self.own_accounts[eff.key] = {**eff.value, VERSION: version}
        super().apply([e for e in effects if e.table != "accounts"], version)

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


class LedgerMemory:
    """Holds the current :class:`WorkerState`, rebuilt from the decisions when stale."""

    def __init__(self, decisions: Mapping[str, Any], accounts: Mapping[str, Any]) -> None:
        self.decisions = decisions
        self.accounts = accounts
        self.stale = True
        self._state = WorkerState(decisions, accounts)
        self.rebuilds = 0

    def mark_stale(self) -> None:
        self.stale = True

    def current(self) -> WorkerState:
        """The state, rebuilt first if partitions moved or the table recovered."""
        if self.stale:
            self._state = rebuild(self.decisions, self.accounts)
            self.stale = False
            self.rebuilds += 1
        return self._state


def rebuild(decisions: Mapping[str, Any], accounts: Mapping[str, Any]) -> WorkerState:
    """The state the stored decisions make: their effects applied in version order."""
    started = time.monotonic()
    # Only the effects are kept while sorting (a decision's outputs are most of its bytes).
    stored = sorted(((int(d["version"]), d["effects"]) for d in decisions.values()), key=_first)
    state = WorkerState(decisions, accounts)
    for version, effects in stored:
        state.apply([Put(t, k, v) for t, k, v in effects], version)
    log.info(
        "ledger state rebuilt from %d decisions in %.2f s", len(stored), time.monotonic() - started
    )
    return state


def _first(item: tuple[int, Any]) -> int:
    return item[0]
