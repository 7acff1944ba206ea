"""Readiness as named checks: each says None (ready) or why it is not.

``/readyz`` answers 200 with every check passed, else 503 naming each check that is not
ready and why (:func:`report`). The checks of each process run on its own event loop
(:mod:`gateway.observe.server` hands them over), so they may read its state freely.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Checks", "Report", "producer_connected", "report", "run_checks"]

#: name -> an awaitable check: None when ready, else why not
Checks = Mapping[str, Callable[[], Awaitable[str | None]]]


@dataclass(frozen=True)
class Report:
    """The answer of ``/readyz``: its status and JSON body."""

    ready: bool
    checks: dict[str, str]

    @property
    def status(self) -> int:
        return 200 if self.ready else 503

    def body(self) -> str:
        doc: dict[str, Any] = {"ready": self.ready, "checks": self.checks}
        if not self.ready:
            doc["not_ready"] = sorted(k for k, v in self.checks.items() if v != "ok")
        return json.dumps(doc, sort_keys=True)


def report(results: Mapping[str, str | None]) -> Report:
    """The report of ``results`` (check name → None when ready, else why not)."""
    checks = {name: "ok" if why is None else why for name, why in results.items()}
    return Report(all(why is None for why in results.values()), checks)


async def run_checks(checks: Checks) -> Report:
    """Run every check (in order); a check that raises is not ready, with the exception."""
    results: dict[str, str | None] = {}
    for name, check in checks.items():
        try:
            results[name] = await check()
        except Exception as exc:  # noqa: BLE001 - a failing check is an answer, not a crash
            results[name] = f"{type(exc).__name__}: {exc}"
    return report(results)


def producer_connected(producer: Any) -> str | None:
    """Whether an aiokafka producer is connected (None), or why not: it is started, it has
    bootstrapped (its metadata names the brokers), and the connections it holds, if any,
    are up (a producer that sent nothing yet, or nothing for a while, holds none). Reads
    the client's state only: no request is sent."""
    if producer is None:
        return "no producer"
    if getattr(producer, "_closed", True) is not False:
        return "the producer is not started"
    client = getattr(producer, "client", None)
    cluster = getattr(client, "cluster", None)
    if cluster is None or not cluster.brokers():
        return "the producer knows no broker (bootstrap not done)"
    conns = list((getattr(client, "_conns", None) or {}).values())
    if conns and not any(conn.connected() for conn in conns):
        return "the producer's connections to the brokers are down"
    return None
