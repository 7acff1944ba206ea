"""deploy/k8s/strimzi: the Kafka cluster, topics and users are valid against Strimzi's
published CRD schemas (tests/fixtures/strimzi), and the generated topics and users are the
gateway's own topic plan and principal table, fresh from deploy/k8s/base/config.yaml."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gateway.config import Config
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC, changelog_topic, input_topic
from gateway.errors import ConfigError
from gateway.transport import strimzi
from gateway.transport.acls import Grant, principal_table
from gateway.transport.sizes import QUOTED, REQUOTED, WIRE, record_limit
from gateway.transport.topic_plan import topic_plan
from tests.unit.deploy.kustomize import K8S, REPO, Doc, build, read_docs, read_kustomization
from tests.unit.deploy.test_k8s import gateway_config, validated_config

FIXTURES = REPO / "tests" / "fixtures" / "strimzi"
CONFIG_ARG = "deploy/k8s/base/config.yaml"


def strict(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` wherever it lists ``properties`` and
    does not keep unknown fields (as the API server prunes them; kubernetes-validate's
    --strict does the same for built-in kinds)."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if "properties" in out and not out.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", False)
    return out


def validator(kind: str) -> jsonschema.Draft7Validator:
    schema = json.loads((FIXTURES / f"{kind.lower()}-v1.json").read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(strict(schema))


def strimzi_docs() -> list[Doc]:
    return [
        d
        for f in read_kustomization(K8S / "strimzi")["resources"]
        for d in read_docs(K8S / "strimzi" / f)
    ]


@pytest.fixture(scope="module")
def cfg() -> Config:
    return validated_config(gateway_config(build(K8S / "base")))


def test_every_strimzi_resource_validates_against_the_crd_schemas() -> None:
    docs = strimzi_docs()
    assert {d["kind"] for d in docs} == {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"}
    for doc in docs:
        assert doc["apiVersion"] == strimzi.API_VERSION
        errors = [
            f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator(doc["kind"]).iter_errors(doc)
        ]
        assert not errors, f"{doc['kind']}/{doc['metadata']['name']}: {errors}"
        assert strimzi.k8s_name(doc["metadata"]["name"]) == doc["metadata"]["name"]


@pytest.mark.parametrize(
    ("kind", "mutate"),
    [
        ("KafkaUser", lambda d: d["spec"]["authentication"].update(type="scram-sha-256")),
        ("KafkaUser", lambda d: d["spec"]["authorization"]["acls"][0].update(operation="Read")),
        ("KafkaTopic", lambda d: d["spec"].update(partition=3)),
        ("Kafka", lambda d: d["spec"]["kafka"]["listeners"][0].update(name="TLS-listener")),
    ],
)
def test_the_schemas_refuse_what_strimzi_would(kind: str, mutate: Any) -> None:
    doc = copy.deepcopy(next(d for d in strimzi_docs() if d["kind"] == kind))
    assert validator(kind).is_valid(doc)
    mutate(doc)
    assert not validator(kind).is_valid(doc)


def test_the_generated_files_are_fresh(cfg: Config) -> None:
    for name, text in strimzi.files(cfg, strimzi.DEFAULT_CLUSTER, CONFIG_ARG).items():
        committed = (K8S / "strimzi" / name).read_text(encoding="utf-8")
        assert committed == text, (
            f"deploy/k8s/strimzi/{name} is stale: python -m gateway.transport.strimzi "
            f"--config {CONFIG_ARG} --out deploy/k8s/strimzi"
        )


def test_the_topics_are_the_plans(cfg: Config) -> None:
    partitions, configs = topic_plan(cfg)
    topics = {
        d["spec"].get("topicName", d["metadata"]["name"]): d["spec"]
        for d in strimzi.kafka_topics(cfg, "a6gw")
    }
    assert set(topics) == set(partitions)
    n = cfg.limits.max_message_bytes
    inputs = set(cfg.input_topics())
    assert inputs and inputs <= set(topics)
    for name, spec in topics.items():
        assert spec["partitions"] == partitions[name], name
        assert spec["replicas"] == cfg.kafka.replication, name
        assert spec["config"] == configs[name], name
        config = spec["config"]
        if name in inputs:
            assert config["message.timestamp.type"] == "LogAppendTime", name
            assert config["retention.ms"] == "-1", name
            assert config["max.message.bytes"] == str(record_limit(n, WIRE)), name
        else:
            factor = REQUOTED if name.endswith("-changelog") else QUOTED
            assert config["max.message.bytes"] == str(record_limit(n, factor)), name
    assert topics[AUDIT_TOPIC]["partitions"] == 1
    assert topics[AUDIT_TOPIC]["config"]["retention.ms"] == "-1"
    assert topics[LEDGER_TOPIC]["partitions"] == cfg.kafka.partitions
    decisions = changelog_topic(cfg.gateway.id, "decisions")
    assert topics[decisions]["config"]["cleanup.policy"] == "compact"


def test_the_users_grant_the_principal_table_and_nothing_else(cfg: Config) -> None:
    users = strimzi.kafka_users(cfg, "a6gw")
    table = principal_table(cfg)
    by_name = {strimzi.k8s_name(g.principal): g.principal for g in table}
    patterns = {"literal": "literal", "prefix": "prefixed"}
    granted = set()
    for user in users:
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["spec"]["authorization"]["type"] == "simple"
        who = by_name[user["metadata"]["name"]]
        for acl in user["spec"]["authorization"]["acls"]:
            res = acl["resource"]
            assert acl["host"] == "*" and "type" not in acl  # allow is the default
            for op in acl["operations"]:
                granted.add(
                    Grant(who, res["type"], res["name"], op.upper(), patterns[res["patternType"]])
                )
    assert granted == set(table)
    assert "registry-jpn01" in {u["metadata"]["name"] for u in users}


def test_the_worker_may_use_its_changelogs_by_prefix(cfg: Config) -> None:
    (worker,) = [
        u for u in strimzi.kafka_users(cfg, "a6gw") if u["metadata"]["name"] == "a6gw-worker"
    ]
    acls = worker["spec"]["authorization"]["acls"]
    prefixed = [a for a in acls if a["resource"]["patternType"] == "prefix"]
    assert prefixed == [
        {
            "resource": {"type": "topic", "name": "a6gw-", "patternType": "prefix"},
            "operations": ["Read", "Write"],
            "host": "*",
        }
    ]


def test_names_kubernetes_cannot_take_are_refused() -> None:
    assert strimzi.k8s_name(input_topic("JPN01")) == input_topic("jpn01")
    assert strimzi.k8s_name("a6gw-parked_x") == "a6gw-parked-x"
    with pytest.raises(ConfigError):
        strimzi.k8s_name(input_topic("JPN01/x"))
    upper, lower = input_topic("AB01"), input_topic("ab01")
    with pytest.raises(ConfigError, match="one Kubernetes name"):
        strimzi._unique({upper: lower, lower: lower}, "topics")  # noqa: SLF001


def _write_config(cfg: Config, folder: Path) -> Path:
    path = folder / "config.yaml"
    data = cfg.model_dump(mode="json", exclude_defaults=True)
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_command_writes_then_checks_its_files(
    cfg: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(cfg, tmp_path)
    out = tmp_path / "strimzi"
    assert strimzi.main(["--config", str(config), "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [strimzi.TOPICS_FILE, strimzi.USERS_FILE]
    assert strimzi.main(["--config", str(config), "--check", str(out)]) == 0
    (out / strimzi.USERS_FILE).write_text("# edited by hand\n", encoding="utf-8")
    assert strimzi.main(["--config", str(config), "--check", str(out)]) == 1
    assert "users.yaml is stale" in capsys.readouterr().err


def test_the_command_names_a_broken_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("parties: []\n", encoding="utf-8")
    assert strimzi.main(["--config", str(config), "--check", str(tmp_path)]) == 2
    assert "A6-CFG-004" in capsys.readouterr().err


def test_the_fixtures_say_where_they_come_from() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    for kind in ("kafka", "kafkanodepool", "kafkatopic", "kafkauser"):
        assert f"{kind}-v1.json" in readme
    assert "1.2.0" in readme
