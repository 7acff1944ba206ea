"""The worker, the API and the ingress run the offline config check before they touch Kafka,
and refuse to start naming each broken file (A6-CFG-CHECK, exit 2). "Before Kafka" is
watched, not assumed: the config's bootstrap is a listening socket that must see no
connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.cli.main import main
from gateway.http.pki import init_pki


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def untouched(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.fixture
def world(tmp_path: Path, listener: socket.socket) -> Path:
    root = tmp_path / "w"
    port = listener.getsockname()[1]
    assert main(["init", str(root), "--bootstrap", f"127.0.0.1:{port}"]) == 0
    init_pki(root / "pki", ("auditor", "a6gw-gateway", "JPN01"))
    return root / "config.yaml"


def edit_yaml(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "[A6-CFG-CHECK]" in err and "does not start" in err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("supervise", [["--no-supervise"], []])
def test_the_worker_without_its_trust_file_refuses_to_start_before_kafka(
    world: Path, listener: socket.socket, capsys: pytest.CaptureFixture[str], supervise: list[str]
) -> None:
    trust = world.parent / "trust.yaml"
    trust.unlink()
    err = refused(capsys, ["worker", "--config", str(world), *supervise])
    assert f"[A6-CFG-002] {trust}: cannot read the trust file" in err
    # its credentials are missing too (no `a6gw kafka provision` here): named as well
    assert "a6gw-demo-worker.json: no Kafka credentials for the worker role" in err
    assert untouched(listener)
    assert not (world.parent / "data").exists()


def test_the_api_without_its_tls_files_names_each(
    world: Path, listener: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = world.parent / "pki"
    (pki / "server.pem").unlink()
    (pki / "server.key").unlink()
    err = refused(capsys, ["api", "--config", str(world), "--read-only"])
    assert f"{pki / 'server.pem'}: cannot read the certificate (api.cert_file)" in err
    assert f"{pki / 'server.key'}: cannot read the private key (api.key_file)" in err
    assert "kafka-credentials" not in err  # --read-only: the API needs no Kafka user
    assert untouched(listener)


def test_the_ingress_with_a_mismatched_key_names_it(
    world: Path, listener: socket.socket, capsys: pytest.CaptureFixture[str]
) -> None:
    def https(doc: dict[str, Any]) -> None:
        doc["registries"][0].update(transport="https", endpoint="https://127.0.0.1:9/")
        doc["kafka"]["security_protocol"] = "PLAINTEXT"

    edit_yaml(world, https)
    pki = world.parent / "pki"
    (pki / "server.key").write_bytes((pki / "JPN01.key").read_bytes())
    err = refused(capsys, ["ingress", "--config", str(world)])
    assert f"[A6-CFG-TLS] {pki / 'server.key'}: the private key" in err
    assert "does not belong to the certificate" in err
    assert untouched(listener)
