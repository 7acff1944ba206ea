"""Read one partition of a topic from its start to the end it has when the read begins."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from gateway.core.ingest import RawInput
from gateway.errors import BrokerError
from gateway.transport.clients import KafkaClients

__all__ = ["read_partition"]


async def read_partition(
    clients: KafkaClients, topic: str, partition: int = 0, *, batch: int = 2000
) -> AsyncIterator[list[RawInput]]:
    """The records of ``topic[partition]`` from its first offset to the end offset it has
    when the read starts (records written later are not read), in batches of ``batch`` at
    most, with their timestamps, timestamp types and headers. No consumer group is used.

    :raises BrokerError: (KAFKA-READ) when the broker cannot be read.
    """
    tp = TopicPartition(topic, partition)
    consumer = clients.consumer(group_id=None, enable_auto_commit=False)
    try:
        await consumer.start()
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        consumer.seek(tp, (await consumer.beginning_offsets([tp]))[tp])
        while await consumer.position(tp) < end:
            got = await consumer.getmany(tp, timeout_ms=1000, max_records=batch)
            records = [
                RawInput(
                    topic,
                    partition,
                    r.offset,
                    r.key,
                    r.value or b"",
                    int(r.timestamp),
                    int(r.timestamp_type),
                    tuple((str(k), bytes(v or b"")) for k, v in r.headers or ()),
                )
                for r in got.get(tp, [])
                if r.offset < end
            ]
            if records:
                yield records
    except KafkaError as exc:
        raise BrokerError(f"cannot read {topic}[{partition}]: {exc}", code="KAFKA-READ") from exc
    finally:
        await consumer.stop()
