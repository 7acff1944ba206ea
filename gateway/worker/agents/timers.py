"""``timeouts``: transfers left unanswered past their deadline, in the partitions this worker
owns (the ledger state in memory, ``gateway.worker.memory``), become timeout inputs
(``LedgerState.overdue``: a range read of the open transfers by deadline, no scan)."""

from __future__ import annotations

import time

from gateway.core.steps import timeout_record
from gateway.worker.runtime import Runtime


def install(rt: Runtime) -> None:
    """The ``timeouts`` timer."""
    ctx = rt.ctx
    emitted: set[str] = set()

    @rt.app.timer(interval=rt.config.timeouts.check_interval_s)  # type: ignore[untyped-decorator]
    async def timeouts() -> None:
        """Overdue transfers in the partitions this worker owns become timeout inputs."""
        if not rt.running():
            return  # a half-recovered table could show an answered transfer as pending
        now_ms = int(time.time() * 1000)
        # current(): the state rebuilt from the stored decisions after a recovery or a
        # rebalance, its indexes with it
        for tx in rt.ledger.current().overdue(now_ms):
            ident = f"{tx['ca_id']}|{tx['transaction_id']}"
            if ident not in emitted:
                await rt.send_all([timeout_record(tx, ctx.signer, ctx.directory)])
                emitted.add(ident)
