"""The real local Kafka broker: it answers, topics are created explicitly, data round-trips."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from aiokafka.errors import UnknownTopicOrPartitionError

from gateway.errors import BrokerError
from gateway.transport import LocalBroker, create_topics, probe_broker, wait_for_topics
from gateway.transport.clients import KafkaClients

pytestmark = pytest.mark.kafka

Record = tuple[int, bytes | None, bytes | None]  # (partition, key, value)


def _name(prefix: str) -> str:
    return f"test.{prefix}.{uuid.uuid4().hex[:8]}"


async def _consume(kafka: KafkaClients, topic: str, count: int, **kwargs: Any) -> list[Record]:
    consumer = kafka.consumer(
        topic,
        group_id=_name("group"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **kwargs,
    )
    await consumer.start()
    got: list[Record] = []
    try:
        deadline = time.monotonic() + 30
        while len(got) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                got.extend((tp.partition, r.key, r.value) for r in records)
    finally:
        await consumer.stop()
    return got


def test_broker_answers_kafka_protocol(kafka_broker: LocalBroker) -> None:
    # Before authentication a SASL listener answers ApiVersions only (see test_kafka_auth).
    probe = probe_broker("127.0.0.1", kafka_broker.port, metadata=False)
    assert probe.ready
    assert 3 in probe.api_versions  # Metadata
    assert 17 in probe.api_versions  # SaslHandshake
    assert kafka_broker.bootstrap == f"127.0.0.1:{kafka_broker.port}"


def test_status_reports_running(kafka_broker: LocalBroker) -> None:
    status = kafka_broker.status()
    assert status.running
    assert status.pid is not None and status.pid > 0
    assert status.bootstrap == kafka_broker.bootstrap
    assert status.data_dir == kafka_broker.data_dir
    assert (status.data_dir / "meta.properties").exists()
    assert status.version == kafka_broker.version
    assert "running at" in status.describe()


def test_start_again_is_idempotent(kafka_broker: LocalBroker) -> None:
    before = kafka_broker.status().pid
    started = time.monotonic()
    again = kafka_broker.start()
    assert again.running and again.pid == before
    assert time.monotonic() - started < 5
    # a second handle on the same state dir sees the same process and does not start another
    other = LocalBroker(kafka_broker.state_dir, port=kafka_broker.port, verbose=False)
    assert other.start().pid == before


def test_create_topics_with_fixed_partitions(kafka_admin: KafkaClients) -> None:
    a, b = _name("a"), _name("b")

    async def scenario() -> tuple[list[str], list[str], dict[str, int], list[Any]]:
        created = await create_topics(
            kafka_admin,
            {a: 3, b: 1},
            configs={b: {"cleanup.policy": "compact"}},
        )
        again = await create_topics(kafka_admin, {a: 3})  # TopicAlreadyExists is ignored
        counts = await wait_for_topics(kafka_admin, [a, b])
        admin = kafka_admin.admin()
        await admin.start()
        try:
            described = await admin.describe_topics([a, b])
        finally:
            await admin.close()
        return created, again, counts, described

    created, again, counts, described = asyncio.run(scenario())
    assert sorted(created) == sorted([a, b])
    assert again == []
    assert counts == {a: 3, b: 1}
    by_name = {t["topic"]: t for t in described}
    assert len(by_name[a]["partitions"]) == 3
    assert all(p["leader"] == LocalBroker.node_id for p in by_name[a]["partitions"])
    assert len(by_name[b]["partitions"]) == 1


def test_create_topics_rejects_a_different_partition_count(kafka_admin: KafkaClients) -> None:
    name = _name("fixed")
    asyncio.run(create_topics(kafka_admin, {name: 2}))
    with pytest.raises(BrokerError) as info:
        asyncio.run(create_topics(kafka_admin, {name: 4}))
    assert info.value.code == "KAFKA-TOPIC"
    assert "has 2 partitions, wanted 4" in str(info.value)


def test_create_topics_translates_broker_errors(kafka_admin: KafkaClients) -> None:
    with pytest.raises(BrokerError) as info:  # RF 3 is impossible on one broker
        asyncio.run(create_topics(kafka_admin, {_name("rf3"): 1}, replication=3))
    assert info.value.code == "KAFKA-TOPIC"
    assert "InvalidReplicationFactor" in str(info.value)


def test_auto_topic_creation_is_disabled(kafka_admin: KafkaClients) -> None:
    topic = _name("missing")

    async def produce_to_missing_topic() -> None:
        producer = kafka_admin.producer(request_timeout_ms=2000)
        await producer.start()
        try:
            await asyncio.wait_for(producer.send_and_wait(topic, b"x"), 10)
        finally:
            await producer.stop()

    async def topics() -> list[str]:
        admin = kafka_admin.admin()
        await admin.start()
        try:
            return list(await admin.list_topics())
        finally:
            await admin.close()

    with pytest.raises(UnknownTopicOrPartitionError):
        asyncio.run(produce_to_missing_topic())
    assert topic not in asyncio.run(topics())


def test_produce_consume_round_trip(kafka_admin: KafkaClients) -> None:
    topic = _name("roundtrip")
    sent = {f"key-{i}".encode(): f"value-{i}".encode() for i in range(20)}

    async def scenario() -> list[Record]:
        await create_topics(kafka_admin, {topic: 2})
        producer = kafka_admin.producer(acks="all")
        await producer.start()
        try:
            for key, value in sent.items():
                await producer.send_and_wait(topic, value, key=key)
        finally:
            await producer.stop()
        return await _consume(kafka_admin, topic, len(sent))

    got = asyncio.run(scenario())
    assert {k: v for _, k, v in got} == sent
    assert len(got) == len(sent)
    partitions_of: dict[bytes | None, set[int]] = {}
    for partition, key, _ in got:
        partitions_of.setdefault(key, set()).add(partition)
    assert all(len(p) == 1 for p in partitions_of.values())  # a key stays on one partition


def test_transactional_produce_is_visible_to_read_committed(kafka_admin: KafkaClients) -> None:
    """Needs the single-node transaction.state.log settings in server.properties."""
    topic = _name("txn")

    async def scenario() -> list[Record]:
        await create_topics(kafka_admin, {topic: 1})
        producer = kafka_admin.producer(transactional_id=_name("txn-producer"))
        await producer.start()
        try:
            async with producer.transaction():
                await producer.send_and_wait(topic, b"committed", key=b"k1")
            await producer.begin_transaction()
            await producer.send_and_wait(topic, b"aborted", key=b"k2")
            await producer.abort_transaction()
            async with producer.transaction():
                await producer.send_and_wait(topic, b"committed-2", key=b"k3")
        finally:
            await producer.stop()
        return await _consume(kafka_admin, topic, 2, isolation_level="read_committed")

    got = asyncio.run(scenario())
    assert [v for _, _, v in got] == [b"committed", b"committed-2"]
