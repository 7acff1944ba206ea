"""The AsyncAPI document (gateway.transport.asyncapi): it names every topic of the topic plan
under a parameterised address, its bindings are the plan's settings, every message has a
payload whose published schemas exist, and the checked-in files are fresh. The reference
parser's verdict is tests/integration/test_asyncapi_parser.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.config import Config, load_config
from gateway.core.topics import (
    AUDIT_TOPIC,
    CHECKPOINT_TOPIC,
    LEDGER_TOPIC,
    changelog_topic,
    input_topic,
    inventory_input_topic,
    inventory_output_topic,
    output_topic,
    parked_table,
    retry_topic,
)
from gateway.demo.world import write_world
from gateway.transport import asyncapi, asyncapi_messages
from gateway.transport.acls import principal_table
from gateway.transport.topic_plan import topic_plan
from schemas.events import EVENT_TYPES

SCHEMA_DIR = asyncapi.DOCUMENT.parent


def wide_config() -> Config:
    """Three Parties, Kafka and HTTPS registries, a gateway id of its own: not the example
    config the document was derived from."""
    return Config.model_validate(
        {
            "gateway": {"id": "gw-east-2"},
            "kafka": {"partitions": 6},
            "limits": {"max_message_bytes": 2 * 1024 * 1024},
            "parties": [{"code": c, "name": c} for c in ("JPN", "MNG", "CHE")],
            "registries": [
                {"id": "JPN01", "party": "JPN"},
                {"id": "MNG01", "party": "MNG"},
                {"id": "MNG02", "party": "MNG", "transport": "https",
                 "endpoint": "https://mng.example/a6"},
                {"id": "CHE07", "party": "CHE", "transport": "https",
                 "endpoint": "https://che.example/a6"},
            ],
        }
    )  # fmt: skip


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return asyncapi.document()


def test_every_topic_of_the_plan_has_exactly_one_channel(doc: dict[str, Any]) -> None:
    cfg = wide_config()
    planned, _ = topic_plan(cfg)
    chans = asyncapi.channels()
    used = {asyncapi.channel_of(name, chans).id for name in planned}
    assert {c.id for c in chans} == used  # and no channel stands for no topic
    assert set(doc["channels"]) == used
    # every topic a grant names (literally) is planned, so the principals' view agrees
    granted = {g.name for g in principal_table(cfg) if g.resource == "topic"}
    assert {n for n in granted if not n.endswith("-")} <= set(planned)


def test_the_demo_worlds_topics_have_channels(tmp_path: Path) -> None:
    """The demo's own config (its registries, Parties and gateway id) maps onto the
    document's channels, every kind of topic of the plan included."""
    world = write_world(tmp_path, bootstrap="127.0.0.1:1")
    planned, _ = topic_plan(load_config(world.config_path).config)
    chans = asyncapi.channels()
    assert len({asyncapi.channel_of(name, chans).id for name in planned}) >= 8


def test_channels_of_concrete_names() -> None:
    chans = asyncapi.channels()
    names = {
        input_topic("JPN01"): input_topic("{registryId}"),
        inventory_input_topic("JPN"): inventory_input_topic("{party}"),
        inventory_output_topic("JPN"): inventory_output_topic("{party}"),
        output_topic("JPN01"): output_topic("{registryId}"),
        retry_topic("CHE07"): retry_topic("{registryId}"),
        AUDIT_TOPIC: AUDIT_TOPIC,
        changelog_topic("gw-east-2", "cursors"): "{gatewayId}-{table}-changelog",
        changelog_topic("gw-east-2", parked_table("CHE07")): (
            "{gatewayId}-parked-{registryId}-changelog"
        ),
    }
    assert {n: asyncapi.channel_of(n, chans).address for n in names} == names


@pytest.mark.parametrize(
    "name",
    [input_topic("jpn01"), input_topic("JPN1"), LEDGER_TOPIC + ".x", "x-other-changelog"],
)
def test_a_name_no_address_stands_for_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="matches 0 channels"):
        asyncapi.channel_of(name, asyncapi.channels())


def test_address_pattern_escapes_the_literal_parts() -> None:
    pattern = asyncapi.address_pattern(input_topic("{registryId}"))
    assert pattern.fullmatch(input_topic("JPN01"))
    assert not pattern.fullmatch(input_topic("JPN01").replace(".", "x"))


def test_bindings_are_the_plans_settings(doc: dict[str, Any]) -> None:
    """Topic configs equal the plan's for the example config; partitions appear only where
    the plan fixes them whatever kafka.partitions is (the audit log and its checkpoints)."""
    planned, configs = topic_plan(asyncapi.example_config())
    chans = asyncapi.channels()
    for name in planned:
        binding = doc["channels"][asyncapi.channel_of(name, chans).id]["bindings"]["kafka"]
        assert binding["topicConfiguration"] == asyncapi._typed(configs.get(name, {}))
        assert binding["bindingVersion"] == "0.5.0"
    fixed = {
        c["address"]: c["bindings"]["kafka"].get("partitions") for c in doc["channels"].values()
    }
    assert {a: n for a, n in fixed.items() if n is not None} == {
        AUDIT_TOPIC: 1,
        CHECKPOINT_TOPIC: 1,
    }
    audit = doc["channels"]["auditLog"]["bindings"]["kafka"]["topicConfiguration"]
    assert audit["message.timestamp.type"] == "LogAppendTime"
    assert audit["retention.ms"] == -1


def test_typed_configs() -> None:
    got = asyncapi._typed(
        {"retention.ms": "-1", "cleanup.policy": "compact,delete", "x.type": "LogAppendTime"}
    )
    assert got == {
        "cleanup.policy": ["compact", "delete"],
        "retention.ms": -1,
        "x.type": "LogAppendTime",
    }


def test_a_channel_whose_topics_disagree_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two topics of one address with different settings cannot share a binding."""
    real = topic_plan

    def uneven(cfg: Config) -> tuple[dict[str, int], dict[str, dict[str, str]]]:
        topics, configs = real(cfg)
        name = input_topic("XBB01")
        configs[name] = {**configs[name], "retention.ms": "1000"}
        return topics, configs

    monkeypatch.setattr(asyncapi, "topic_plan", uneven)
    with pytest.raises(ValueError, match=r"a6\.in\.\{registryId\}"):
        asyncapi.channel_bindings(asyncapi.channels())


def test_parameters_are_declared_on_each_channel(doc: dict[str, Any]) -> None:
    for chan in asyncapi.channels():
        declared = doc["channels"][chan.id].get("parameters", {})
        assert sorted(declared) == sorted(chan.parameters)
    assert asyncapi.channels()[0].parameters == ["registryId"]


def test_every_event_type_is_a_message_and_every_payload_file_exists(doc: dict[str, Any]) -> None:
    on_channels = {m for c in doc["channels"].values() for m in c["messages"]}
    events = {asyncapi_messages.message_id(t) for t in EVENT_TYPES}
    # the gateway's own transfer.timeout goes to the ledger stage inside a ledger record
    assert events - on_channels == {"transferTimeout"}
    refs = [r for r in _refs(doc["components"]) if not r.startswith("#")]
    assert refs
    for ref in refs:
        assert (SCHEMA_DIR / ref).resolve().is_file(), ref
    for ref in _refs(doc["channels"]) + _refs(doc["operations"]):
        assert _pointer(doc, ref) is not None, ref


def test_operations_take_the_gateways_side(doc: dict[str, Any]) -> None:
    ops = doc["operations"]
    assert ops["receiveRegistryInput"]["action"] == "receive"
    assert ops["sendRegistryOutput"]["action"] == "send"
    assert "registry" in ops["sendRegistryOutput"]["description"]
    group = ops["receiveRegistryInput"]["bindings"]["kafka"]["groupId"]
    assert "gateway.id" in group["description"]
    # registries never write their output topic, nor the gateway their input topic
    assert "sendRegistryInput" not in ops and "receiveRegistryOutput" not in ops
    # checkpoints are read by assignment, with no group
    assert "bindings" not in ops["receiveCheckpoints"]


def test_cloudevents_channels_declare_structured_mode_and_the_others_do_not(
    doc: dict[str, Any],
) -> None:
    def headers(channel: str) -> dict[str, Any]:
        (msg, *_) = doc["channels"][channel]["messages"].values()
        return dict(msg.get("headers", {}))

    structured = "application/cloudevents+json; charset=UTF-8"
    for channel in ("registryOutput", "inventoryOutput", "partnerRetry"):  # the gateway's
        assert headers(channel)["properties"]["content-type"]["const"] == structured
        assert "content-type" in headers(channel)["required"]
    for channel in ("registryInput", "inventoryInput", "discrepancyCommands"):  # optional
        assert headers(channel)["properties"]["content-type"]["const"] == structured
        assert "content-type" not in headers(channel).get("required", [])
    assert headers("partnerRetry")["required"] == ["a6-mac", "content-type"]
    for channel in ("ledger", "auditLog", "deadLetters", "discrepancies", "checkpoints"):
        assert "content-type" not in headers(channel).get("properties", {})


def test_message_ids() -> None:
    assert asyncapi_messages.message_id("a6gw.transfer.answer.v1") == "transferAnswer"
    assert asyncapi_messages.message_id("a6gw.jcm.issuance.decided.v1") == "jcmIssuanceDecided"
    # two majors of one type are two messages: what the gateway writes, what older records hold
    assert asyncapi_messages.message_id("a6gw.decision.v1") == "decision"
    assert asyncapi_messages.message_id("a6gw.decision.v2") == "decisionV2"


def test_event_payload_fixes_the_type_and_refers_to_the_published_schemas() -> None:
    payload = asyncapi_messages.event_payload("a6gw.transfer.v1")
    assert payload["allOf"][0] == {"$ref": "../json/envelope.schema.json"}
    props = payload["allOf"][1]["properties"]
    assert props["type"] == {"const": "a6gw.transfer.v1"}
    assert props["data"] == {"$ref": "../json/a6gw.transfer.v1.schema.json"}


def test_files_are_fresh() -> None:
    for path, text in asyncapi.render().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"run python -m gateway.transport.asyncapi ({path})"
        )


def test_check_reports_a_stale_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(asyncapi, "REPO", tmp_path)
    monkeypatch.setattr(asyncapi, "DOCUMENT", tmp_path / "schemas" / "asyncapi" / "a.yaml")
    monkeypatch.setattr(asyncapi, "PAGE", tmp_path / "docs" / "asyncapi.md")
    assert asyncapi.main(["--check"]) == 1
    assert "stale: docs/asyncapi.md" in capsys.readouterr().err
    assert asyncapi.main([]) == 0
    assert asyncapi.main(["--check"]) == 0
    (tmp_path / "docs" / "asyncapi.md").write_text("edited\n", encoding="utf-8")
    assert asyncapi.main(["--check"]) == 1


def test_the_page_lists_every_channel_and_message(doc: dict[str, Any]) -> None:
    page = asyncapi.PAGE.read_text(encoding="utf-8")
    for chan in doc["channels"].values():
        assert f"| `{chan['address']}` |" in page
        for mid in chan["messages"]:
            assert f"### {mid}\n" in page
    assert "inline in the document (no published schema yet)" in page  # dead letters


def test_the_readme_links_the_page() -> None:
    readme = (asyncapi.REPO / "README.md").read_text(encoding="utf-8")
    assert "(docs/asyncapi.md)" in readme
    assert "(schemas/asyncapi/a6gw.asyncapi.yaml)" in readme


def test_the_document_is_yaml_without_aliases() -> None:
    text = asyncapi.DOCUMENT.read_text(encoding="utf-8")
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == json.loads(json.dumps(asyncapi.document()))


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _pointer(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node
