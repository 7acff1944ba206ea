"""The worker's metrics and health server (:mod:`gateway.observe`): its readiness checks and
its restart count; the hooks that count are in the agents (batches, sequencer, watchdog,
delivery)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from gateway.observe import metrics as m
from gateway.observe.health import Checks, producer_connected
from gateway.observe.server import HealthServer, serve
from gateway.worker.runtime import Runtime

__all__ = ["checks", "start"]


def checks(rt: Runtime) -> Checks:
    """``/readyz`` of a worker: its tables recovered and not rebalancing, its ledger state
    recovered, its audit store open, its producer connected, its sequencer not refused."""

    async def tables() -> str | None:
        if rt.running():
            return None
        return "stopping, rebalancing, or the tables are recovering"

    async def ledger() -> str | None:
        return "the ledger state is not recovered yet" if rt.ledger.stale else None

    async def store() -> str | None:
        rt.store.size()  # raises when the store cannot be read
        return None

    async def producer() -> str | None:
        app: Any = rt.app
        return producer_connected(getattr(app.producer, "_producer", None))

    async def sequencer() -> str | None:
        refusal = m.AUDIT.refusal
        return None if refusal is None else f"the sequencer refused to run: {refusal}"

    return {
        "tables": tables,
        "ledger": ledger,
        "store": store,
        "producer": producer,
        "sequencer": sequencer,
    }


def start(
    rt: Runtime, port: int, loop: Callable[[], asyncio.AbstractEventLoop]
) -> HealthServer | None:
    """Serve the worker's metrics and health on ``metrics.host:port`` (0: none); ``loop``
    gives the worker's event loop."""
    m.RESTARTS.set(restarts(rt))

    def loop_of() -> asyncio.AbstractEventLoop | None:
        running = loop()
        return running if running.is_running() else None

    host = rt.config.metrics.host
    return serve(host, port, loop_of, checks(rt), what="a6gw worker")


def restarts(rt: Runtime) -> int:
    """How often the supervisor restarted this worker (``restarts.json`` in its folder)."""
    try:
        doc = json.loads((rt.datadir / "restarts.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return 0
    n = doc.get("restarts") if isinstance(doc, dict) else None
    return n if isinstance(n, int) else 0
