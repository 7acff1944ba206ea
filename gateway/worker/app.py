"""faust wiring: thin agents over the pure steps in ``gateway.core.steps``.

- ``ingest``: all input topics → authenticate, dead-letter, dedup → ``a6.ledger`` keyed by
  cooperative approach (the one repartition hop);
- ``ledger``: ``a6.ledger`` → checks against the block ledger → decisions, notices, audit
  entries;
- ``sequencer``: ``a6.audit.log`` (one partition, so one active writer) → the audit store,
  and signed checkpoints on ``a6.audit.checkpoints`` (``gateway.worker.sequencing``);
- ``discrepancies``: ``a6.discrepancies`` (findings) and ``a6.discrepancy.commands``
  (operators' signed commands), keyed by discrepancy id → the ``discrepancies`` table and
  one audit entry per record (``gateway.core.oversight``);
- ``deliver-<id>`` / ``redeliver-<id>`` for each HTTPS partner (``gateway.worker.delivery``).

Agents run with ``concurrency=1`` (faust #606) under at-least-once delivery; every effect is
idempotent, keyed by deterministic ids. Each agent waits for its outputs to be acknowledged
(acks=all) before it moves on, so an input is never committed ahead of its decision; the
ledger also makes each decision record durable before any of its effects. No input stops a
partition: handlers run in a shield that dead-letters what a step raises on and quarantines
what the process dies on (``gateway.worker.faults``). Each agent keeps
a cursor per partition and re-reads what the consumer skipped (``gateway.worker.gaps``); a
watchdog seeks stuck partitions back and restarts a wedged worker (``gateway.worker.watch``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.types import TP

from gateway.audit.open import open_store
from gateway.config import LoadedConfig
from gateway.core.ingest import RawInput
from gateway.core.oversight import oversight_step
from gateway.core.state import GLOBAL_TABLES, TABLES, LedgerState
from gateway.core.steps import Output, ingest_step, ledger_step, timeout_record
from gateway.core.topics import AUDIT_TOPIC, COMMANDS_TOPIC, FINDINGS_TOPIC, LEDGER_TOPIC
from gateway.core.transfers import overdue
from gateway.errors import AuditError
from gateway.transport.clients import clients_for
from gateway.worker.context import WorkerContext
from gateway.worker.delivery import install as install_delivery
from gateway.worker.delivery import partner_clients
from gateway.worker.faults import Attempts, Shield
from gateway.worker.gaps import Guard, Probe, RangeReader, cursor_key, raw_of
from gateway.worker.run import EXIT_REFUSED, EXIT_STALLED
from gateway.worker.sealed import Seal
from gateway.worker.sequencing import AuditWriter
from gateway.worker.watch import Restart, Seek, Status, Watch

log = logging.getLogger("a6gw.worker")

# The sequencer refuses a store behind, or apart from, the last published checkpoint.
REFUSALS = {"AUD-BEHIND", "AUD-FORK", "AUD-CHECKPOINT"}
# The agent that consumes each topic (input topics: ingest), for the watchdog.
AGENT_OF = {
    AUDIT_TOPIC: "sequencer",
    LEDGER_TOPIC: "ledger",
    FINDINGS_TOPIC: "discrepancies",
    COMMANDS_TOPIC: "discrepancies",
}


def create_app(lc: LoadedConfig, *, datadir: Path | None = None) -> faust.App:
    """The faust app; ``datadir`` holds its RocksDB tables (one folder per worker)."""
    cfg = lc.config
    ctx = WorkerContext.load(lc)
    datadir = datadir or (lc.data_dir / "worker")
    partitions = cfg.kafka.partitions
    kafka = clients_for(lc, "worker")
    app = kafka.faust_app(
        cfg.gateway.id,
        store="rocksdb://" if cfg.gateway.table_store == "rocksdb" else "memory://",
        datadir=str(datadir),
        autodiscover=False,
        processing_guarantee="at_least_once",
        topic_partitions=partitions,
        topic_replication_factor=cfg.kafka.replication,
        # `a6gw topics` creates every topic (changelogs included); the worker may not.
        topic_allow_declare=False,
        topic_disable_leader=True,
        broker_session_timeout=cfg.kafka.session_timeout_s,
        broker_heartbeat_interval=min(3.0, cfg.kafka.session_timeout_s / 4),
        broker_rebalance_timeout=cfg.kafka.rebalance_timeout_s,
        broker_max_poll_records=500,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        table_standby_replicas=0,
        web_enabled=False,
        web_tables_enabled=False,
        web_router_enabled=False,
        # Tables' changelogs use JSON; every topic below names its own (raw) serializers.
        key_serializer="json",
        value_serializer="json",
    )

    def raw_topic(*names: str, partitions: int | None = None) -> Any:
        return app.topic(
            *names,
            partitions=partitions,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
        )

    owners = cfg.input_topics()
    inputs = raw_topic(*sorted(owners))
    ledger_topic = raw_topic(LEDGER_TOPIC, partitions=partitions)
    audit_topic = raw_topic(AUDIT_TOPIC, partitions=1)

    # Every record written carries the MAC, and every table value;
    # readers of internal topics check it.
    seal = Seal(lc.load_mac_key(), skew_s=cfg.limits.max_clock_skew_s)

    def table(name: str) -> Any:
        # Accounts and authorizations are small and read by every partition: global tables.
        make = app.GlobalTable if name in GLOBAL_TABLES else app.Table
        return seal.seal_table(make(name, default=None, partitions=partitions))

    seen = table("inputs")
    # The last offset each agent processed per input partition, written with its effects.
    reader = RangeReader(kafka)
    guard = Guard(table("cursors"), reader)
    tables = {name: table(name) for name in TABLES}
    state = LedgerState(tables)
    dirty = {"index": True}

    async def _mark_dirty() -> None:
        dirty["index"] = True

    tables["blocks"].on_recover(_mark_dirty)

    async def send_all(outputs: list[Output]) -> None:
        futures = []
        for o in outputs:
            key = o.key.encode()
            headers = seal.headers(o.topic, key, o.value)
            futures.append(await raw_topic(o.topic).send(key=key, value=o.value, headers=headers))
        await asyncio.gather(*futures)

    # The attempts journal is this worker's: one data folder per worker (see run.py).
    shield = Shield(Attempts(datadir / "attempts.log"), send_all)

    async def handle_input(rec: RawInput) -> None:
        owner = owners[rec.topic]
        result = ingest_step(
            rec,
            owner,
            ctx.trust,
            ctx.public_keys,
            ctx.joint_committees(owner),
            seen,
            ctx.signer,
            max_bytes=cfg.limits.max_message_bytes,
            max_age_s=cfg.limits.max_proposal_age_s,
            skew_s=cfg.limits.max_clock_skew_s,
            now_ms=int(time.time() * 1000),
        )
        if result.seen_put is not None:
            seen[result.seen_put[0]] = result.seen_put[1]
        await send_all(result.outputs)

    async def handle_ledger(rec: RawInput) -> None:
        if dirty["index"]:
            state.rebuild_index()
            dirty["index"] = False
        result = ledger_step(
            json.loads(rec.value), state, ctx.directory, ctx.signer, version=rec.offset
        )
        if result.decision_put is not None:
            # The decision record carries its state change. It is on the broker before
            # any effect is, so a crash can never leave effects without their decision
            # (which a redelivery would then re-evaluate against half-changed state).
            state.apply([result.decision_put], result.version)
            await app.producer.flush()
        state.apply(result.effects, result.version)
        await send_all(result.outputs)
        await app.producer.flush()  # effects too, before this input may be committed

    shielded_input = shield.protect("ingest", handle_input)
    shielded_ledger = shield.protect("ledger", handle_ledger)

    @app.agent(inputs, name="ingest", concurrency=1)
    async def ingest(stream: Any) -> None:
        async for event in stream.events():
            await guard.run(raw_of(event.message), shielded_input)

    checked_ledger = seal.checked(shielded_ledger, send_all)

    @app.agent(ledger_topic, name="ledger", concurrency=1)
    async def ledger(stream: Any) -> None:
        async for event in stream.events():
            await guard.run(raw_of(event.message), checked_ledger)

    oversight_topic = raw_topic(FINDINGS_TOPIC, COMMANDS_TOPIC)
    known = table("discrepancies")

    async def handle_oversight(rec: RawInput) -> None:
        result = oversight_step(
            rec, known, ctx.trust, ctx.public_keys, max_bytes=cfg.limits.max_message_bytes
        )
        await send_all(result.outputs)  # the entry first: a crash before the row replays it
        if result.put is not None:
            known[result.put[0]] = result.put[1]

    checked_oversight = seal.checked(shield.protect("discrepancies", handle_oversight), send_all)

    @app.agent(oversight_topic, name="discrepancies", concurrency=1)
    async def discrepancies(stream: Any) -> None:
        async for event in stream.events():
            await guard.run(raw_of(event.message), checked_oversight)

    emitted: set[str] = set()

    @app.timer(interval=cfg.timeouts.check_interval_s)  # type: ignore[untyped-decorator]
    async def timeouts() -> None:
        """Overdue transfers in the partitions this worker owns become timeout inputs."""
        if app.rebalancing or not app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return  # a half-recovered table could show an answered transfer as pending
        now_ms = int(time.time() * 1000)
        for tx in overdue(tables["transfers"].items(), now_ms):
            ident = f"{tx['ca_id']}|{tx['transaction_id']}"
            if ident not in emitted:
                await send_all([timeout_record(tx, ctx.signer, ctx.directory)])
                emitted.add(ident)

    store = open_store(lc.audit_store())

    async def send_now(topic: str, key: bytes | None, value: bytes) -> None:
        headers = seal.headers(topic, key, value)
        await (await raw_topic(topic).send(key=key, value=value, headers=headers))

    writer = AuditWriter(lc, store, guard, reader, send_now, send_all, seal)

    @app.agent(audit_topic, name="sequencer", concurrency=1)
    async def sequencer(stream: Any) -> None:
        async for batch in stream.take_events(500, within=0.2):
            try:
                records = [raw_of(e.message) for e in batch]
                await shield.retry("sequencer", writer.batch, records, app.consumer_generation_id)
            except AuditError as exc:
                if exc.code not in REFUSALS:
                    raise
                # A store behind or apart from what was published must not go on: stop
                # for an operator (the supervisor restarts only stalled workers).
                log.critical("sequencer: %s; stopping the worker", exc)
                logging.shutdown()
                os._exit(EXIT_REFUSED)

    @app.timer(interval=1.0)  # type: ignore[untyped-decorator]
    async def checkpoints() -> None:
        """Checkpoints due by time, from the worker that owns the audit log."""
        if not app.rebalancing and TP(AUDIT_TOPIC, 0) in app.consumer.assignment():
            await writer.tick(app.consumer_generation_id)

    # HTTPS partners: deliver a6.out.<id>, park what cannot be delivered on a6.retry.<id>.
    clients = partner_clients(lc, ctx.signer.key_id, ctx.signer.key)
    shielded_run = shield.guarded(guard.run)

    async def checked_run(rec: RawInput, handle: Any) -> None:
        await shielded_run(rec, seal.checked(handle, send_all))  # a6.retry.<id> is internal

    install_delivery(app, clients, checked_run, raw_of, raw_topic, table, send_now)

    watch = Watch(cfg.timeouts.stall_s)
    probe = Probe(kafka, cfg.gateway.id)
    guarded = {*owners, LEDGER_TOPIC, AUDIT_TOPIC, FINDINGS_TOPIC, COMMANDS_TOPIC}

    @app.timer(interval=cfg.timeouts.stall_s / 4)  # type: ignore[untyped-decorator]
    async def watchdog() -> None:
        """Partitions whose records stop reaching their agent are sought back (see watch)."""
        if app.rebalancing or not app.tables.recovery.completed.is_set():  # type: ignore[attr-defined]
            return
        tps = sorted(tp for tp in app.consumer.assignment() if tp.topic in guarded)
        try:
            committed, end = await probe.offsets(tps)
        except KafkaError as exc:
            log.warning("watchdog: cannot read offsets (%s); trying again later", exc)
            return
        watch.forget({cursor_key(tp.topic, tp.partition) for tp in tps})
        statuses = []
        for tp in tps:
            key = cursor_key(tp.topic, tp.partition)
            audit = tp.topic == AUDIT_TOPIC
            last = store.position(tp.topic, tp.partition) if audit else guard.cursors.get(key)
            status = Status(last=last, committed=committed.get(tp), end=end.get(tp, 0))
            agent = AGENT_OF.get(tp.topic, "ingest")
            statuses.append((key, agent, status))
        by_key = {cursor_key(tp.topic, tp.partition): tp for tp in tps}
        for key, action in watch.check_all(statuses, time.monotonic()):
            if isinstance(action, Seek):
                log.warning("%s: stuck (%s); seeking to %d", key, action, action.offset)
                app.consumer.resume_partitions({by_key[key]})
                await app.consumer.seek(by_key[key], action.offset)
            elif isinstance(action, Restart):
                # Nothing is lost by a crash (the guard and the cursors see to that), so a
                # wedged consumer is replaced by a fresh process; the supervisor restarts it.
                log.error("%s; restarting the worker", action.reason)
                logging.shutdown()
                os._exit(EXIT_STALLED)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def _close_clients(sender: Any, *args: Any, **kwargs: Any) -> None:
        await probe.close()
        for client in clients.values():
            await client.aclose()

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def _revoked(sender: Any, *args: Any, **kwargs: Any) -> None:
        dirty["index"] = True

    return app
