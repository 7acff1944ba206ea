"""The sequencer agent's edge: takes over the log, appends batches, publishes checkpoints.

The pure rules are in :mod:`gateway.audit.sequencer`; this module moves bytes between Kafka
and the store. A record on ``a6.audit.log`` whose key is ``CHECKPOINT_REQUEST`` is not an
entry: it asks for a checkpoint as everything before it is appended
(``a6gw audit checkpoint`` sends one).

Only records a gateway process wrote are appended: a record whose MAC does not verify
(:mod:`gateway.worker.sealed`) is dead-lettered and its dead-letter entry, identified by its
offset, is appended in its place. Each batch is stamped with ``logged_at`` before it is
appended (:meth:`gateway.audit.sequencer.Sequencer.stamp_records`: each entry's record's
time on ``a6.audit.log``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from gateway.audit.logstore import LogStore
from gateway.audit.sequencer import CheckpointPolicy, Sequencer
from gateway.config import LoadedConfig
from gateway.core import mac
from gateway.core.audit_records import CHECKPOINT_REQUEST, in_pieces, sort_records
from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC, CHECKPOINT_TOPIC
from gateway.errors import AuditError, WorkerError
from gateway.observe.sequencer import SequencerView
from gateway.transport.clients import KafkaClients
from gateway.worker.batches import BATCH_MAX_BYTES
from gateway.worker.gaps import Guard, RangeReader
from gateway.worker.sealed import Seal
from gateway.worker.trail import log_entry

log = logging.getLogger("a6gw.worker")


#: The sequencer appends a batch in pieces of at most this many bytes of records (but for
#: each piece's last record), one SQLite transaction (and fsync) each, the other agents
#: running between two pieces. 500 entries of ~1 KB (a batch) are one piece, 20-30 ms to
#: append. Entries of 1,000 blocks (~0.2 MB each, most of the time their serial ranges'
#: index rows) were appended 48 at a time in 618 ms, one turn of the worker's event loop;
#: 5 at a time, each piece took 38-79 ms (the benchmark's recovery load, one process).
PIECE_BYTES = BATCH_MAX_BYTES

Send = Callable[[str, bytes, bytes], Awaitable[None]]
SendAll = Callable[[list[Output]], Awaitable[None]]


class AuditWriter:
    """One worker's sequencer: active while this worker owns the audit log's partition."""

    def __init__(
        self,
        lc: LoadedConfig,
        store: LogStore,
        guard: Guard,
        reader: RangeReader,
        send: Send,
        send_all: SendAll,
        seal: Seal,
    ) -> None:
        cfg = lc.config
        self.store = store
        self.guard = guard
        self.reader = reader
        self.send = send
        self.send_all = send_all
        self.seal = seal
        self.owner = cfg.gateway.id
        self.sequencer = Sequencer(
            store,
            lc.load_log_key(),
            cfg.gateway.log_origin,
            policy=CheckpointPolicy(cfg.audit.checkpoint_every, cfg.audit.checkpoint_interval_s),
            previous=lc.previous_log_verifiers(),
        )
        self.generation: int | None = None
        self.view = SequencerView(store)

    async def _take_over(self, generation: int) -> None:
        """Check the store against the last published checkpoint; claim a new epoch.

        :raises AuditError: when the store is behind or rewritten (the worker must stop).
        """
        published = await self.reader.last(CHECKPOINT_TOPIC, 0)
        note = published.value.decode("utf-8") if published is not None else None
        epoch = self.sequencer.take_over(f"{self.owner}/generation-{generation}", note)
        self.generation = generation
        self.view.took_over(self.sequencer.signed_size)
        log.info(
            "sequencer: took over the audit log (epoch %d, %d entries)", epoch, self.store.size()
        )

    async def batch(self, records: list[RawInput], generation: int) -> None:
        """Append the entries of ``records`` (and of any the consumer skipped before them):
        in pieces of at most :data:`PIECE_BYTES` of records, one transaction each, the other
        agents running between two pieces."""
        if self.generation != generation:
            await self._take_over(generation)
        records = await self.guard.complete(self.store.position(AUDIT_TOPIC, 0), records)
        for i, piece in enumerate(in_pieces(records, PIECE_BYTES)):
            if i:
                await asyncio.sleep(0)
            if not await self._append(piece):
                return

    async def _append(self, records: list[RawInput]) -> bool:
        """Append one piece; False when another sequencer owns the log now."""
        # Records not written by a gateway process, or no entries: their dead-letter entries
        # take their places (the same rule rebuilds a store from the topic).
        found = sort_records(records, self.seal.refusal)
        items, dead, requested = found.items, found.dead, found.requested
        lettered = found.lettered
        if dead:
            log.error("sequencer: %d records are not audit entries; dead-lettered", len(dead))
            await self.send_all(dead)
            for rec, entry in lettered:
                log_entry("sequencer", rec, entry)
        stamped = self.sequencer.stamp_records(items)
        started = time.monotonic()
        try:
            added = self.sequencer.append(stamped, (AUDIT_TOPIC, 0, records[-1].offset))
        except AuditError as exc:
            if exc.code != "AUD-FENCED":
                raise
            log.warning("sequencer: %s; leaving the batch to the new owner", exc)
            self.generation = None
            self.view.left()
            return False
        self.view.appended(stamped, added)
        log.info(
            "sequenced %d of %d entries in %.1f ms; log size %d",
            added, len(items), (time.monotonic() - started) * 1e3, self.store.size(),
        )  # fmt: skip
        if requested or self.sequencer.due():
            await self.publish()
        return True

    async def tick(self, generation: int) -> None:
        """Publish a checkpoint when one is due by time (only the current owner does)."""
        if self.generation == generation and self.sequencer.due():
            await self.publish()

    async def publish(self) -> None:
        checkpoint, note = self.sequencer.checkpoint()
        await self.send(CHECKPOINT_TOPIC, str(checkpoint.size).encode(), note.encode("utf-8"))
        self.view.published(checkpoint.size)
        log.info("checkpoint: %d entries, root %s", checkpoint.size, checkpoint.root.hex())


async def request_checkpoint(
    clients: KafkaClients, mac_key: bytes, timeout_s: float = 60.0, min_size: int = 0
) -> str:
    """Ask the running sequencer for a checkpoint now; returns the note it publishes.

    Checkpoints of fewer than ``min_size`` entries (published on time, just before the
    request was seen) are passed over.

    :raises WorkerError: (WORKER-CHECKPOINT) when none arrives within ``timeout_s``.
    """
    tp = TopicPartition(CHECKPOINT_TOPIC, 0)
    consumer = clients.consumer(group_id=None)
    producer = clients.producer(acks="all")
    try:
        await consumer.start()
        await producer.start()
        consumer.assign([tp])
        start = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, start)
        headers = mac.headers(mac_key, AUDIT_TOPIC, CHECKPOINT_REQUEST, b"{}")
        await producer.send_and_wait(AUDIT_TOPIC, b"{}", key=CHECKPOINT_REQUEST, headers=headers)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            batch = await consumer.getmany(tp, timeout_ms=1000)
            for record in batch.get(tp, []):
                if record.key is not None and int(record.key) >= min_size:
                    return bytes(record.value or b"").decode("utf-8")
    except KafkaError as exc:
        raise WorkerError(f"cannot ask for a checkpoint: {exc}", code="WORKER-CHECKPOINT") from exc
    finally:
        await producer.stop()
        await consumer.stop()
    raise WorkerError(
        f"no checkpoint was published within {timeout_s:.0f} s: is a worker running?",
        code="WORKER-CHECKPOINT",
    )
