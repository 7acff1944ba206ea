"""What every agent family shares, built once per worker process: :class:`Runtime`.

:meth:`Runtime.build` loads the worker's context (trust, keys, directory, signer), makes the
faust app, the MAC seal, the ledger's tables (``decisions``, the changelog of the ledger
state held in memory, and the ``accounts`` global table: see ``gateway.worker.memory``), the
ingest's ``inputs`` table (``inputs`` and ``decisions`` write their changelogs a batch per
record: ``gateway.worker.batched``) and the shield; each agent family
(``gateway.worker.agents``) then declares its agents, timers and tables on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from faust.types import TableT, TopicT

from gateway.audit.logstore import LogStore
from gateway.audit.open import open_store
from gateway.config import Config, LoadedConfig
from gateway.core.steps import Handoff, Output
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC
from gateway.core.trust import TopicOwner
from gateway.transport.clients import KafkaClients, clients_for
from gateway.transport.faust_transport import publish
from gateway.worker.batched import BatchedTable, batched_table
from gateway.worker.context import WorkerContext
from gateway.worker.faults import Attempts, Shield
from gateway.worker.gaps import Guard, RangeReader
from gateway.worker.memory import LedgerMemory
from gateway.worker.sealed import Seal
from gateway.worker.standbys import StandbyWait

log = logging.getLogger("a6gw.worker")

#: A faust table of JSON values by string key, sealed (``Seal.seal_table``).
Table = TableT[str, Any]
Closer = Callable[[], Awaitable[None]]


@dataclass
class Runtime:
    """One worker's shared state: config, faust app, seal, stores, tables, shield, topics."""

    lc: LoadedConfig
    ctx: WorkerContext
    app: faust.App
    kafka: KafkaClients
    datadir: Path
    #: the input topics, each with the party that owns it
    owners: dict[str, TopicOwner]
    #: every record written carries the MAC, and every table value; readers check it
    seal: Seal
    sender: Sender
    #: the ``inputs`` table: what ingest has seen, by ``source|id`` (a record per batch)
    seen: Table
    reader: RangeReader
    #: each agent's cursor per partition, written with its effects (the ``cursors`` table)
    guard: Guard
    #: the ledger's decisions, each with its effects: the changelog of ``ledger`` (a record
    #: per batch)
    decisions: Table
    #: accounts, read by every partition (a global table, written after the decisions)
    accounts: Table
    #: the ledger's working state, in memory
    ledger: LedgerMemory
    #: the changelog writes of the tables above, not yet known to be on the broker
    changes: Changes
    shield: Shield
    store: LogStore
    inputs: TopicT
    ledger_topic: TopicT
    audit_topic: TopicT
    #: run when the worker shuts down, in the order they were added
    closers: list[Closer] = field(default_factory=list)
    #: the sequencer refused the store and the worker is about to exit: nothing runs on
    #: (the watchdog must not take the wait before the exit for a stall)
    refusing: bool = False
    #: how long to wait for the global tables' copies (gateway.worker.standbys)
    standbys: StandbyWait = field(default_factory=lambda: StandbyWait(STANDBY_WAIT_S))
    #: what ingest forwarded lately, for the ledger of this process (gateway.core.forwarded)
    handoff: Handoff = field(default_factory=Handoff)

    @property
    def config(self) -> Config:
        return self.lc.config

    @classmethod
    def build(
        cls, lc: LoadedConfig, *, datadir: Path | None = None, instance_id: str | None = None
    ) -> Runtime:
        """The faust app and everything its agents share; ``datadir`` holds its RocksDB
        tables and the attempts journal (one folder per worker); ``instance_id``: the
        consumer's static group-instance id (None: a dynamic member)."""
        cfg = lc.config
        ctx = WorkerContext.load(lc)
        datadir = datadir or (lc.data_dir / "worker")
        kafka = clients_for(lc, "worker")
        app = _faust_app(lc, kafka, datadir, instance_id)
        owners = cfg.input_topics()
        partitions = cfg.kafka.partitions
        inputs = raw_topic(app, *sorted(owners))
        ledger_topic = raw_topic(app, LEDGER_TOPIC, partitions=partitions)
        audit_topic = raw_topic(app, AUDIT_TOPIC, partitions=1)
        seal = Seal(lc.load_mac_key(), skew_s=cfg.limits.max_clock_skew_s)
        changes = Changes()
        seen = changes.batch(batched_table(app, seal.secret, "inputs", partitions), seal)
        reader = RangeReader(kafka)
        guard = Guard(changes.track(sealed_table(app, seal, "cursors", partitions)), reader)
        decisions = changes.batch(batched_table(app, seal.secret, "decisions", partitions), seal)
        accounts = changes.track(
            sealed_table(app, seal, "accounts", partitions, make=_global_table(app))
        )
        sender = Sender(app, seal)
        # The attempts journal is this worker's: one data folder per worker (see run.py).
        shield = Shield(Attempts(datadir / "attempts.log"), sender.send_all)
        return cls(
            lc=lc,
            ctx=ctx,
            app=app,
            kafka=kafka,
            datadir=datadir,
            owners=owners,
            seal=seal,
            sender=sender,
            seen=seen,
            reader=reader,
            guard=guard,
            decisions=decisions,
            accounts=accounts,
            ledger=LedgerMemory(decisions, accounts),
            changes=changes,
            shield=shield,
            store=open_store(lc.audit_store()),
            inputs=inputs,
            ledger_topic=ledger_topic,
            audit_topic=audit_topic,
        )

    def topic(self, *names: str, partitions: int | None = None) -> TopicT:
        """A topic of raw bytes (every agent reads and writes bytes; the steps parse them)."""
        return raw_topic(self.app, *names, partitions=partitions)

    def table(self, name: str, *, tracked: bool = False) -> Table:
        """A sealed table with the worker's partition count; ``tracked``: its changelog
        writes are awaited by :meth:`durable`."""
        table = sealed_table(self.app, self.seal, name, self.config.kafka.partitions)
        return self.changes.track(table) if tracked else table

    async def durable(self, futures: Iterable[Awaitable[Any]] = ()) -> None:
        """Wait until the tracked tables' changelog writes so far, and ``futures`` (sends
        already handed to the producer), are on the broker: one flush."""
        await self.changes.wait(futures)

    async def send_all(self, outputs: list[Output]) -> None:
        """Send every output, sealed, and wait until the broker has them all."""
        await self.sender.send_all(outputs)

    async def send_now(self, topic: str, key: bytes | None, value: bytes) -> None:
        """Send one record, sealed, and wait until the broker has it."""
        await self.sender.send_now(topic, key, value)

    def on_shutdown(self, close: Closer) -> None:
        """Run ``close`` before the worker shuts down."""
        if not self.closers:
            self.app.on_before_shutdown.connect(self._close)  # type: ignore[arg-type]
        self.closers.append(close)

    async def _close(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        for close in self.closers:
            await close()

    def running(self) -> bool:
        """Not stopping, not rebalancing, the tables recovered, and the global tables'
        copies of the partitions other workers write caught up: a half-recovered table
        could show an answered transfer as pending, a cursor behind, or an account as
        unknown (faust reads the global tables' standby partitions after it resumes the
        streams: see ``gateway.worker.standbys``). A stopping worker's tables close while
        its timers still run: its cursors would read as None, and the watchdog would seek
        every partition to offset 0."""
        app: Any = self.app
        recovery = app.tables.recovery
        return (
            not self.refusing
            and not app.should_stop
            and not app.rebalancing
            and recovery.completed.is_set()
            and self.standbys.settled(recovery, app.consumer_generation_id)
        )

    async def until_running(self, poll_s: float = 0.05) -> bool:
        """Wait until :meth:`running`. False if a rebalance starts first: faust then waits
        for the batch in hand to be acknowledged, so the caller must not wait on; it leaves
        the batch undecided (the contiguity guard and the watchdog bring such records
        back, ``gateway.worker.gaps``)."""
        app: Any = self.app
        started = said = time.monotonic()
        while not self.running():
            if app.should_stop or not app.flow_control.is_active():  # stopping, or revoking
                return False
            await asyncio.sleep(poll_s)
            if time.monotonic() - said >= WAIT_REPORT_S:
                said = time.monotonic()
                log.warning("still waiting for the tables to recover (%.0f s)", said - started)
        if (waited := time.monotonic() - started) >= 1.0:
            log.info("waited %.1f s for the tables to recover before deciding", waited)
        return True


@dataclass(frozen=True)
class Sender:
    """Writes records of raw bytes, each sealed with the MAC, and waits for the broker."""

    app: faust.App
    seal: Seal

    async def send_all(self, outputs: list[Output]) -> None:
        await asyncio.gather(*await self.enqueue(outputs))

    async def enqueue(self, outputs: list[Output]) -> list[Awaitable[Any]]:
        """Hand every output, sealed, to the producer; the futures resolve when the broker
        has each (awaiting them is the flush). Straight to the producer: a faust topic's
        own send costs more than the record (the records are bytes already)."""
        send = self.app.producer.send
        futures = []
        for o in outputs:
            key = o.key.encode()
            headers = self.seal.headers(o.topic, key, o.value)
            headers.extend(o.headers)  # the per-hop trace context (gateway.core.tracecontext)
            futures.append(await send(o.topic, key, o.value, None, None, headers))
        return futures

    async def send_now(self, topic: str, key: bytes | None, value: bytes) -> None:
        headers = self.seal.headers(topic, key, value)
        await (await self.app.producer.send(topic, key, value, None, None, headers))


def raw_topic(app: faust.App, *names: str, partitions: int | None = None) -> TopicT:
    return app.topic(
        *names,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


def sealed_table(
    app: faust.App,
    seal: Seal,
    name: str,
    partitions: int,
    *,
    make: Callable[..., Table] | None = None,
) -> Table:
    make = make or app.Table
    return seal.seal_table(make(name, default=None, partitions=partitions))


def _global_table(app: faust.App) -> Callable[..., Table]:
    """A global table whose copy takes another worker's writes as they arrive (faust
    otherwise buffers 1,000 changelog records per partition, so the copy could lag that far)."""

    def make(name: str, **kwargs: Any) -> Table:
        return app.GlobalTable(name, recovery_buffer_size=1, **kwargs)

    return make


#: how often a wait for the tables to recover says it still waits
WAIT_REPORT_S = 30.0
#: the longest a worker waits for the global tables' copies after a recovery
STANDBY_WAIT_S = 15.0

#: pending changelog writes kept before the done ones are dropped without a waiter
PRUNE_AT = 10_000


class Changes:
    """The changelog writes of some tables, published in bulk and kept until they are on
    the broker.

    A table's ``t[k] = v`` is synchronous: faust hands its changelog record to a producer
    buffer that publishes one record per turn of the event loop, which a batch of
    hundreds of writes would wait on. The tables tracked here queue their records instead;
    one task publishes everything queued, in order, in one go (soon after the write, or
    when an agent commits). Agents share tables (the cursors), so each commit waits for
    every write pending then, its own among them; a write is dropped from the list once
    done (a failed one once it was reported to a waiter, which retries its run).

    The batched tables (``gateway.worker.batched``: ``inputs``, ``decisions``) keep their
    rows until a commit waits (:meth:`wait`): then every row written since the last one
    goes out in one record per table partition, before the writes queued after it.
    """

    def __init__(self) -> None:
        self.pending: list[asyncio.Future[Any]] = []
        self.unsent: list[Any] = []
        self.batched: list[BatchedTable] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def batch(self, table: BatchedTable, seal: Seal) -> Table:
        """``table``, sealed, whose rows :meth:`wait` writes as batch records."""
        seal.seal_table(table)
        self.batched.append(table)
        return table

    def track(self, table: Table) -> Table:
        coll: Any = table  # faust's Collection: its changelog hook and serializers

        def send_changelog(
            partition: int | None,
            key: Any,
            value: Any,
            key_serializer: Any = None,
            value_serializer: Any = None,
        ) -> Any:
            fut = coll.changelog_topic.as_future_message(
                key=key,
                value=value,
                partition=partition,
                key_serializer=coll.key_serializer if key_serializer is None else key_serializer,
                value_serializer=(
                    coll.value_serializer if value_serializer is None else value_serializer
                ),
                # keeps the local store's record of the changelog offset it holds
                callback=coll._on_changelog_sent,  # noqa: SLF001
                eager_partitioning=True,
            )
            self.unsent.append(fut)
            self.pending.append(fut)
            if len(self.pending) > PRUNE_AT:  # writes nobody waits for (a delivery's cursor)
                self.pending = [f for f in self.pending if not f.done()]
            if self._task is None:
                self._task = asyncio.get_running_loop().create_task(self._publish_soon())
            return fut

        table.send_changelog = send_changelog  # type: ignore[method-assign]
        return table

    async def _publish_soon(self) -> None:
        try:
            await self.publish()
        finally:
            self._task = None

    async def publish(self, *, rows: bool = False) -> None:
        """Hand every queued record to the producer, in the order they were written;
        ``rows``: the batched tables' pending rows too, as batch records queued after
        what was queued before."""
        async with self._lock:
            if rows:
                for table in self.batched:
                    records = table.records()
                    self.unsent.extend(records)
                    self.pending.extend(records)
            while self.unsent:
                batch, self.unsent = self.unsent, []
                for fut in batch:
                    try:
                        await publish(fut)  # no turn of the loop per record
                    except Exception as exc:  # noqa: BLE001 - reported to the waiters
                        if not fut.done():
                            fut.set_exception(exc)

    async def wait(self, futures: Iterable[Awaitable[Any]] = ()) -> None:
        """Until the writes pending now, and ``futures``, are on the broker.

        :raises Exception: the first failure among them (e.g. a ``KafkaError``).
        """
        await self.publish(rows=True)
        mine = list(self.pending)
        results = await asyncio.gather(*mine, *futures, return_exceptions=True)
        self.pending = [f for f in self.pending if not f.done()]
        for result in results:
            if isinstance(result, BaseException):
                raise result


def _faust_app(
    lc: LoadedConfig, kafka: KafkaClients, datadir: Path, instance_id: str | None = None
) -> faust.App:
    cfg = lc.config
    return kafka.faust_app(
        cfg.gateway.id,
        instance_id=instance_id,
        fetch_max_wait_ms=cfg.kafka.fetch_max_wait_ms,
        store="rocksdb://" if cfg.gateway.table_store == "rocksdb" else "memory://",
        datadir=str(datadir),
        autodiscover=False,
        processing_guarantee="at_least_once",
        topic_partitions=cfg.kafka.partitions,
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
