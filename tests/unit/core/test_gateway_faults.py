"""Issue 14 #1: hostile bytes get their coded answer; a gateway fault is a coded dead letter."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.config import load_config
from gateway.core import decision as dec
from gateway.core.ingest import RawInput
from gateway.core.steps import ingest_step
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC, LEDGER_TOPIC, input_topic
from gateway.demo.world import write_world
from gateway.worker.context import WorkerContext

BRACKETS = b"[" * 100_000 + b"]" * 100_000
BIG_INT = b"1" * 5_000


def deep_envelope(depth: int = 1_000) -> bytes:
    """An envelope (unsigned: nothing is trusted before the signature) whose data nests."""
    env = {
        "specversion": "1.0",
        "id": "deep-1",
        "source": "JPN01",
        "type": "a6gw.issuance.v1",
        "time": "2026-01-01T00:00:00Z",
        "datacontenttype": "application/json",
        "a6keyid": "JPN01-2026",
        "a6sig": "AAAA",
        "data": "HOLE",
    }
    text = json.dumps(env).replace('"HOLE"', "[" * depth + "]" * depth)
    return text.encode()


def ingest(tmp_path: Path, value: bytes, headers: tuple[tuple[str, bytes], ...] = ()) -> Any:
    world = write_world(tmp_path, bootstrap="127.0.0.1:1")
    lc = load_config(world.config_path)
    ctx = WorkerContext.load(lc)
    owner = lc.config.input_topics()[input_topic("JPN01")]
    raw = RawInput(input_topic("JPN01"), 0, 7, b"k", value, int(time.time() * 1000), 1, headers)
    return ingest_step(
        raw, owner, ctx.trust, ctx.public_keys, ctx.joint_committees(owner), {}, ctx.signer,
        max_bytes=lc.config.limits.max_message_bytes,
    )  # fmt: skip


@pytest.mark.parametrize(
    "value", [BRACKETS, BIG_INT, deep_envelope()], ids=["brackets", "big-int", "deep-data"]
)
def test_hostile_json_is_an_ordinary_msg_001_dead_letter(tmp_path: Path, value: bytes) -> None:
    result = ingest(tmp_path, value)
    topics = [o.topic for o in result.outputs]
    assert topics == [DLQ_TOPIC, AUDIT_TOPIC]
    letter = json.loads(result.outputs[0].value)
    entry = json.loads(result.outputs[1].value)
    assert letter["reason_code"] == "MSG-001"
    assert entry["outcome"] == "dead-lettered"
    assert entry["entry_id"] == dec.raw_entry_id(input_topic("JPN01"), 0, 7)


def test_limits_leave_strings_and_ordinary_envelopes_alone() -> None:
    from gateway.core import jsonlimits

    inside = b'{"a": "' + b"[" * 1000 + b"1" * 5000 + b'"}'
    assert jsonlimits.loads(inside) == {"a": "[" * 1000 + "1" * 5000}
    escaped = b'{"a": "\\"' + b"[" * 40 + b'\\\\", "b": 1}'  # brackets after an escaped quote
    assert jsonlimits.loads(escaped)["b"] == 1
    assert jsonlimits.nesting_depth(b"[[[]]]") <= 3
    assert jsonlimits.nesting_depth(b"[" * 40 + b"]" * 40) > jsonlimits.MAX_DEPTH


def test_a_record_of_the_audit_topic_that_is_no_entry_is_replaced_by_its_dead_letter() -> None:
    from gateway.core.faults import audit_item

    good = json.dumps({"entry_id": "ev-1", "outcome": "accepted"}).encode()
    item, letters = audit_item(RawInput(AUDIT_TOPIC, 0, 3, b"ev-1", good, 0))
    assert item == ("ev-1", good) and letters == []
    for key, value in [(b"\xff", good), (b"ev-1", b"{}\n"), (b"ev-1", BRACKETS), (b"x", good)]:
        item, letters = audit_item(RawInput(AUDIT_TOPIC, 0, 4, key, value, 0))
        assert item[0] == dec.raw_entry_id(AUDIT_TOPIC, 0, 4)
        assert json.loads(item[1])["results"][0]["code"] == "MSG-001"
        assert [o.topic for o in letters] == [DLQ_TOPIC]


def test_a_replayed_input_names_the_dead_letter_it_replays(tmp_path: Path) -> None:
    where = ("a6gw-replay-of", b"a6.in.JPN01/2/41")
    assert dec.replay_of([where]) == {
        "topic": input_topic("JPN01"),
        "partition": 2,
        "offset": 41,
        "audit_entry_id": dec.raw_entry_id(input_topic("JPN01"), 2, 41),
    }
    assert dec.replay_of([("a6gw-replay-of", b"x/1/" + b"9" * 5000)]) is None
    value = base64.b64decode(b"e30=")  # {} : dead-lettered; the header changes nothing
    assert json.loads(ingest(tmp_path, value, (where,)).outputs[0].value)["reason_code"] == (
        "MSG-001"
    )


def test_a_gateway_fault_names_its_step_and_exception_and_keeps_the_bytes() -> None:
    from gateway.core.faults import fault_finding, fault_outputs, quarantine_finding

    raw = RawInput(LEDGER_TOPIC, 3, 9, b"CA0001", b"x" * 100, 1_700_000_000_000, 1)
    finding = fault_finding("ledger", KeyError("owner"))
    assert (finding.code, finding.message) == (
        "GWF-001",
        "gateway fault in ledger: KeyError: 'owner'",
    )
    assert quarantine_finding("ingest", 3).code == "GWF-002"
    dlq, audit = fault_outputs(raw, finding, step="ledger", exception="KeyError", keep_bytes=10)
    letter, entry = json.loads(dlq.value), json.loads(audit.value)
    assert (dlq.key, audit.key) == (entry["entry_id"], entry["entry_id"])
    assert base64.b64decode(letter["value_b64"]) == b"x" * 10 and letter["truncated"]
    assert letter["fault"] == {"step": "ledger", "exception": "KeyError"}
    assert entry["input"]["topic"] == LEDGER_TOPIC and entry["results"][0]["code"] == "GWF-001"
