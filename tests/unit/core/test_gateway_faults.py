"""Issue 14 #1: hostile bytes get their coded answer; a gateway fault is a coded dead letter."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.config import load_config
from gateway.core import decision as dec
from gateway.core.ingest import RawInput
from gateway.core.steps import AUDIT_TOPIC, DLQ_TOPIC, ingest_step
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
    owner = lc.config.input_topics()["a6.in.JPN01"]
    raw = RawInput("a6.in.JPN01", 0, 7, b"k", value, int(time.time() * 1000), 1, headers)
    return ingest_step(
        raw, owner, ctx.trust, ctx.public_keys, ctx.joint_committees(owner), {}, ctx.signer,
        max_bytes=lc.config.limits.max_message_bytes,
    )  # fmt: skip


@pytest.mark.xfail(strict=True, reason="issue 14 #1: json raises RecursionError/ValueError")
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
    assert entry["entry_id"] == dec.raw_entry_id("a6.in.JPN01", 0, 7)


@pytest.mark.xfail(strict=True, reason="issue 14 #1: no bounded JSON parser yet")
def test_limits_leave_strings_and_ordinary_envelopes_alone() -> None:
    from gateway.core import jsonlimits

    inside = b'{"a": "' + b"[" * 1000 + b"1" * 5000 + b'"}'
    assert jsonlimits.loads(inside) == {"a": "[" * 1000 + "1" * 5000}
    assert jsonlimits.nesting_depth(b"[[[]]]") <= 3
    assert jsonlimits.nesting_depth(b"[" * 40 + b"]" * 40) > jsonlimits.MAX_DEPTH
