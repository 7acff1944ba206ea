"""``timeouts``: transfers left unanswered past their deadline, in the partitions this worker
owns, become timeout inputs (``LedgerState.overdue``: a range read of the open transfers by
deadline, no scan)."""

from __future__ import annotations

import time
from typing import Any

from gateway.core.steps import timeout_record
from gateway.worker.runtime import Runtime


def install(rt: Runtime) -> None:
    """The ``timeouts`` timer."""
    ctx, state = rt.ctx, rt.state
    emitted: set[str] = set()
    # The state's indexes follow the tables it applies to; a recovered or revoked table
    # changes under them, so derive them again before the next look.
    stale = {"index": True}

    async def mark_stale() -> None:
        stale["index"] = True

    rt.tables["transfers"].on_recover(mark_stale)

    @rt.app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def revoked(sender: Any, *args: Any, **kwargs: Any) -> None:
        stale["index"] = True

    @rt.app.timer(interval=rt.config.timeouts.check_interval_s)  # type: ignore[untyped-decorator]
    async def timeouts() -> None:
        """Overdue transfers in the partitions this worker owns become timeout inputs."""
        if not rt.running():
            return  # a half-recovered table could show an answered transfer as pending
        if stale["index"]:
            state.rebuild_index()
            stale["index"] = False
        now_ms = int(time.time() * 1000)
        for tx in state.overdue(now_ms):
            ident = f"{tx['ca_id']}|{tx['transaction_id']}"
            if ident not in emitted:
                await rt.send_all([timeout_record(tx, ctx.signer, ctx.directory)])
                emitted.add(ident)
