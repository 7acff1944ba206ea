"""LocalBroker without a healthy broker: config rendering, defaults and the error paths.

Two tests run real ``java`` (StorageTool, and a JVM that dies at startup); they use the jar
cache, which is filled by Maven on first use.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.cli.kafka import add_kafka_parser
from gateway.errors import BrokerError
from gateway.transport import DEFAULT_PORT, KAFKA_VERSION, LocalBroker, probe_broker
from gateway.transport.broker import packaged_files
from tests.ports import free_port_pair


def _props(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and line[0] != "#")
    return {k.strip(): v.strip() for k, v in pairs}


@pytest.fixture
def files_copy(tmp_path: Path) -> Path:
    """A private copy of the broker's packaged files that a test may break."""
    return Path(shutil.copytree(packaged_files(), tmp_path / "broker_files"))


@pytest.fixture
def empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH with nothing on it (no java, no mvn)."""
    bin_dir = tmp_path / "empty-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_render_properties_fills_every_placeholder(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "state", port=19500, verbose=False)
    text = broker.render_properties()
    props = _props(text)
    assert props["listeners"] == "SASL_PLAINTEXT://127.0.0.1:19500,CONTROLLER://127.0.0.1:19501"
    assert props["advertised.listeners"] == "SASL_PLAINTEXT://127.0.0.1:19500"
    # Every listener authenticates; the broker's own principal is the only super user.
    assert props["listener.security.protocol.map"] == (
        "CONTROLLER:SASL_PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
    )
    admin = broker.admin_credentials()
    assert props["super.users"] == f"User:{admin.username}"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert (
        f'password="{admin.password}"' in props["listener.name.controller.plain.sasl.jaas.config"]
    )
    assert (broker.admin_path.stat().st_mode & 0o777) == 0o600
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19501"
    assert props["node.id"] == "1"
    assert props["process.roles"] == "broker,controller"
    assert props["log.dirs"] == str(tmp_path / "state" / "data")
    assert props["auto.create.topics.enable"] == "false"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
    ):
        assert props[key] == "1", key
    assert int(props["log.cleaner.dedupe.buffer.size"]) <= 32 * 1024 * 1024
    code_lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert not any(re.search(r"@[A-Z_]+@", line) for line in code_lines)


def test_render_rejects_an_unknown_placeholder(tmp_path: Path, files_copy: Path) -> None:
    template = files_copy / "server.properties"
    template.write_text(template.read_text() + "\nsome.setting=@NOT_A_PLACEHOLDER@\n")
    broker = LocalBroker(tmp_path / "state", files_dir=files_copy, verbose=False)
    with pytest.raises(BrokerError) as info:
        broker.render_properties()
    assert info.value.code == "KAFKA-CONFIG"
    assert "@NOT_A_PLACEHOLDER@" in str(info.value)


def test_defaults_and_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("A6GW_KAFKA_DIR", "A6GW_KAFKA_PORT", "A6GW_KAFKA_JARS", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    broker = LocalBroker(verbose=False)
    assert broker.state_dir == tmp_path / ".a6gw" / "kafka"
    assert (broker.port, broker.controller_port) == (DEFAULT_PORT, DEFAULT_PORT + 1)
    assert broker.bootstrap == f"127.0.0.1:{DEFAULT_PORT}"
    assert broker.jar_dir == tmp_path / "home" / ".cache" / "a6gw" / f"kafka-{KAFKA_VERSION}"

    monkeypatch.setenv("A6GW_KAFKA_DIR", str(tmp_path / "env-state"))
    monkeypatch.setenv("A6GW_KAFKA_PORT", "19600")
    monkeypatch.setenv("A6GW_KAFKA_JARS", str(tmp_path / "env-jars"))
    broker = LocalBroker(verbose=False)
    assert broker.state_dir == tmp_path / "env-state"
    assert (broker.port, broker.controller_port) == (19600, 19601)
    assert broker.jar_dir == tmp_path / "env-jars"

    explicit = LocalBroker(tmp_path / "arg-state", port=19700, verbose=False)  # arguments win
    assert (explicit.state_dir, explicit.port) == (tmp_path / "arg-state", 19700)


def test_bad_port_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("A6GW_KAFKA_PORT", "kafka")
    with pytest.raises(BrokerError) as info:
        LocalBroker(verbose=False)
    assert info.value.code == "KAFKA-CONFIG"
    with pytest.raises(BrokerError):
        LocalBroker(port=70000, verbose=False)


def test_missing_mvn_is_reported(tmp_path: Path, empty_path: Path) -> None:
    broker = LocalBroker(tmp_path / "state", jar_dir=tmp_path / "jars", verbose=False)
    assert not broker.is_fetched()
    with pytest.raises(BrokerError) as info:
        broker.fetch()
    assert info.value.code == "KAFKA-FETCH"
    assert "'mvn' not found" in str(info.value)
    assert not (tmp_path / "jars").exists()


def test_failing_mvn_reports_its_output_tail(tmp_path: Path, empty_path: Path) -> None:
    fake = empty_path / "mvn"
    fake.write_text(
        "#!/bin/sh\necho '[ERROR] Could not resolve org.apache.kafka:kafka_2.13'\nexit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    broker = LocalBroker(tmp_path / "state", jar_dir=tmp_path / "jars", verbose=False)
    with pytest.raises(BrokerError) as info:
        broker.fetch()
    assert info.value.code == "KAFKA-FETCH"
    assert "exit 1" in str(info.value)
    assert "Could not resolve org.apache.kafka:kafka_2.13" in str(info.value)
    assert not broker.is_fetched()
    assert not list(tmp_path.glob("jars*partial*"))


def test_missing_java_is_reported(
    tmp_path: Path, empty_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = LocalBroker(tmp_path / "state", port=free_port_pair(), verbose=False)
    monkeypatch.setattr(broker, "fetch", lambda: broker.jar_dir)
    with pytest.raises(BrokerError) as info:
        broker.start(timeout=5)
    assert info.value.code == "KAFKA-START"
    assert "'java' not found" in str(info.value)
    assert not broker.pid_path.exists()


def test_port_in_use_is_reported_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = int(squatter.getsockname()[1])
        broker = LocalBroker(tmp_path / "state", port=port, verbose=False)
        with pytest.raises(BrokerError) as info:
            broker.start(timeout=5)
    assert info.value.code == "KAFKA-START"
    assert f"127.0.0.1:{port} is in use" in str(info.value)
    assert not broker.state_dir.exists()


@pytest.fixture
def garbage_server() -> Iterator[int]:
    """A TCP server that accepts connections and answers with non-Kafka bytes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(1024)
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(5)
    server.close()


def test_tcp_accept_alone_is_not_a_broker(tmp_path: Path, garbage_server: int) -> None:
    with pytest.raises(ValueError):
        probe_broker("127.0.0.1", garbage_server, timeout=2)
    broker = LocalBroker(tmp_path / "state", port=garbage_server, verbose=False)
    assert not broker.is_answering()
    with pytest.raises(OSError):
        probe_broker("127.0.0.1", free_port_pair(), timeout=2)


def test_stop_and_status_when_not_running(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "state", port=free_port_pair(), verbose=False)
    assert broker.stop() is False
    status = broker.status()
    assert (status.running, status.pid) == (False, None)
    assert "not running" in str(status)
    # a stale pid file naming a live but unrelated process (this one) is ignored and removed
    broker.state_dir.mkdir(parents=True)
    broker.pid_path.write_text(f"{os.getpid()}\n")
    assert broker.status().pid is None
    assert broker.stop() is False
    assert not broker.pid_path.exists()


def test_wipe_refuses_a_foreign_directory(tmp_path: Path) -> None:
    foreign = tmp_path / "precious"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(BrokerError) as info:
        LocalBroker(foreign, port=free_port_pair(), verbose=False).wipe()
    assert info.value.code == "KAFKA-CONFIG"
    assert (foreign / "notes.txt").read_text() == "keep me"
    LocalBroker(tmp_path / "never-created", verbose=False).wipe()  # nothing to do: fine


@pytest.mark.skipif(shutil.which("java") is None, reason="needs java")
def test_broken_properties_fail_the_format_with_its_output(
    tmp_path: Path, files_copy: Path
) -> None:
    template = files_copy / "server.properties"
    template.write_text(template.read_text() + "\nnum.partitions=lots\n")
    broker = LocalBroker(
        tmp_path / "state", port=free_port_pair(), files_dir=files_copy, verbose=False
    )
    with pytest.raises(BrokerError) as info:
        broker.start(timeout=30)
    assert info.value.code == "KAFKA-FORMAT"
    assert "num.partitions" in str(info.value)
    assert not broker.pid_path.exists()


@pytest.mark.skipif(shutil.which("java") is None, reason="needs java")
def test_broker_dying_at_startup_reports_the_log_tail(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "state", port=free_port_pair(), verbose=False)
    broker.main_class = "a6gw.NoSuchBrokerMain"  # the JVM starts and exits at once
    with pytest.raises(BrokerError) as info:
        broker.start(timeout=60)
    message = str(info.value)
    assert info.value.code == "KAFKA-START"
    assert "exited during startup" in message
    assert "a6gw.NoSuchBrokerMain" in message  # from the JVM's own error in broker.out
    assert str(broker.out_path) in message
    assert not broker.pid_path.exists()
    assert not broker.status().running


@pytest.mark.skipif(shutil.which("java") is None, reason="needs java")
def test_broker_rejecting_its_storage_reports_the_server_log(tmp_path: Path) -> None:
    broker = LocalBroker(tmp_path / "state", port=free_port_pair(), verbose=False)
    assert broker.format_storage() is True  # formatted for node.id=1
    assert broker.format_storage() is False  # only once
    broker.node_id = 2  # the broker refuses storage formatted for another node
    with pytest.raises(BrokerError) as info:
        broker.start(timeout=60)
    message = str(info.value)
    assert info.value.code == "KAFKA-START"
    assert f"--- last lines of {broker.log_path} ---" in message
    assert "Stored node id 1 doesn't match previous node id 2" in message
    assert not broker.pid_path.exists()


def _cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="a6gw")
    add_kafka_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return int(args.func(args))


def test_cli_exit_codes_without_a_broker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = ["--dir", str(tmp_path / "state"), "--port", str(free_port_pair())]
    assert _cli("kafka", "status", *where) == 3
    assert "not running" in capsys.readouterr().out
    assert _cli("kafka", "stop", *where) == 0
    assert "was not running" in capsys.readouterr().out
    assert _cli("kafka") == 2  # no subcommand: help on stderr
    assert "start" in capsys.readouterr().err
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy = str(squatter.getsockname()[1])
        assert _cli("kafka", "start", "--dir", str(tmp_path / "state"), "--port", busy) == 2
    err = capsys.readouterr().err
    assert "[KAFKA-START]" in err and "is in use" in err
