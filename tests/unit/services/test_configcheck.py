"""The offline config check: one test per kind of mistake, each finding the broken file named
with its code; several mistakes are all named; a clean world passes."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from gateway.audit.note import LogKey
from gateway.cli.main import main
from gateway.http.pki import init_pki
from gateway.services.configcheck.check import check
from gateway.services.configcheck.report import Problem, Report
from gateway.transport.clients import CREDENTIALS_ENV, Credentials


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """A clean world: config, trust, keys, a PKI; Kafka without authentication."""
    root = tmp_path / "w"
    assert main(["init", str(root), "--security-protocol", "PLAINTEXT"]) == 0
    init_pki(root / "pki", ("auditor", "a6gw-gateway", "JPN01"))
    return root / "config.yaml"


def run(config: Path, **kwargs: Any) -> Report:
    report, _lc = check(config, **kwargs)
    return report


def only_error(report: Report) -> Problem:
    assert len(report.errors) == 1, report.text()
    return report.errors[0]


def edit_yaml(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def test_a_clean_world_passes(world: Path) -> None:
    report = run(world)
    assert report.errors == [], report.text()
    assert report.text().splitlines()[-1].startswith("OK: ")


# -- the config file -------------------------------------------------------------------------


def test_a_missing_config_is_named(tmp_path: Path) -> None:
    problem = only_error(run(tmp_path / "nope.yaml"))
    assert (problem.code, problem.file) == ("A6-CFG-002", str(tmp_path / "nope.yaml"))
    assert "a6gw init" in problem.hint


def test_invalid_yaml_is_named_with_its_line(world: Path) -> None:
    world.write_text("gateway:\n  id: a6gw\n   bad: [\n", encoding="utf-8")
    problem = only_error(run(world))
    assert (problem.code, problem.file) == ("A6-CFG-003", str(world))
    assert "line 3" in problem.message


def test_every_model_error_is_named(world: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["kafka"]["partitions"] = 0
        doc["gateway"]["colour"] = "red"

    edit_yaml(world, change)
    report = run(world)
    assert [p.code for p in report.errors] == ["A6-CFG-004", "A6-CFG-004"]
    assert all(p.file == str(world) for p in report.errors)
    text = report.text()
    assert "kafka.partitions" in text and "gateway.colour" in text


def test_unknown_parties_are_each_named(world: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["registries"][0].update(id="XXX01", party="XXX")  # a party the config lacks
        doc["cooperative_approaches"][0]["parties"] = ["JPN", "YYY"]

    edit_yaml(world, change)
    report = run(world)
    assert [(p.code, p.file) for p in report.errors] == [("A6-CFG-004", str(world))] * 2
    text = report.text()
    assert "registry XXX01 names unknown party XXX" in text
    assert "cooperative approach CA0001 names unknown parties ['YYY']" in text


# -- the trust file --------------------------------------------------------------------------


def test_a_missing_trust_file_is_named(world: Path) -> None:
    trust = world.parent / "trust.yaml"
    trust.unlink()
    problem = only_error(run(world))
    assert (problem.code, problem.file) == ("A6-CFG-002", str(trust))
    assert "trust file" in problem.message


def test_a_trusted_key_of_an_unknown_party_or_registry_is_named(world: Path) -> None:
    trust = world.parent / "trust.yaml"

    def change(doc: dict[str, Any]) -> None:
        by_role = {k["role"]: k for k in doc["keys"]}
        by_role["authorizing-authority"]["principal"] = "FRA"
        by_role["registry"]["principal"] = "FRA01"
        by_role["jc-secretariat"]["public_key"] = "not base64!"

    edit_yaml(trust, change)
    report = run(world)
    assert {p.code for p in report.errors} == {"A6-CFG-TRUST"}
    assert {p.file for p in report.errors} == {str(trust)}
    text = report.text()
    assert "'FRA' (role authorizing-authority) is no Party" in text
    assert "'FRA01' (role registry) is no registry" in text
    assert "not a base64 Ed25519 key" in text


# -- keys ------------------------------------------------------------------------------------


def test_a_bad_signing_key_is_named(world: Path) -> None:
    key = world.parent / "keys" / "a6gw-demo.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n")
    problem = only_error(run(world))
    assert (problem.code, problem.file) == ("A6-CFG-KEY", str(key))


def test_a_signing_key_the_trust_file_does_not_list_is_named(world: Path) -> None:
    other = world.parent / "keys" / "JPN01.pem"  # a valid key, but not the gateway's
    key = world.parent / "keys" / "a6gw-demo.pem"
    key.write_bytes(other.read_bytes())
    problem = only_error(run(world))
    assert (problem.code, problem.file) == ("A6-CFG-KEY", str(key))
    assert "not the one the trust file lists" in problem.message


def test_a_bad_log_key_and_a_bad_previous_vkey_are_named(world: Path) -> None:
    log_key = world.parent / "keys" / "log.key"
    log_key.write_text("{}", encoding="utf-8")
    edit_yaml(world, lambda doc: doc["gateway"].update(log_previous_vkeys=["not+a+vkey"]))
    report = run(world)
    assert [p.code for p in report.errors] == ["A6-CFG-KEY", "A6-CFG-KEY"]
    assert report.errors[0].file == str(log_key)
    assert "log_previous_vkeys" in report.errors[1].file


def test_a_missing_log_key_is_named(world: Path) -> None:
    log_key = world.parent / "keys" / "log.key"
    log_key.unlink()
    problem = only_error(run(world))
    assert (problem.code, problem.file) == ("A6-CFG-002", str(log_key))


def test_a_mac_key_readable_by_others_is_named_with_the_fix(world: Path) -> None:
    mac = world.parent / "keys" / "internal.mac"
    mac.chmod(0o644)
    problem = only_error(run(world))
    assert (problem.code, problem.file) == ("A6-CFG-006", str(mac))
    assert "644" in problem.message and problem.hint == f"chmod 600 {mac}"


def test_a_short_mac_key_is_named(world: Path) -> None:
    mac = world.parent / "keys" / "internal.mac"
    mac.write_text("abcd\n", encoding="ascii")
    problem = only_error(run(world))
    assert (problem.code, problem.file) == ("A6-CFG-006", str(mac))


def test_a_key_readable_by_others_is_a_warning(world: Path) -> None:
    key = world.parent / "keys" / "a6gw-demo.pem"
    key.chmod(0o640)
    report = run(world)
    assert report.errors == []
    assert any(p.code == "A6-CFG-KEY" and p.file == str(key) for p in report.warnings)


# -- TLS -------------------------------------------------------------------------------------


def test_a_missing_tls_file_is_named(world: Path) -> None:
    cert = world.parent / "pki" / "server.pem"
    cert.unlink()
    problem = only_error(run(world, processes=("api",)))
    assert (problem.code, problem.file) == ("A6-CFG-002", str(cert))
    assert "api.cert_file" in problem.message and "pki init" in problem.hint


def test_an_invalid_tls_file_is_named(world: Path) -> None:
    ca = world.parent / "pki" / "ca.pem"
    ca.write_text("not a certificate\n", encoding="utf-8")
    report = run(world, processes=("api",))
    assert [(p.code, p.file) for p in report.errors] == [("A6-CFG-TLS", str(ca))]


def test_a_certificate_with_the_key_of_another_is_named(world: Path) -> None:
    pki = world.parent / "pki"
    key = pki / "server.key"
    key.write_bytes((pki / "auditor.key").read_bytes())
    problem = only_error(run(world, processes=("api",)))
    assert (problem.code, problem.file) == ("A6-CFG-TLS", str(key))
    assert "does not belong to the certificate" in problem.message


def test_an_expired_certificate_is_an_error_and_a_soon_expiring_one_a_warning(
    world: Path,
) -> None:
    cert_path = world.parent / "pki" / "server.pem"
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    after = cert.not_valid_after_utc
    late = run(world, processes=("api",), now=after + timedelta(days=1))
    assert any(
        p.code == "A6-CFG-EXPIRY" and p.file == str(cert_path) and "expired" in p.message
        for p in late.errors
    )
    soon = run(world, processes=("api",), now=after - timedelta(days=10))
    assert soon.errors == []
    assert any(p.code == "A6-CFG-EXPIRY" and p.file == str(cert_path) for p in soon.warnings)


def test_https_partners_need_the_connector_and_ingress_files(world: Path) -> None:
    def https(doc: dict[str, Any]) -> None:
        doc["registries"][0].update(transport="https", endpoint="https://127.0.0.1:9/")

    edit_yaml(world, https)
    assert run(world).errors == []
    client_key = world.parent / "pki" / "a6gw-gateway.key"
    client_key.unlink()
    problem = only_error(run(world))
    assert (problem.file, problem.code) == (str(client_key), "A6-CFG-002")
    assert "connectors.key_file" in problem.message
    assert run(world, processes=("ingress",)).errors == []  # the ingress does not use it


# -- Kafka credentials -----------------------------------------------------------------------


def test_missing_credentials_are_named_per_role(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit_yaml(world, lambda doc: doc["kafka"].update(security_protocol="SASL_PLAINTEXT"))
    creds = world.parent / "kafka-credentials"
    Credentials("a6gw-demo-worker", "secret").save(creds / "a6gw-demo-worker.json")
    (creds / "a6gw-demo-api.json").write_text("{not json", encoding="utf-8")
    report = run(world)
    assert [(p.code, p.file) for p in report.errors] == [
        ("A6-CFG-003", str(creds / "a6gw-demo-api.json"))
    ]
    assert any(p.file == str(creds / "admin.json") for p in report.warnings)
    worker_only = run(world, processes=("worker",))
    assert worker_only.errors == []
    (creds / "a6gw-demo-worker.json").unlink()
    problem = only_error(run(world, processes=("worker",)))
    assert (problem.code, problem.file) == ("A6-CFG-002", str(creds / "a6gw-demo-worker.json"))
    assert "kafka provision" in problem.hint
    monkeypatch.setenv(CREDENTIALS_ENV.format("WORKER"), '{"username": "u"}')
    problem = only_error(run(world, processes=("worker",)))
    assert (problem.code, problem.file) == ("A6-CFG-003", "$A6GW_KAFKA_CREDENTIALS_WORKER")


# -- stores ----------------------------------------------------------------------------------


def test_a_file_that_is_no_audit_store_is_named_and_left_as_it_is(world: Path) -> None:
    data = world.parent / "data"
    data.mkdir()
    store = data / "audit.sqlite"
    store.write_bytes(b"x" * 4096)
    problem = only_error(run(world))
    assert (problem.code, problem.file) == ("A6-CFG-STORE", str(store))
    assert store.read_bytes() == b"x" * 4096


def test_a_store_without_tables_is_one_the_worker_creates_them_in(world: Path) -> None:
    """An empty SQLite file (say a backup copied without its -wal) is a new store to the
    worker, which creates its tables; a reader of the store cannot use it."""
    data = world.parent / "data"
    data.mkdir()
    store = data / "audit.sqlite"
    store.write_bytes(b"")
    assert run(world, processes=["worker"]).errors == []
    problem = only_error(run(world, processes=["api"]))
    assert (problem.code, problem.file) == ("A6-CFG-STORE", str(store))
    assert store.read_bytes() == b""


def test_the_check_creates_no_store(world: Path) -> None:
    assert run(world).errors == []
    assert not (world.parent / "data").exists()


# -- all at once, and the command --------------------------------------------------------------


def test_every_problem_is_named_not_only_the_first(world: Path) -> None:
    keys = world.parent / "keys"
    (world.parent / "trust.yaml").unlink()
    (keys / "log.key").unlink()
    (keys / "internal.mac").chmod(0o644)
    (world.parent / "pki" / "server.key").unlink()
    report = run(world)
    files = {p.file for p in report.errors}
    assert files == {
        str(world.parent / "trust.yaml"),
        str(keys / "log.key"),
        str(keys / "internal.mac"),
        str(world.parent / "pki" / "server.key"),
    }


def test_the_command_exits_0_1_2_and_speaks_json(
    world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", "--config", str(world)]) == 0
    assert "OK: " in capsys.readouterr().out
    (world.parent / "trust.yaml").unlink()
    assert main(["config", "check", "--config", str(world), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False
    assert doc["problems"][0]["file"] == str(world.parent / "trust.yaml")
    assert doc["problems"][0]["code"] == "A6-CFG-002"
    with pytest.raises(SystemExit) as usage:
        main(["config", "check"])
    assert usage.value.code == 2


def test_an_old_expired_trusted_key_is_a_warning(world: Path) -> None:
    trust = world.parent / "trust.yaml"
    past = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    last = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    edit_yaml(trust, lambda doc: doc["keys"][0].update(valid_from=past, valid_to=last))
    report = run(world)
    assert report.errors == []
    assert [p.code for p in report.warnings if p.file == str(trust)] == ["A6-CFG-EXPIRY"]


def test_the_log_key_from_the_environment_is_checked(
    world: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (world.parent / "keys" / "log.key").unlink()
    monkeypatch.setenv("A6GW_LOG_KEY", "not json")
    problem = only_error(run(world))
    assert problem.file == "$A6GW_LOG_KEY"
    key = LogKey.generate("a6gw.demo/audit")
    path = world.parent / "fresh.key"
    key.save(path)
    monkeypatch.setenv("A6GW_LOG_KEY", path.read_text(encoding="utf-8"))
    assert run(world).errors == []
    assert os.environ["A6GW_LOG_KEY"]
