"""The broker admits only authenticated principals, and each only where the principal table
(README, "Kafka principals") lets it: every cell the table does not grant is refused."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from aiokafka.structs import TopicPartition

from gateway.config import LoadedConfig, load_config
from gateway.core.topics import AUDIT_TOPIC, input_topic, output_topic
from gateway.demo.world import write_world
from gateway.transport import LocalBroker, probe_broker
from gateway.transport.acls import READ, WRITE, Grant, principal_table, principals, provision
from gateway.transport.admin import create_topics
from gateway.transport.clients import Credentials, KafkaClients, clients_of, partner_clients
from gateway.transport.topic_plan import topic_plan

# Records of every kind go on every topic here (changelogs and outputs included): on a broker
# of this module's own, so that no later world's worker finds them.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker]


@dataclass
class Setup:
    lc: LoadedConfig
    admin: KafkaClients
    grants: set[Grant]
    topics: list[str]  # every topic of the plan
    groups: list[str]  # every group the table names


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaClients) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("auth")
    world = write_world(root, bootstrap=kafka_admin.bootstrap)
    lc = load_config(world.config_path)
    asyncio.run(provision(lc, kafka_admin))
    topics, configs = topic_plan(lc.config)
    asyncio.run(create_topics(kafka_admin, topics, configs=configs))
    asyncio.run(_one_record_on_each(kafka_admin, sorted(topics)))
    grants = set(principal_table(lc.config))
    groups = sorted({g.name for g in grants if g.resource == "group"})
    yield Setup(lc, kafka_admin, grants, sorted(topics), groups)


def clients(s: Setup, who: str) -> KafkaClients:
    gid = s.lc.config.gateway.id
    return partner_clients(s.lc, who[len(gid) + 1 :] if who.startswith(f"{gid}-") else who)


def granted(s: Setup, who: str, resource: str, name: str, op: str) -> bool:
    return any(
        g.principal == who
        and g.resource == resource
        and g.operation == op
        and (g.name == name if g.pattern == "literal" else name.startswith(g.name))
        for g in s.grants
    )


async def _refused_writes(kafka: KafkaClients, topics: list[str]) -> dict[str, str]:
    """Each topic -> the error producing to it raised ('' when it was accepted)."""
    producer = kafka.producer(request_timeout_ms=5000)
    await producer.start()
    out: dict[str, str] = {}
    try:
        for topic in topics:
            try:
                await asyncio.wait_for(producer.send_and_wait(topic, b"x", key=b"k"), 15)
                out[topic] = ""
            except TopicAuthorizationFailedError as exc:
                out[topic] = type(exc).__name__
    finally:
        await producer.stop()
    return out


async def _refused_read(kafka: KafkaClients, topic: str) -> str:
    """'' when a record of ``topic`` (every topic holds one) could be read; else how the
    broker refused: the fetch raised, or the topic's metadata itself was withheld."""
    consumer = kafka.consumer(group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek(tp, 0)
        started = time.monotonic()
        while time.monotonic() < started + 10:
            if (await consumer.getmany(tp, timeout_ms=500)).get(tp):
                return ""
            hidden = topic in consumer._client.cluster.unauthorized_topics  # noqa: SLF001
            if hidden and time.monotonic() > started + 2:
                return "TopicAuthorizationFailed (metadata)"
        return "nothing read"
    except TopicAuthorizationFailedError as exc:
        return type(exc).__name__
    finally:
        await consumer.stop()


async def _one_record_on_each(admin: KafkaClients, topics: list[str]) -> None:
    producer = admin.producer()
    await producer.start()
    try:
        for topic in topics:
            await producer.send_and_wait(topic, b"{}", key=b"probe", partition=0)
    finally:
        await producer.stop()


async def _refused_group(kafka: KafkaClients, group: str, topic: str) -> str:
    consumer = kafka.consumer(group_id=group, enable_auto_commit=False)
    try:
        await consumer.start()
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await asyncio.wait_for(consumer.commit({tp: 0}), 15)
        return ""
    except GroupAuthorizationFailedError as exc:
        return type(exc).__name__
    finally:
        await consumer.stop()


def test_every_principal_writes_only_where_the_table_lets_it(setup: Setup) -> None:
    for who in principals(setup.lc.config):
        denied = [t for t in setup.topics if not granted(setup, who, "topic", t, WRITE)]
        got = asyncio.run(_refused_writes(clients(setup, who), denied))
        assert got == dict.fromkeys(denied, "TopicAuthorizationFailedError"), who


def test_every_principal_reads_only_where_the_table_lets_it(setup: Setup) -> None:
    async def check(who: str) -> dict[str, str]:
        denied = [t for t in setup.topics if not granted(setup, who, "topic", t, READ)]
        kafka = clients(setup, who)
        found = await asyncio.gather(*(_refused_read(kafka, t) for t in denied))
        return dict(zip(denied, found, strict=True))

    for who in principals(setup.lc.config):
        got = asyncio.run(check(who))
        refusals = {"TopicAuthorizationFailedError", "TopicAuthorizationFailed (metadata)"}
        assert set(got.values()) <= refusals, (who, got)


def test_every_principal_uses_only_its_own_consumer_group(setup: Setup) -> None:
    for who in principals(setup.lc.config):
        readable = [t for t in setup.topics if granted(setup, who, "topic", t, READ)]
        topic = readable[0] if readable else setup.topics[0]
        for group in setup.groups:
            if granted(setup, who, "group", group, READ):
                continue
            got = asyncio.run(_refused_group(clients(setup, who), group, topic))
            assert got == "GroupAuthorizationFailedError", (who, group)


def test_the_granted_cells_work(setup: Setup) -> None:
    """The refusals above are the ACLs', not a broken login: each principal's own topics."""
    reg = "registry-JPN01"
    assert asyncio.run(_refused_writes(clients(setup, reg), [input_topic("JPN01")])) == {
        input_topic("JPN01"): ""
    }
    assert asyncio.run(_refused_read(clients(setup, reg), output_topic("JPN01"))) == ""
    assert asyncio.run(_refused_group(clients(setup, reg), reg, output_topic("JPN01"))) == ""


def test_a_bad_password_is_refused(setup: Setup) -> None:
    good = clients(setup, "registry-JPN01")
    assert good.credentials is not None
    bad = good.as_user(Credentials(good.credentials.username, good.credentials.password + "x"))

    async def start() -> None:
        producer = bad.producer(request_timeout_ms=5000)
        try:
            await producer.start()
        finally:
            await producer.stop()

    with pytest.raises(KafkaConnectionError):
        asyncio.run(start())


def test_no_credentials_at_all_are_refused(setup: Setup, kafka_broker: LocalBroker) -> None:
    anonymous = clients_of(setup.lc, None)
    assert anonymous.security() == {"security_protocol": "PLAINTEXT"}

    async def start() -> None:
        producer = anonymous.producer(request_timeout_ms=5000)
        try:
            await producer.start()
            await producer.send_and_wait(AUDIT_TOPIC, b"{}", key=b"forged")
        finally:
            await producer.stop()

    with pytest.raises(KafkaConnectionError):
        asyncio.run(asyncio.wait_for(start(), 60))
    # Unauthenticated, the broker answers ApiVersions and cuts off anything else.
    assert probe_broker("127.0.0.1", kafka_broker.port, metadata=False).ready
    with pytest.raises((OSError, ValueError)):
        probe_broker("127.0.0.1", kafka_broker.port, metadata=True)


def test_credential_files_are_private(setup: Setup, kafka_broker: LocalBroker) -> None:
    folder = setup.lc.path(setup.lc.config.kafka.credentials_dir)
    files = sorted(folder.glob("*.json"))
    assert len(files) == len(principals(setup.lc.config))
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    assert kafka_broker.admin_path.stat().st_mode & 0o777 == 0o600
    # The config names no secret: the credentials come from files or the environment.
    assert all(
        Credentials.load(f).password not in Path(setup.lc.base / "config.yaml").read_text()
        for f in files
    )


def test_provisioning_again_changes_nothing(setup: Setup, kafka_broker: LocalBroker) -> None:
    folder = setup.lc.path(setup.lc.config.kafka.credentials_dir)
    before = {f.name: f.read_text() for f in folder.glob("*.json")}
    config = str(setup.lc.base / "config.yaml")
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "kafka", "provision", "--config", config,
         "--admin-credentials", str(kafka_broker.admin_path)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"{len(before)} principals" in run.stdout
    assert {f.name: f.read_text() for f in folder.glob("*.json")} == before
    assert asyncio.run(
        _refused_writes(clients(setup, "registry-JPN01"), [input_topic("JPN01")])
    ) == {input_topic("JPN01"): ""}
