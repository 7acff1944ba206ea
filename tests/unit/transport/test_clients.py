"""The one Kafka client factory, the principal table, and where credentials come from.

That no module but the factory constructs a client is checked in test_architecture.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from faust.sensors import Sensor

from gateway.config import LoadedConfig, load_config
from gateway.core.topics import (
    AUDIT_TOPIC,
    CHECKPOINT_TOPIC,
    COMMANDS_TOPIC,
    DLQ_TOPIC,
    INPUT_PREFIX,
    LEDGER_TOPIC,
    OUTPUT_PREFIX,
    input_topic,
    inventory_input_topic,
    inventory_output_topic,
    output_topic,
)
from gateway.demo.world import write_world
from gateway.errors import ConfigError
from gateway.transport.acls import DESCRIBE, READ, WRITE, Grant, principal_table, principals
from gateway.transport.clients import (
    CREDENTIALS_ENV,
    FAUST_FETCH_BYTES,
    GATEWAY_ROLES,
    Credentials,
    KafkaClients,
    clients_for,
    credentials_path,
)
from gateway.transport.sizes import FLOOR, largest_record


@pytest.fixture
def lc(tmp_path: Path) -> LoadedConfig:
    return load_config(write_world(tmp_path, bootstrap="127.0.0.1:1").config_path)


def test_each_role_reads_its_own_file_or_its_own_variable(
    lc: LoadedConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Credentials("a6gw-demo-worker", "file-secret").save(credentials_path(lc, "worker"))
    worker = clients_for(lc, "worker")
    assert worker.credentials == Credentials("a6gw-demo-worker", "file-secret")
    assert worker.security() == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "a6gw-demo-worker",
        "sasl_plain_password": "file-secret",
    }
    assert (credentials_path(lc, "worker").stat().st_mode & 0o777) == 0o600
    monkeypatch.setenv(
        CREDENTIALS_ENV.format("WORKER"), '{"username": "a6gw-demo-worker", "password": "env"}'
    )
    assert clients_for(lc, "worker").credentials == Credentials("a6gw-demo-worker", "env")
    with pytest.raises(ConfigError) as err:  # no file for the API, no variable
        clients_for(lc, "api")
    assert err.value.code == "A6-CFG-002"
    with pytest.raises(ConfigError):
        clients_for(lc, "nobody")


def test_sasl_ssl_uses_the_configured_ca_and_sizes_follow_the_limit(tmp_path: Path) -> None:
    kafka = KafkaClients(
        "broker:9093",
        Credentials("u", "p"),
        security_protocol="SASL_SSL",
        ssl_ca_file=None,
        max_record_bytes=largest_record(2 * 1024 * 1024),
    )
    sec = kafka.security()
    assert sec["security_protocol"] == "SASL_SSL" and sec["ssl_context"] is not None
    settings = kafka.faust_settings()
    assert settings["broker"] == "kafka://broker:9093"
    assert settings["producer_max_request_size"] == largest_record(2 * 1024 * 1024)
    assert (
        settings["consumer_max_fetch_size"] == FAUST_FETCH_BYTES > largest_record(2 * 1024 * 1024)
    )
    assert settings["broker_credentials"].ssl_context is not None
    with pytest.raises(ConfigError):
        KafkaClients("b:1", None, "SASL_SSL", ssl_ca_file=tmp_path / "missing.pem").ssl_context()


def test_credentials_are_never_shown() -> None:
    assert "secret" not in repr(Credentials("u", "secret"))


def test_the_principal_table(lc) -> None:  # type: ignore[no-untyped-def]
    table = principal_table(lc.config)
    gid = lc.config.gateway.id

    def cells(who: str) -> set[tuple[str, str, str]]:
        return {(g.resource, g.name, g.operation) for g in table if g.principal == who}

    assert cells("registry-JPN01") == {
        ("topic", input_topic("JPN01"), WRITE),
        ("topic", output_topic("JPN01"), READ),
        ("group", "registry-JPN01", READ),
    }
    assert cells("inventory-MNG") == {
        ("topic", inventory_input_topic("MNG"), WRITE),
        ("topic", inventory_output_topic("MNG"), READ),
        ("group", "inventory-MNG", READ),
    }
    assert cells(f"{gid}-api") == {("topic", COMMANDS_TOPIC, WRITE)}
    assert cells(f"{gid}-checkpoint") == {
        ("topic", AUDIT_TOPIC, WRITE),
        ("topic", CHECKPOINT_TOPIC, READ),
    }
    # The operator reads dead letters and cursors, sees offsets, and puts inputs back.
    ops = cells(f"{gid}-operator")
    assert ("topic", DLQ_TOPIC, READ) in ops and ("group", gid, DESCRIBE) in ops
    assert ("topic", input_topic("JPN01"), WRITE) in ops and (
        "topic",
        LEDGER_TOPIC,
        DESCRIBE,
    ) in ops
    assert not {c for c in ops if c[1] == LEDGER_TOPIC and c[2] != DESCRIBE}
    # Nobody but the worker reads or writes the ledger; no partner touches an internal topic.
    ledger = {g.principal for g in table if g.name == LEDGER_TOPIC and g.operation != DESCRIBE}
    assert ledger == {f"{gid}-worker"}
    partners = [g for g in table if g.principal.startswith(("registry-", "inventory-"))]
    assert all(
        g.name.startswith((INPUT_PREFIX, OUTPUT_PREFIX, "registry-", "inventory-"))
        for g in partners
    )
    assert Grant(f"{gid}-worker", "topic", f"{gid}-", READ, "prefixed") in table
    assert set(principals(lc.config)) >= {f"{gid}-{r}" for r in GATEWAY_ROLES}


def test_a_broker_without_authentication_needs_no_credentials(tmp_path: Path) -> None:
    world = write_world(tmp_path, bootstrap="127.0.0.1:1", security_protocol="PLAINTEXT")
    lc = load_config(world.config_path)
    for role in (*GATEWAY_ROLES, "admin"):
        assert clients_for(lc, role).security() == {"security_protocol": "PLAINTEXT"}
    assert not (tmp_path / "kafka-credentials").exists()


def test_a_worker_joins_its_group_under_its_static_instance_id() -> None:
    kafka = KafkaClients("127.0.0.1:1", Credentials("gw-worker", "secret"))
    assert "consumer_group_instance_id" not in kafka.faust_settings()
    settings = kafka.faust_settings("gw-host-worker-0a1b2c3d")
    assert settings["consumer_group_instance_id"] == "gw-host-worker-0a1b2c3d"
    app = kafka.faust_app("gw", instance_id="gw-host-1", autodiscover=False)
    assert app.conf.consumer_group_instance_id == "gw-host-1"
    assert kafka.faust_app("gw", autodiscover=False).conf.consumer_group_instance_id is None


def test_the_app_leaves_faust_s_monitor_out_of_its_sensors() -> None:
    """faust adds its monitor to the sensors as the app starts; the gateway's app takes it
    out again (it timed every record for web views the gateway does not serve), and only
    it."""

    async def started_sensors() -> tuple[bool, bool]:
        kafka = KafkaClients("127.0.0.1:1", Credentials("gw-worker", "secret"))
        app = kafka.faust_app("gw", autodiscover=False)
        mine = Sensor()
        app.sensors.add(mine)
        try:
            app.on_init_dependencies()  # what the app does as it starts
            return app.monitor in set(app.sensors), mine in set(app.sensors)
        finally:
            # the consumer thread's own loop, made with the consumer (never ran)
            app.consumer._thread.thread_loop.close()  # type: ignore[attr-defined]  # noqa: SLF001

    monitored, kept = asyncio.run(started_sensors())
    assert not monitored
    assert kept


def _fetch_wait(app) -> int:  # type: ignore[no-untyped-def]
    """The fetch wait of the AIOKafkaConsumer faust's consumer thread builds for ``app``
    (built, never started: no broker)."""

    thread = app.consumer._thread  # noqa: SLF001

    async def build() -> int:
        consumer = thread._create_worker_consumer(app.transport)  # noqa: SLF001
        try:
            return int(consumer._fetch_max_wait_ms)  # noqa: SLF001 - what its Fetcher is given
        finally:
            await consumer.stop()

    try:
        return asyncio.run(build())
    finally:
        thread.thread_loop.close()  # the thread's own loop (it never ran)


def test_the_worker_consumer_fetches_with_the_configured_wait() -> None:
    kafka = KafkaClients("127.0.0.1:1", Credentials("gw-worker", "secret"))
    assert _fetch_wait(kafka.faust_app("gw", autodiscover=False, fetch_max_wait_ms=7)) == 7
    # Without the setting, faust's own wait.
    assert _fetch_wait(kafka.faust_app("gw", autodiscover=False)) == 1500


def test_the_faust_producer_batches_up_to_512_kib_per_partition() -> None:
    kafka = KafkaClients("127.0.0.1:1", Credentials("gw-worker", "secret"))
    app = kafka.faust_app("gw", autodiscover=False)
    assert app.conf.producer_max_batch_size == 512 * 1024
    assert app.producer.max_batch_size == 512 * 1024  # what faust gives aiokafka
    assert app.conf.producer_max_batch_size <= FLOOR  # every topic takes such a batch


def test_the_worker_app_takes_the_wait_from_the_config(tmp_path: Path) -> None:
    from gateway.worker.runtime import _faust_app  # noqa: PLC0415 - the worker's own factory

    world = write_world(tmp_path / "w", bootstrap="127.0.0.1:1")
    lc = load_config(world.config_path)
    assert lc.config.kafka.fetch_max_wait_ms == 100
    kafka = KafkaClients("127.0.0.1:1", Credentials("gw-worker", "secret"))
    assert _fetch_wait(_faust_app(lc, kafka, tmp_path / "data")) == 100


def test_table_keys_keep_the_bytes_of_fausts_stdlib_json() -> None:
    """With orjson installed faust would write ``"日本"`` as raw UTF-8; a row keyed so by a
    worker of an earlier release would not be found. The app's codec writes what it did."""
    import orjson  # noqa: PLC0415 - the reason for the pin
    from faust.utils import json as faust_json  # noqa: PLC0415

    # faust's own choice with orjson (typed as str, it returns orjson's bytes)
    assert faust_json.dumps("日本") == orjson.dumps("日本")  # type: ignore[comparison-overlap]
    kafka = KafkaClients("127.0.0.1:1", Credentials("gw-worker", "secret"))
    app = kafka.faust_app("gw", autodiscover=False)
    row = {"event": "evt-日本", "n": 1, "list": [True, None]}
    key = app.serializers.dumps_key(None, "evt-日本", serializer="json")
    assert key == b'"evt-\\u65e5\\u672c"'
    data = app.serializers.dumps_value(None, row, serializer="json")
    assert data == b'{"event":"evt-\\u65e5\\u672c","n":1,"list":[true,null]}'
    assert app.serializers.loads_value(None, data, serializer="json") == row


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"event": "evt-日本", "n": 1, "list": [True, None]}, id="common"),
        pytest.param({"effects": [["blocks", "CA1|0", {"start": 0, "end": 99}]]}, id="nested"),
        pytest.param({"q": 2**70, "neg": -(2**64)}, id="integer-beyond-64-bits"),
        pytest.param({1: "a", "2": "b"}, id="non-string-key"),
        pytest.param({"s": "\ud800 lone"}, id="lone-surrogate"),
        pytest.param({"f": 0.1, "g": 1e16, "h": -2.5e-300}, id="floats"),
        pytest.param({"astral": "\U0001f600"}, id="outside-the-bmp"),
    ],
)
def test_table_values_read_back_as_the_stdlib_writes_them(value: object) -> None:
    """orjson writes table values when it can (``ValuesJson``); read back, every value is
    what the standard library's bytes give."""
    from gateway.transport.faust_json import StdlibJson, ValuesJson  # noqa: PLC0415

    stdlib, values = StdlibJson(), ValuesJson()
    assert values.loads(values.dumps(value)) == stdlib.loads(stdlib.dumps(value))


def test_table_values_go_through_orjson() -> None:
    from gateway.transport.faust_json import ValuesJson  # noqa: PLC0415

    assert ValuesJson().dumps({"event": "evt-日本"}) == '{"event":"evt-日本"}'.encode()
