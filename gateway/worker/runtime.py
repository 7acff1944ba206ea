"""What every agent family shares, built once per worker process: :class:`Runtime`.

:meth:`Runtime.build` loads the worker's context (trust, keys, directory, signer), makes the
faust app, the MAC seal, the ledger's tables and the shield; each agent family
(``gateway.worker.agents``) then declares its agents, timers and tables on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
from faust.types import TableT, TopicT

from gateway.audit.logstore import LogStore
from gateway.audit.open import open_store
from gateway.config import Config, LoadedConfig
from gateway.core.state import GLOBAL_TABLES, TABLES, LedgerState, TableName
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC
from gateway.core.trust import TopicOwner
from gateway.transport.clients import KafkaClients, clients_for
from gateway.worker.context import WorkerContext
from gateway.worker.faults import Attempts, Shield
from gateway.worker.gaps import Guard, RangeReader
from gateway.worker.sealed import Seal

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
    #: the ``inputs`` table: what ingest has seen, by ``source|id``
    seen: Table
    reader: RangeReader
    #: each agent's cursor per partition, written with its effects (the ``cursors`` table)
    guard: Guard
    tables: dict[TableName, Table]
    state: LedgerState
    shield: Shield
    store: LogStore
    inputs: TopicT
    ledger_topic: TopicT
    audit_topic: TopicT
    #: run when the worker shuts down, in the order they were added
    closers: list[Closer] = field(default_factory=list)

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
        seen = sealed_table(app, seal, "inputs", partitions)
        reader = RangeReader(kafka)
        guard = Guard(sealed_table(app, seal, "cursors", partitions), reader)
        tables = {name: sealed_table(app, seal, name, partitions) for name in TABLES}
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
            tables=tables,
            state=LedgerState(tables),
            shield=shield,
            store=open_store(lc.audit_store()),
            inputs=inputs,
            ledger_topic=ledger_topic,
            audit_topic=audit_topic,
        )

    def topic(self, *names: str, partitions: int | None = None) -> TopicT:
        """A topic of raw bytes (every agent reads and writes bytes; the steps parse them)."""
        return raw_topic(self.app, *names, partitions=partitions)

    def table(self, name: str) -> Table:
        """A sealed table with the worker's partition count."""
        return sealed_table(self.app, self.seal, name, self.config.kafka.partitions)

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
        """Not rebalancing, and the tables recovered: a half-recovered table could show an
        answered transfer as pending, or a cursor behind."""
        return not self.app.rebalancing and self.app.tables.recovery.completed.is_set()  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Sender:
    """Writes records of raw bytes, each sealed with the MAC, and waits for the broker."""

    app: faust.App
    seal: Seal

    async def send_all(self, outputs: list[Output]) -> None:
        futures = []
        for o in outputs:
            key = o.key.encode()
            headers = self.seal.headers(o.topic, key, o.value)
            topic = raw_topic(self.app, o.topic)
            futures.append(await topic.send(key=key, value=o.value, headers=headers))
        await asyncio.gather(*futures)

    async def send_now(self, topic: str, key: bytes | None, value: bytes) -> None:
        headers = self.seal.headers(topic, key, value)
        await (await raw_topic(self.app, topic).send(key=key, value=value, headers=headers))


def raw_topic(app: faust.App, *names: str, partitions: int | None = None) -> TopicT:
    return app.topic(
        *names,
        partitions=partitions,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


def sealed_table(app: faust.App, seal: Seal, name: str, partitions: int) -> Table:
    # Accounts and authorizations are small and read by every partition: global tables.
    if name in GLOBAL_TABLES:
        # A worker applies another worker's writes to its copy as they arrive (faust buffers
        # 1,000 changelog records per partition otherwise, so the copy could lag that far).
        return seal.seal_table(
            app.GlobalTable(name, default=None, partitions=partitions, recovery_buffer_size=1)
        )
    return seal.seal_table(app.Table(name, default=None, partitions=partitions))


def _faust_app(
    lc: LoadedConfig, kafka: KafkaClients, datadir: Path, instance_id: str | None = None
) -> faust.App:
    cfg = lc.config
    return kafka.faust_app(
        cfg.gateway.id,
        instance_id=instance_id,
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
