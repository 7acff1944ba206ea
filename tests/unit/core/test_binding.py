"""The CloudEvents Kafka protocol binding: which records carry ``content-type``, and a
binary-mode input refused as MSG-011."""

from __future__ import annotations

import base64
import json

import pytest

from gateway.core import binding
from gateway.core.topics import (
    AUDIT_TOPIC,
    CHECKPOINT_TOPIC,
    COMMANDS_TOPIC,
    DLQ_TOPIC,
    FINDINGS_TOPIC,
    LEDGER_TOPIC,
    changelog_topic,
    input_topic,
    inventory_input_topic,
    inventory_output_topic,
    output_topic,
    retry_topic,
)
from tests.unit.core.a6kit import Kit, Pipe
from tests.unit.core.arrival import AUTH

MNG = input_topic("MNG01")
CE_HEADERS = (("ce_specversion", b"1.0"), ("ce_type", b"a6gw.authorization.v1"))


@pytest.fixture()
def pipe(kit: Kit) -> Pipe:
    return Pipe(kit)


@pytest.mark.parametrize(
    "topic",
    [
        output_topic("MNG01"),
        inventory_output_topic("JPN"),
        retry_topic("MNG01"),
        input_topic("MNG01"),
        inventory_input_topic("JPN"),
        COMMANDS_TOPIC,
    ],
)
def test_records_that_are_envelopes_say_so_in_structured_mode(topic: str) -> None:
    assert binding.headers_for(topic) == (
        ("content-type", b"application/cloudevents+json; charset=UTF-8"),
    )
    assert binding.headers_for(topic) is binding.STRUCTURED_HEADERS  # one constant, no copy


@pytest.mark.parametrize(
    "topic",
    [
        LEDGER_TOPIC,
        AUDIT_TOPIC,
        FINDINGS_TOPIC,
        DLQ_TOPIC,
        CHECKPOINT_TOPIC,
        changelog_topic("a6gw", "inputs"),
    ],
)
def test_records_that_are_no_cloudevent_carry_no_content_type(topic: str) -> None:
    assert binding.headers_for(topic) == ()


def test_binary_mode_is_told_by_any_ce_header_in_any_case() -> None:
    assert binding.binary_mode(CE_HEADERS)
    assert binding.binary_mode([("CE_ID", b"x")])
    assert not binding.binary_mode([])
    assert not binding.binary_mode([("content-type", binding.STRUCTURED), ("a6-mac", b"m")])
    assert not binding.binary_mode([("celsius", b"1")])  # a prefix "ce", not "ce_"


def test_a_binary_mode_input_is_dead_lettered_as_msg011(pipe: Pipe) -> None:
    # binary mode: the attributes in headers, the bare data as the value
    value = json.dumps(AUTH).encode()
    sent = pipe.publish(MNG, b"ev-1", value, headers=CE_HEADERS, offset=3)
    assert sorted(t for t, _, _ in sent) == sorted([DLQ_TOPIC, AUDIT_TOPIC])
    (dlq,) = [json.loads(v) for t, _, v in sent if t == DLQ_TOPIC]
    (entry,) = [json.loads(v) for t, _, v in sent if t == AUDIT_TOPIC]
    assert dlq["reason_code"] == "MSG-011"
    assert "binary content mode" in dlq["reason"]
    assert entry["outcome"] == "dead-lettered" and entry["results"][0]["code"] == "MSG-011"
    assert base64.b64decode(dlq["value_b64"]) == value
    # the same bytes without ce_ headers are an ordinary malformed envelope
    plain = pipe.publish(MNG, b"ev-1", value, offset=4)
    assert [json.loads(v)["reason_code"] for t, _, v in plain if t == DLQ_TOPIC] == ["MSG-001"]


def test_a_size_refusal_stays_msg008_with_ce_headers(pipe: Pipe) -> None:
    big = b" " * (pipe.kit.max_bytes + 1)
    sent = pipe.publish(MNG, b"ev-1", big, headers=CE_HEADERS)
    assert [json.loads(v)["reason_code"] for t, _, v in sent if t == DLQ_TOPIC] == ["MSG-008"]


def test_an_envelope_with_stray_ce_headers_is_taken_as_structured(pipe: Pipe) -> None:
    value = pipe.kit.event_bytes("MNG", "authorization", AUTH)
    sent = pipe.publish(MNG, b"ev-1", value, headers=CE_HEADERS)
    # authenticated, forwarded and decided: a decision and its entry, no dead letter
    assert [t for t, _, _ in sent] == [output_topic("MNG01"), AUDIT_TOPIC]
    assert json.loads(sent[1][2])["outcome"] != "dead-lettered"
