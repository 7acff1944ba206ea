"""faust wiring: thin agents over the pure steps in ``gateway.core.steps``.

- ``ingest``: all input topics → authenticate, dead-letter, dedup → ``a6.ledger`` keyed by
  cooperative approach (the one repartition hop);
- ``ledger``: ``a6.ledger`` → checks against the block ledger → decisions, notices, audit
  entries;
- ``sequencer``: ``a6.audit.log`` (one partition, so one active writer) → the audit store,
  and signed checkpoints on ``a6.audit.checkpoints`` (``gateway.worker.sequencing``);
- ``timeouts``: overdue transfers become timeout inputs;
- ``discrepancies``: ``a6.discrepancies`` (findings) and ``a6.discrepancy.commands``
  (operators' signed commands), keyed by discrepancy id → the ``discrepancies`` table and
  one audit entry per record (``gateway.core.oversight``);
- ``deliver-<id>`` / ``redeliver-<id>`` for each HTTPS partner (``gateway.worker.delivery``);
- ``watchdog``: stuck partitions sought back, a wedged worker restarted.
- ``witnesses``: checkpoints submitted to the configured witnesses, cosignatures kept.

Each family is one module of ``gateway.worker.agents`` with an ``install(rt)`` over the
shared :class:`gateway.worker.runtime.Runtime`, built once here.

Agents run with ``concurrency=1`` (faust #606) under at-least-once delivery; every effect is
idempotent, keyed by deterministic ids. The ingest, ledger, discrepancies and sequencer
agents take what a fetch returned as a batch (``gateway.worker.batches``) and wait for the
batch's writes to be acknowledged (acks=all) before its offsets are committed, so an input is
never committed ahead of its decision; the ledger makes the batch's decision records durable
(one flush) before any of their effects and outputs (one more), and keeps its working state
in memory, rebuilt from the decisions (``gateway.worker.memory``). No input stops a
partition: each record is decided in a shield that dead-letters what a step raises on and
quarantines what the process dies on (``gateway.worker.faults``). Each agent keeps a cursor
per partition, written once per batch, and re-reads what the consumer skipped
(``gateway.worker.gaps``); a watchdog seeks stuck partitions back and restarts a wedged
worker (``gateway.worker.watch``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import faust

from gateway.config import LoadedConfig
from gateway.worker.agents import (
    delivery,
    ingest,
    ledger,
    oversight,
    sequencer,
    timers,
    watchdog,
    witnesses,
)
from gateway.worker.runtime import Runtime

#: The agent families, in the order they are declared on the app.
FAMILIES: tuple[Callable[[Runtime], None], ...] = (
    ingest.install,
    ledger.install,
    oversight.install,
    timers.install,
    sequencer.install,
    delivery.install,
    watchdog.install,
    witnesses.install,
)


def create_app(
    lc: LoadedConfig, *, datadir: Path | None = None, instance_id: str | None = None
) -> faust.App:
    """The faust app; ``datadir`` holds its RocksDB tables (one folder per worker);
    ``instance_id`` is its static group-instance id (``gateway.worker.run``)."""
    return create_runtime(lc, datadir=datadir, instance_id=instance_id).app


def create_runtime(
    lc: LoadedConfig, *, datadir: Path | None = None, instance_id: str | None = None
) -> Runtime:
    """:func:`create_app`'s runtime, every agent family installed on it."""
    rt = Runtime.build(lc, datadir=datadir, instance_id=instance_id)
    for install in FAMILIES:
        install(rt)
    return rt
