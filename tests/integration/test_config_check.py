"""``a6gw config check --online`` against the real broker (and PostgreSQL): each role signs
in with its credentials, the gateway's topics must exist; and a worker without its trust
file refuses to start on the real broker before it creates anything there."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import load_config
from gateway.core.topics import AUDIT_TOPIC
from gateway.demo.world import write_world
from gateway.http.pki import init_pki
from gateway.transport.acls import provision
from gateway.transport.admin import create_topics
from gateway.transport.clients import Credentials, KafkaClients
from gateway.transport.topic_plan import topic_plan

# The test checks that the gateway's topics are missing, then creates them: a broker of its
# own, so that no other module's topics are there first.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker]


def a6gw(*args: str | Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "gateway", *(str(a) for a in args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def online(config: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = a6gw("config", "check", "--config", config, "--online", "--format", "json", *extra)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, json.loads(result.stdout)


def errors(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in doc["problems"] if p["severity"] == "error"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaClients) -> Path:
    root = tmp_path_factory.mktemp("check")
    config = write_world(root, bootstrap=kafka_admin.bootstrap).config_path
    init_pki(root / "pki", ("auditor", "a6gw-gateway"))
    asyncio.run(provision(load_config(config), kafka_admin))
    return config


def test_the_worker_without_its_trust_file_refuses_before_the_broker(
    world: Path, kafka_admin: KafkaClients
) -> None:
    trust = world.parent / "trust.yaml"
    saved = trust.read_bytes()
    trust.unlink()
    try:
        result = a6gw("worker", "--config", world, "--no-supervise")
    finally:
        trust.write_bytes(saved)
    assert result.returncode == 2
    assert "[A6-CFG-CHECK] worker does not start" in result.stderr
    assert f"[A6-CFG-002] {trust}: cannot read the trust file" in result.stderr
    assert "Traceback" not in result.stderr
    assert asyncio.run(_groups(kafka_admin)) == []  # the worker never joined its group
    assert not (world.parent / "data").exists()


async def _groups(admin: KafkaClients) -> list[Any]:
    client = admin.admin()
    await client.start()
    try:
        return list(await client.list_consumer_groups())
    finally:
        await client.close()


def test_online_signs_in_each_role_and_wants_the_topics(
    world: Path, kafka_admin: KafkaClients
) -> None:
    code, doc = online(world)
    assert code == 1
    [missing] = errors(doc)
    assert missing["code"] == "A6-CFG-ONLINE" and "gateway topics missing" in missing["message"]
    assert AUDIT_TOPIC in missing["message"]
    signed_in = [c for c in doc["checked"] if "signs in as" in c]
    assert len(signed_in) >= 3  # worker, api, ingress, and the tools' roles provisioned

    topics, configs = topic_plan(load_config(world).config)
    asyncio.run(create_topics(kafka_admin, topics, configs=configs))
    code, doc = online(world)
    assert code == 0, doc
    assert any(f"gateway's {len(topics)} topics exist" in c for c in doc["checked"])


def test_online_names_the_role_the_broker_refuses(world: Path) -> None:
    creds = world.parent / "kafka-credentials" / "a6gw-demo-api.json"
    saved = creds.read_bytes()
    Credentials("a6gw-demo-api", "not-the-password").save(creds)
    try:
        code, doc = online(world, "--process", "api")
    finally:
        creds.write_bytes(saved)
        creds.chmod(0o600)
    assert code == 1
    [refused] = errors(doc)
    assert refused["code"] == "A6-CFG-ONLINE"
    assert "the api role (a6gw-demo-api) cannot sign in" in refused["message"]


def test_online_opens_a_postgresql_store_read_only(world: Path, postgres_database: str) -> None:
    doc = yaml.safe_load(world.read_text(encoding="utf-8"))
    doc.setdefault("audit", {})["store"] = postgres_database
    other = world.parent / "pg.yaml"
    other.write_text(yaml.safe_dump(doc), encoding="utf-8")
    _code, found = online(other, "--process", "api")
    assert not [p for p in errors(found) if "store" in p["message"]], found
    assert any("no entries table yet" in p["message"] for p in found["problems"])
    doc["audit"]["store"] = postgres_database.rsplit("/", 1)[0] + "/no_such_database"
    other.write_text(yaml.safe_dump(doc), encoding="utf-8")
    code, found = online(other, "--process", "api")
    assert code == 1
    unreachable = errors(found)  # the audit store, and the nonce store in the same database
    assert [p["code"] for p in unreachable] == ["A6-CFG-ONLINE", "A6-CFG-ONLINE"]
    assert all("no_such_database" in p["file"] for p in unreachable)
    assert "the audit store cannot be reached" in unreachable[0]["message"]
