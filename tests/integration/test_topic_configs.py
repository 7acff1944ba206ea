"""Topic settings on the real broker: input records carry the broker's time, and every topic
takes the records an input of ``limits.max_message_bytes`` makes on it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import TopicPartition

from gateway.config import LoadedConfig, load_config
from gateway.core.topics import (
    AUDIT_TOPIC,
    DLQ_TOPIC,
    LEDGER_TOPIC,
    input_topic,
    inventory_input_topic,
    output_topic,
)
from gateway.demo.world import write_world
from gateway.transport.acls import provision
from gateway.transport.admin import alter_topic_configs, create_topics
from gateway.transport.clients import Credentials, KafkaClients, clients_for, partner_clients
from gateway.transport.sizes import QUOTED, REQUOTED, record_limit
from gateway.transport.topic_plan import topic_plan

# Records of every kind go on every topic here (changelogs and outputs included): on a broker
# of this module's own, so that no later world's worker finds them.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker]


DAY_MS = 86_400_000


def _world(root: Path, admin: KafkaClients, **limits: Any) -> LoadedConfig:
    world = write_world(root, bootstrap=admin.bootstrap)
    if limits:
        doc = yaml.safe_load(world.config_path.read_text())
        doc["limits"] = limits
        world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    lc = load_config(world.config_path)
    asyncio.run(provision(lc, admin))
    topics, configs = topic_plan(lc.config)
    asyncio.run(create_topics(admin, topics, configs=configs))
    asyncio.run(alter_topic_configs(admin, configs))  # topics an earlier test made
    return lc


async def _described(admin: KafkaClients, topic: str) -> dict[str, str]:
    client = admin.admin()
    await client.start()
    try:
        (response,) = await client.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)]
        )
        (resource,) = response.resources
        return {entry[0]: entry[1] for entry in resource[4]}
    finally:
        await client.close()


async def _read_back(kafka: KafkaClients, topic: str, partition: int, offset: int) -> Any:
    consumer = kafka.consumer(group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = (await consumer.getmany(tp, timeout_ms=1000)).get(tp)
            if got:
                return got[0]
        raise AssertionError(f"nothing read back from {topic}[{partition}]@{offset}")
    finally:
        await consumer.stop()


def test_an_input_record_carries_the_broker_time_whatever_the_producer_set(
    tmp_path: Path, kafka_admin: KafkaClients
) -> None:
    lc = _world(tmp_path, kafka_admin)
    registry = partner_clients(lc, "registry-JPN01")
    back_dated = int(time.time() * 1000) - 3 * DAY_MS

    async def publish() -> Any:
        producer = registry.producer()
        await producer.start()
        try:
            return await producer.send_and_wait(
                input_topic("JPN01"), b"{}", key=b"ts", timestamp_ms=back_dated
            )
        finally:
            await producer.stop()

    before = int(time.time() * 1000)
    meta = asyncio.run(publish())
    after = int(time.time() * 1000)
    assert meta.timestamp_type == 1  # LogAppendTime
    assert before - 1000 <= meta.timestamp <= after + 1000
    worker = clients_for(lc, "worker")
    record = asyncio.run(_read_back(worker, meta.topic, meta.partition, meta.offset))
    assert (record.timestamp_type, record.timestamp) == (1, meta.timestamp)


def test_a6gw_topics_updates_the_settings_of_existing_topics(
    tmp_path: Path, kafka_admin: KafkaClients
) -> None:
    """A topic made by an earlier version (no settings) gets today's by `a6gw topics`."""
    world = write_world(tmp_path, bootstrap=kafka_admin.bootstrap)
    lc = load_config(world.config_path)
    topics, configs = topic_plan(lc.config)
    asyncio.run(create_topics(kafka_admin, topics))
    plain = {name: {"retention.ms": "604800000"} for name in topics}
    asyncio.run(alter_topic_configs(kafka_admin, plain))
    deadline = time.monotonic() + 30  # the reset of the other settings applies a bit later
    while asyncio.run(_described(kafka_admin, input_topic("JPN01")))["message.timestamp.type"] != (
        "CreateTime"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    admin_file = tmp_path / "admin.json"
    assert kafka_admin.credentials is not None
    Credentials(kafka_admin.credentials.username, kafka_admin.credentials.password).save(admin_file)
    cmd = [sys.executable, "-m", "gateway", "topics", "--config", str(world.config_path)]
    run = subprocess.run(
        [*cmd, "--admin-credentials", str(admin_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    have = asyncio.run(_described(kafka_admin, input_topic("JPN01")))
    assert have["message.timestamp.type"] == "LogAppendTime"
    assert int(have["max.message.bytes"]) >= lc.config.limits.max_message_bytes
    for name in (input_topic("JPN01"), inventory_input_topic("MNG"), LEDGER_TOPIC, AUDIT_TOPIC):
        have = asyncio.run(_described(kafka_admin, name))
        assert {k: have[k] for k in configs[name]} == configs[name], name


def test_a_large_input_passes_every_topic_it_reaches(
    tmp_path: Path, kafka_admin: KafkaClients
) -> None:
    """With max_message_bytes = 2 MiB, a 1.5 MiB input fits its input topic, the records
    quoting it (ledger, audit, dead letters, outputs: twice its size) fit theirs, the
    changelogs take four times its size; each is read back by the worker."""
    lc = _world(tmp_path, kafka_admin, max_message_bytes=2 * 1024 * 1024)
    size = 1536 * 1024
    gid = lc.config.gateway.id
    worker = clients_for(lc, "worker")
    plan = [
        (partner_clients(lc, "registry-JPN01"), input_topic("JPN01"), size),
        *(
            (worker, t, 2 * size)
            for t in (LEDGER_TOPIC, AUDIT_TOPIC, DLQ_TOPIC, output_topic("JPN01"))
        ),
        (worker, f"{gid}-decisions-changelog", 4 * size),
    ]
    # read back by whoever reads each topic: the worker; the registry its output topic; the
    # dead letters, which no gateway process reads, by the admin
    readers = {DLQ_TOPIC: kafka_admin, output_topic("JPN01"): partner_clients(lc, "registry-JPN01")}
    assert 4 * size < record_limit(2 * 1024 * 1024, REQUOTED) - 1024
    assert 2 * size < record_limit(2 * 1024 * 1024, QUOTED) - 1024

    async def publish(kafka: KafkaClients, topic: str, n: int) -> Any:
        producer = kafka.producer()
        await producer.start()
        try:
            return await producer.send_and_wait(topic, b"x" * n, key=b"big", partition=0)
        finally:
            await producer.stop()

    for kafka, topic, n in plan:
        meta = asyncio.run(publish(kafka, topic, n))
        reader = readers.get(topic, worker)
        record = asyncio.run(_read_back(reader, topic, 0, meta.offset))
        assert len(record.value) == n, topic
