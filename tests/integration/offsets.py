"""Consumer-group offsets the integration tests set by hand. Imported as
``tests.integration.offsets``."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from gateway.transport.clients import KafkaClients


async def commit_to_end(
    kafka: KafkaClients, group: str, topic: str, partitions: int
) -> dict[TopicPartition, int]:
    """Commit ``group``'s offsets of ``topic`` to the log end, as if it had consumed it all;
    the offsets committed."""
    consumer = kafka.consumer(group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        end: dict[TopicPartition, int] = await consumer.end_offsets(tps)
        for _ in range(60):  # the group accepts a commit only once its last member has left
            try:
                await consumer.commit(end)
                return end
            except KafkaError:
                await asyncio.sleep(1)
        raise AssertionError("could not commit the group's offsets")
    finally:
        await consumer.stop()
