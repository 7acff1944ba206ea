"""The guard's edges on the real broker: re-reading a range of offsets; the group's offsets."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.structs import TopicPartition

from gateway.errors import WorkerError
from gateway.transport import create_topics
from gateway.transport.clients import KafkaClients
from gateway.worker.gaps import Probe, RangeReader

pytestmark = pytest.mark.kafka


async def _topic_with(kafka: KafkaClients, count: int) -> str:
    topic = f"t-gaps-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka, {topic: 2})
    producer = kafka.producer(acks="all")
    await producer.start()
    try:
        for n in range(count):
            await producer.send_and_wait(topic, f"v{n}".encode(), key=b"k", partition=1)
    finally:
        await producer.stop()
    return topic


def test_range_reader_returns_exactly_the_range_in_order(kafka_admin: KafkaClients) -> None:
    async def scenario() -> None:
        topic = await _topic_with(kafka_admin, 12)
        got = await RangeReader(kafka_admin).read(topic, 1, range(3, 9))
        assert [r.offset for r in got] == [3, 4, 5, 6, 7, 8]
        assert [r.value for r in got] == [f"v{n}".encode() for n in range(3, 9)]
        assert all(r.topic == topic and r.partition == 1 and r.timestamp_ms > 0 for r in got)

    asyncio.run(scenario())


def test_range_reader_refuses_offsets_past_the_end(kafka_admin: KafkaClients) -> None:
    async def scenario() -> None:
        topic = await _topic_with(kafka_admin, 3)
        with pytest.raises(WorkerError) as err:
            await RangeReader(kafka_admin).read(topic, 1, range(1, 5))
        assert err.value.code == "WORKER-GAP"

    asyncio.run(scenario())


def test_probe_reports_committed_and_end_offsets(kafka_admin: KafkaClients) -> None:
    async def scenario() -> None:
        topic = await _topic_with(kafka_admin, 5)
        group = f"g-{uuid.uuid4().hex[:8]}"
        tp0, tp1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
        consumer = kafka_admin.consumer(group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign([tp1])
            await consumer.commit({tp1: 4})
        finally:
            await consumer.stop()
        probe = Probe(kafka_admin, group)
        try:
            committed, end = await probe.offsets([tp0, tp1])
        finally:
            await probe.close()
        assert committed == {tp1: 4}
        assert end == {tp0: 0, tp1: 5}

    asyncio.run(scenario())
