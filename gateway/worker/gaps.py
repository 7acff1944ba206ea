"""Contiguity guard: every offset of every consumed partition is processed, in order.

Kafka offsets of a non-transactional, non-compacted topic are dense, so each agent keeps a
durable cursor per partition (the last offset it processed, written with its effects) and
checks that the next record follows it. faust's consumer can commit past records that no
agent processed: records fetched before a rebalance are skipped *and acknowledged* when
they reach the stream after it (``Stream._py_aiter`` acks a record whose generation is
stale or whose flow is paused), and a crash after the next commit loses them. When the guard
sees offset ``o`` after cursor ``c`` with ``o > c + 1``, it reads ``c + 1 .. o - 1``
straight from the broker and processes them first, so the order within the partition holds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from gateway.core.ingest import RawInput
from gateway.errors import WorkerError
from gateway.transport.clients import KafkaClients

log = logging.getLogger("a6gw.worker")

Handler = Callable[[RawInput], Awaitable[None]]


def cursor_key(topic: str, partition: int) -> str:
    return f"{topic}#{partition}"


def missing(last: int | None, offset: int) -> range:
    """The offsets between the cursor ``last`` and the record at ``offset`` (often none).

    With no cursor yet, the partition is consumed from its start (``auto_offset_reset`` is
    ``earliest``), so offset 0 comes first.
    """
    start = 0 if last is None else last + 1
    return range(start, offset) if offset > start else range(0)


def raw_of(msg: Any) -> RawInput:
    """A faust message or an aiokafka record as a plain value."""
    headers = msg.headers or ()
    if isinstance(headers, dict):  # faust may hand headers over as a mapping
        headers = headers.items()
    ts_type = getattr(msg, "timestamp_type", -1)
    return RawInput(
        msg.topic,
        msg.partition,
        msg.offset,
        msg.key,
        msg.value or b"",
        # faust gives seconds as a float: round, for the broker's exact milliseconds
        round(msg.timestamp * 1000) if isinstance(msg.timestamp, float) else int(msg.timestamp),
        int(ts_type) if isinstance(ts_type, int) else -1,
        tuple((str(k), bytes(v or b"")) for k, v in headers),
    )


class RangeReader:
    """Reads a range of offsets of one partition with a group-less consumer."""

    def __init__(self, clients: KafkaClients, *, timeout_s: float = 60.0) -> None:
        self.clients = clients
        self.timeout_s = timeout_s

    async def read(self, topic: str, partition: int, wanted: range) -> list[RawInput]:
        """:raises WorkerError: (WORKER-GAP) when the broker no longer has them all."""
        tp = TopicPartition(topic, partition)
        consumer = self.clients.consumer(
            group_id=None, enable_auto_commit=False, auto_offset_reset="none"
        )
        out: list[RawInput] = []
        try:
            await consumer.start()
            consumer.assign([tp])
            first = (await consumer.beginning_offsets([tp]))[tp]
            if first > wanted.start:
                log.warning(
                    "%s[%d]: offsets before %d are gone (retention); re-reading from there",
                    topic,
                    partition,
                    first,
                )
                wanted = range(max(first, wanted.start), max(first, wanted.stop))
                if not wanted:
                    return []
            end = (await consumer.end_offsets([tp]))[tp]
            if wanted.stop > end:
                raise WorkerError(
                    f"{topic}[{partition}] ends at offset {end}, before {wanted.stop}",
                    code="WORKER-GAP",
                )
            consumer.seek(tp, wanted.start)
            deadline = time.monotonic() + self.timeout_s
            while (not out or out[-1].offset < wanted.stop - 1) and time.monotonic() < deadline:
                batch = await consumer.getmany(tp, timeout_ms=1000, max_records=500)
                out.extend(raw_of(r) for r in batch.get(tp, []) if r.offset in wanted)
        except KafkaError as exc:
            raise WorkerError(
                f"cannot re-read {topic}[{partition}] offsets {wanted.start}..{wanted.stop - 1}: "
                f"{exc}",
                code="WORKER-GAP",
            ) from exc
        finally:
            await consumer.stop()
        got = [r.offset for r in out]
        if got != list(wanted):
            raise WorkerError(
                f"{topic}[{partition}]: expected offsets {wanted.start}..{wanted.stop - 1}, "
                f"the broker returned {len(got)} records",
                code="WORKER-GAP",
            )
        return out

    async def last(self, topic: str, partition: int) -> RawInput | None:
        """The last record of a partition (None when it is empty).

        :raises WorkerError: (WORKER-GAP) when the broker cannot be read.
        """
        tp = TopicPartition(topic, partition)
        consumer = self.clients.consumer(group_id=None)
        try:
            await consumer.start()
            end = (await consumer.end_offsets([tp]))[tp]
        except KafkaError as exc:
            raise WorkerError(
                f"cannot read {topic}[{partition}]: {exc}", code="WORKER-GAP"
            ) from exc
        finally:
            await consumer.stop()
        if end == 0:
            return None
        return (await self.read(topic, partition, range(end - 1, end)))[0]


class Probe:
    """The broker's view of partitions: the group's committed offsets and the log ends."""

    def __init__(self, clients: KafkaClients, group: str) -> None:
        self.clients = clients
        self.group = group
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def offsets(
        self, tps: list[TopicPartition]
    ) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
        """``(committed, end)``; a partition with no commit yet is absent from the first.

        :raises KafkaError: when the broker cannot be asked (the caller tries again later).
        """
        if self._admin is None or self._consumer is None:
            admin = self.clients.admin()
            consumer = self.clients.consumer(group_id=None)
            self._admin, self._consumer = admin, consumer
            try:
                await admin.start()
                await consumer.start()
            except BaseException:
                await self.close()  # a half-started pair is never reused
                raise
        try:
            meta = await self._admin.list_consumer_group_offsets(self.group, partitions=tps)
            end = await self._consumer.end_offsets(tps)
        except KafkaError:
            await self.close()  # reconnect next time (e.g. after a broker restart)
            raise
        committed = {tp: m.offset for tp, m in meta.items() if m.offset >= 0}
        return committed, end

    async def close(self) -> None:
        admin, consumer = self._admin, self._consumer
        self._admin = self._consumer = None
        if admin is not None:
            try:
                await admin.close()
            except KafkaError:
                log.debug("closing the offset probe's admin client failed", exc_info=True)
        if consumer is not None:
            await consumer.stop()


class Guard:
    """Runs an agent's handler on each record, first filling any gap after its cursor."""

    def __init__(self, cursors: MutableMapping[str, Any], reader: RangeReader) -> None:
        self.cursors = cursors
        self.reader = reader
        self.filled = 0

    async def _fill(self, rec: RawInput, gap: range) -> list[RawInput]:
        log.warning(
            "%s[%d]: offsets %d..%d were skipped by the consumer; re-reading them",
            rec.topic,
            rec.partition,
            gap.start,
            gap.stop - 1,
        )
        earlier = await self.reader.read(rec.topic, rec.partition, gap)
        self.filled += len(earlier)
        return earlier

    async def run(self, rec: RawInput, handle: Handler) -> None:
        """Handle ``rec``, after the records between the partition's cursor and it."""
        key = cursor_key(rec.topic, rec.partition)
        last = self.cursors.get(key)
        for earlier in await self._fill(rec, gap) if (gap := missing(last, rec.offset)) else []:
            await handle(earlier)
            self.cursors[key] = earlier.offset
        await handle(rec)
        if last is None or rec.offset > last:
            self.cursors[key] = rec.offset

    async def complete(self, last: int | None, recs: list[RawInput]) -> list[RawInput]:
        """A batch of one partition's records, in order, with any skipped ones put back."""
        out: list[RawInput] = []
        for rec in recs:
            if gap := missing(last, rec.offset):
                out.extend(await self._fill(rec, gap))
            out.append(rec)
            last = rec.offset if last is None else max(last, rec.offset)
        return out
