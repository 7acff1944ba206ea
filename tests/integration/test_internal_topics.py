"""Internal topics take only records a gateway process wrote; an input's time is its arrival.

On the real broker with a running worker: a record written by anyone else to ``a6.ledger`` or
``a6.audit.log`` (no valid MAC header) is dead-lettered (MSG-010), never decided and never
appended; a back-dated proposal is stale (MSG-005) whether its topic stamps LogAppendTime or
its producer stamped a back-dated CreateTime. The dead letters ``a6.dlq`` then holds fit
their published schema.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.bundle import verify_bundle
from gateway.audit.export import export_bundle
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision import event_entry_id, raw_entry_id
from gateway.core.decision_time import iso_ms
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC, LEDGER_TOPIC, input_topic
from gateway.demo.stack import Gateway, start_gateway
from gateway.demo.world import signed_event
from gateway.transport import LocalBroker
from gateway.transport.admin import alter_topic_configs
from gateway.transport.clients import KafkaClients, clients_for
from gateway.transport.topic_plan import topic_plan
from gateway.worker.sequencing import request_checkpoint
from tests import records_check

pytestmark = pytest.mark.kafka

STAMPED = input_topic("MNG01")  # as the topic plan makes every input topic: LogAppendTime
PRODUCER_TIME = input_topic("JPN01")  # set back to the producer's CreateTime here (an old topic)
PORT = 19892  # this module's own broker (and controller on PORT + 1)


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway on a broker of its own: its topics, group and keys are its own."""
    root = tmp_path_factory.mktemp("internal")
    broker = LocalBroker(root / "kafka", port=PORT, verbose=False)
    broker.wipe()
    broker.start(timeout=120)

    try:
        gateway = start_gateway(root / "gw", broker.clients())
        settings = topic_plan(gateway.lc.config)[1][PRODUCER_TIME]
        settings = settings | {"message.timestamp.type": "CreateTime"}
        asyncio.run(alter_topic_configs(gateway.admin, {PRODUCER_TIME: settings}))
        try:
            yield gateway
        finally:
            gateway.worker.stop()
            print(gateway.worker.log_tail(15))
    finally:
        broker.stop()


async def _send(
    kafka: KafkaClients, topic: str, key: bytes, value: bytes, timestamp_ms: int | None = None
) -> tuple[int, int, int]:
    """Write one record with no MAC header, as anyone with write access could (here the
    broker's admin); its position and its timestamp type."""
    producer = kafka.producer(acks="all")
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, value, key=key, timestamp_ms=timestamp_ms)
    finally:
        await producer.stop()
    return meta.partition, meta.offset, meta.timestamp_type


def _wait(gw: Gateway, *entry_ids: str, timeout: float = 60.0) -> dict[str, Any]:
    """The first of ``entry_ids`` to reach the audit store."""
    deadline = time.monotonic() + timeout
    while True:
        for eid in entry_ids:
            if (index := gw.store.index_of(eid)) is not None:
                return dict(json.loads(gw.store.entry(index)))
        gw.worker.check_alive()
        assert time.monotonic() < deadline, f"none of {entry_ids} was logged"
        time.sleep(0.2)


def _issuance(gw: Gateway, event_id: str) -> bytes:
    """What stage A would forward for an MNG01 issuance: but nobody authenticated it."""
    world = gw.world
    data = {
        "transaction_id": "MNG01-ISS-FORGED",
        "ca_id": "CA0001",
        "registry_id": "MNG01",
        "decision_id": "JC-MNG-2025-001",
        "vintage": 2025,
        "unit_type": "JCM",
        "blocks": [{"serial_start": "900001", "serial_end": "999999", "account_id": "MN-GOV-1"}],
    }
    value = signed_event(
        world.keys["MNG01"],
        key_id=world.key_id("MNG01"),
        source="MNG01",
        name="issuance",
        event_id=event_id,
        data=data,
    )
    record = {
        "value": value.decode(),
        "sha256": sha256_hex(value),
        "signer": "MNG01",
        "role": "registry",
        "owner": {"registry": "MNG01", "party": "MNG"},
        "timestamp_ms": int(time.time() * 1000),
    }
    return canonical_bytes(record)


def test_an_issuance_written_to_the_ledger_topic_is_dead_lettered(gw: Gateway) -> None:
    record = _issuance(gw, "forged-iss-1")
    partition, offset, _ = asyncio.run(_send(gw.admin, LEDGER_TOPIC, b"CA0001", record))
    dead_id = raw_entry_id(LEDGER_TOPIC, partition, offset)
    decided_id = event_entry_id("MNG01", "forged-iss-1", json.loads(record)["sha256"])
    entry = _wait(gw, dead_id, decided_id)
    assert entry["entry_id"] == dead_id, f"decided: {entry['outcome']}"
    assert (entry["outcome"], entry["results"][0]["code"]) == ("dead-lettered", "MSG-010")
    assert gw.store.index_of(decided_id) is None
    assert gw.worker.alive()
    # the worker's line for the dead letter (docs/logging.md)
    line = f"dead-letter dead-lettered entry_id={dead_id} entry_type=dead-letter"
    assert line in gw.worker.log_path.read_text(errors="replace")


def test_a_record_written_to_the_audit_log_is_not_appended(gw: Gateway, tmp_path: Path) -> None:
    forged = {
        "entry_version": 1,
        "entry_type": "decision",
        "entry_id": "ev-forged-audit-entry",
        "outcome": "accepted",
        "decided_at": iso_ms(int(time.time() * 1000)),
    }
    _, offset, _ = asyncio.run(
        _send(gw.admin, AUDIT_TOPIC, b"ev-forged-audit-entry", canonical_bytes(forged))
    )
    dead_id = raw_entry_id(AUDIT_TOPIC, 0, offset)
    entry = _wait(gw, dead_id, "ev-forged-audit-entry")
    assert entry["entry_id"] == dead_id
    assert (entry["outcome"], entry["results"][0]["code"]) == ("dead-lettered", "MSG-010")
    assert gw.store.index_of("ev-forged-audit-entry") is None
    line = f"dead-letter dead-lettered entry_id={dead_id} entry_type=dead-letter"
    assert f'{line} outcome=dead-lettered codes=["MSG-010"] step=sequencer topic={AUDIT_TOPIC}' in (
        gw.worker.log_path.read_text(errors="replace")
    )
    note = asyncio.run(
        request_checkpoint(
            clients_for(gw.lc, "checkpoint"), gw.lc.load_mac_key(), min_size=gw.store.size()
        )
    )
    key = gw.lc.load_log_key()
    export_bundle(tmp_path / "bundle", gw.store, note, [key.verifier()])
    lines = (tmp_path / "bundle" / "entries.ndjson").read_bytes()
    assert b"ev-forged-audit-entry" not in lines and dead_id.encode() in lines
    verify_bundle(tmp_path / "bundle", trusted_vkey=key.public_vkey())
    stamps = [json.loads(line)["logged_at"] for line in lines.split(b"\n") if line]
    assert stamps == sorted(stamps)


def _back_dated_transfer(gw: Gateway, event_id: str, when: datetime) -> bytes:
    world = gw.world
    signer = "MNG01" if event_id.startswith("mng") else "JPN01"
    data = {
        "transaction_id": f"{signer}-TX-{event_id}",
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "transferring": {"registry_id": signer, "account_id": "X-1"},
        "acquiring": {"registry_id": signer, "account_id": "X-2"},
        "blocks": [{"serial_start": "1", "serial_end": "10"}],
    }
    return signed_event(
        world.keys[signer],
        key_id=world.key_id(signer),
        source=signer,
        name="transfer",
        event_id=event_id,
        data=data,
        time=when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    )


@pytest.mark.parametrize(
    ("topic", "event_id", "ts_type"),
    [(STAMPED, "mng-back-dated", 1), (PRODUCER_TIME, "jpn-back-dated", 0)],
)
def test_a_back_dated_proposal_is_stale(
    gw: Gateway, topic: str, event_id: str, ts_type: int
) -> None:
    """Signed three days ago, published with a matching back-dated record timestamp."""
    when = datetime.now(UTC) - timedelta(days=3)
    value = _back_dated_transfer(gw, event_id, when)
    sent_at = time.time()
    back_ms = int(when.timestamp() * 1000)
    _, _, got_type = asyncio.run(_send(gw.admin, topic, event_id.encode(), value, back_ms))
    assert got_type == ts_type
    source = "MNG01" if topic == STAMPED else "JPN01"
    entry = _wait(gw, event_entry_id(source, event_id, sha256_hex(value)))
    assert (entry["outcome"], [r["code"] for r in entry["results"]]) == ("rejected", ["MSG-005"])
    decided = datetime.fromisoformat(entry["decided_at"].replace("Z", "+00:00")).timestamp()
    assert sent_at - 5 < decided < time.time() + 1  # the arrival, not the back-dated time


async def _dead_letters(kafka: KafkaClients, want: set[str], timeout: float = 30.0) -> list[bytes]:
    """Every record of ``a6.dlq`` from the beginning, once those keyed ``want`` are read."""
    consumer = kafka.consumer(DLQ_TOPIC, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    got: dict[str, bytes] = {}
    deadline = time.monotonic() + timeout
    try:
        while not want <= set(got) and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                got |= {(r.key or b"").decode(): r.value for r in records if r.value is not None}
    finally:
        await consumer.stop()
    return list(got.values())


def test_the_dead_letters_read_from_the_broker_fit_their_schema(gw: Gateway) -> None:
    """The internal topics' dead letters above, as ``a6.dlq`` holds them: each validates
    against ``dead-letter.schema.json`` and names where its input was read."""
    partition, offset, _ = asyncio.run(_send(gw.admin, LEDGER_TOPIC, b"k-schema", b"{"))
    dead_id = raw_entry_id(LEDGER_TOPIC, partition, offset)
    assert _wait(gw, dead_id)["entry_id"] == dead_id
    letters = [
        records_check.check_dead_letter(v) for v in asyncio.run(_dead_letters(gw.admin, {dead_id}))
    ]
    mine = next(x for x in letters if x["audit_entry_id"] == dead_id)
    assert (mine["topic"], mine["partition"], mine["offset"]) == (LEDGER_TOPIC, partition, offset)
    assert (mine["reason_code"], mine["key_b64"], mine["value_b64"]) == (
        "MSG-010",
        "ay1zY2hlbWE=",
        "ew==",
    )
