"""The worker's seal: MAC headers on writes, the refusal of unsealed internal records, and
the table codec (the real faust codec chain, no broker)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from gateway.alerts import counts
from gateway.core import mac
from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.core.topics import (
    AUDIT_TOPIC,
    DLQ_TOPIC,
    LEDGER_TOPIC,
    input_topic,
    output_topic,
    retry_topic,
)
from gateway.errors import WorkerError
from gateway.worker.sealed import Seal

SECRET = bytes(range(1, 33))


def _rec(topic: str, headers: tuple[tuple[str, bytes], ...] = ()) -> RawInput:
    return RawInput(topic, 0, 5, b"k", b'{"a":1}', 1_800_000_000_000, 0, headers)


def test_sealed_records_are_handled_others_dead_lettered(caplog: pytest.LogCaptureFixture) -> None:
    seal = Seal(SECRET, skew_s=300, clock=lambda: 1_800_000_000.0)
    handled: list[RawInput] = []
    sent: list[Output] = []

    async def handle(rec: RawInput) -> None:
        handled.append(rec)

    async def send_all(outputs: list[Output]) -> None:
        sent.extend(outputs)

    checked = seal.checked(handle, send_all)

    async def run(rec: RawInput) -> None:
        await checked(rec)

    good = _rec(LEDGER_TOPIC, tuple(seal.headers(LEDGER_TOPIC, b"k", b'{"a":1}')))
    before = counts()["A6-ALERT-003"]
    with caplog.at_level(logging.ERROR, logger="a6gw.alert"):
        for rec in (
            good,
            _rec(LEDGER_TOPIC),
            _rec(input_topic("MNG01")),
            _rec(retry_topic("PRT01")),
        ):
            asyncio.run(run(rec))
    assert [r.topic for r in handled] == [
        LEDGER_TOPIC,
        input_topic("MNG01"),
    ]  # input topics: no MAC
    assert [o.topic for o in sent] == [DLQ_TOPIC, AUDIT_TOPIC] * 2
    assert json.loads(sent[1].value)["results"][0]["code"] == "MSG-010"
    assert counts()["A6-ALERT-003"] == before + 2
    assert "ALERT A6-ALERT-003" in caplog.text


def test_the_table_codec_seals_json_values() -> None:
    codec = Seal(SECRET, skew_s=300).table_codec()
    stored = codec.dumps({"sha256": "x", "entry": None})
    assert mac.open_value(SECRET, stored) == b'{"sha256":"x","entry":null}'
    assert codec.loads(stored) == {"sha256": "x", "entry": None}
    with pytest.raises(WorkerError) as info:
        codec.loads(b'{"sha256": "x", "entry": null}')  # written by someone else
    assert info.value.code == "WORKER-MAC"
    with pytest.raises(WorkerError):
        Seal(bytes(32), skew_s=300).table_codec().loads(stored)  # another key


def test_a_sealed_table_recovers_through_the_sealed_codec() -> None:
    """The changelog records read at recovery are decoded by the changelog topic: it must
    strip the MAC too (a topic built with plain JSON failed on the MAC's bytes)."""
    from gateway.transport.clients import KafkaClients

    kafka = KafkaClients("127.0.0.1:1", None, security_protocol="PLAINTEXT")
    app = kafka.faust_app("a6gw-sealed-test", store="memory://")
    seal = Seal(bytes(range(32)), skew_s=60)
    table = seal.seal_table(app.Table("cursors", default=None, partitions=1))
    sealed = mac.seal_value(seal.secret, b'{"a": 1}')
    topic: Any = table.changelog_topic  # faust's TopicT does not declare its serializers
    assert app.serializers.loads_value(None, sealed, serializer=topic.value_serializer) == {"a": 1}
    with pytest.raises(Exception, match="WORKER-MAC"):  # faust wraps it as ValueDecodeError
        app.serializers.loads_value(None, b'{"a": 1}', serializer=topic.value_serializer)


def test_envelopes_written_carry_content_type_and_their_mac_still_verifies() -> None:
    seal = Seal(SECRET, skew_s=300)
    value = b'{"specversion":"1.0"}'
    for topic in (output_topic("MNG01"), retry_topic("MNG01")):
        headers = seal.headers(topic, b"k", value)
        assert [n for n, _ in headers] == [mac.HEADER, "content-type"]
        assert headers[1][1] == b"application/cloudevents+json; charset=UTF-8"
        assert mac.problem(SECRET, topic, b"k", value, headers) is None  # headers not MAC'd
    assert [n for n, _ in seal.headers(AUDIT_TOPIC, b"k", value)] == [mac.HEADER]
