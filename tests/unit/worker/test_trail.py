"""A line per decision and dead letter (gateway.worker.trail), written once a run is durable."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC
from gateway.worker.batches import Event
from gateway.worker.trail import entry_fields
from tests.unit.worker.test_batches import events, setup

DECISION = {
    "entry_id": "ev-1",
    "entry_type": "decision",
    "outcome": "rejected",
    "results": [{"code": "BLK-004", "message": "m", "blocks": []}, {"code": "JCM-002"}],
    "input": {"source": "JPN01", "id": "tx-9", "signer": "JPN01"},
}


def decide_with_entries(stage: object) -> None:
    """Offset 0 makes a decision entry, offset 1 only a forward, offset 2 raises."""
    decide = stage.decide  # type: ignore[attr-defined]

    def with_entry(rec: RawInput, event: Event) -> None:
        decide(rec, event)
        if rec.offset == 0:
            stage.outputs.append(Output(AUDIT_TOPIC, "ev-1", json.dumps(DECISION).encode()))  # type: ignore[attr-defined]
        else:
            stage.outputs.append(Output(LEDGER_TOPIC, "k", b"{}"))  # type: ignore[attr-defined]

    stage.decide = with_entry  # type: ignore[attr-defined]


def test_each_decision_and_dead_letter_is_one_line_after_the_commit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batches, stage, _, _ = setup(tmp_path, edge_failures=1)
    decide_with_entries(stage)
    caplog.set_level(logging.DEBUG, logger="a6gw.decisions")
    asyncio.run(batches.run(events(2, [0, 1, 2], {2: b"bad"})))
    lines = [r for r in caplog.records if r.name == "a6gw.decisions"]
    # the failed first commit logged nothing; the retried run logs once
    info = [r for r in lines if r.levelno == logging.INFO]
    assert [(r.getMessage(), r.offset, r.codes) for r in info] == [  # type: ignore[attr-defined]
        ("decision rejected", 0, ["BLK-004", "JCM-002"]),
        ("dead-letter dead-lettered", 2, ["GWF-001"]),
    ]
    first = vars(info[0])
    assert (first["event_id"], first["source"], first["step"]) == ("tx-9", "JPN01", "ledger")
    assert (first["topic"], first["partition"], first["entry_id"]) == (LEDGER_TOPIC, 2, "ev-1")
    assert info[1].entry_id.startswith("raw-") and info[1].partition == 2  # type: ignore[attr-defined]
    debug = [r for r in lines if r.levelno == logging.DEBUG]
    assert [(r.offset, r.to) for r in debug] == [(1, [LEDGER_TOPIC])]  # type: ignore[attr-defined]


def test_nothing_is_noted_when_info_is_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    batches, stage, _, _ = setup(tmp_path)
    decide_with_entries(stage)
    caplog.set_level(logging.WARNING, logger="a6gw.decisions")
    asyncio.run(batches.run(events(0, [0, 1])))
    assert not [r for r in caplog.records if r.name == "a6gw.decisions"]
    assert batches.trail.notes == [] and not batches.trail.on


def test_entry_fields_read_what_an_entry_has() -> None:
    assert entry_fields(json.dumps(DECISION).encode()) == {
        "entry_id": "ev-1",
        "entry_type": "decision",
        "outcome": "rejected",
        "codes": ["BLK-004", "JCM-002"],
        "event_id": "tx-9",
        "source": "JPN01",
    }
    assert entry_fields(b"not json") == {"entry_type": "unreadable"}
    assert entry_fields(b"[1]") == {"entry_type": "unreadable"}
    dead = {"entry_id": "raw-1", "entry_type": "dead-letter", "outcome": "dead-lettered"}
    assert entry_fields(json.dumps(dead | {"input": {"topic": "t"}}).encode())["codes"] == []
