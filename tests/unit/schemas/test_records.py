"""The published schemas of dead letters and notices fit every one the gateway writes."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gateway.core.faults import audit_item, fault_finding, fault_outputs, quarantine_finding
from gateway.core.ingest import RawInput
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC, input_topic
from gateway.demo.scenario import load_steps
from gateway.services.snapshots import request_id, request_notice
from schemas.gen import SCHEMA_DIR
from schemas.records import DEAD_LETTER_SCHEMA, NOTICE_KINDS, NOTICE_SCHEMA, URN
from tests import records_check
from tests.unit.worker.test_pipeline import MemoryPipeline


def test_the_demo_scenario_writes_every_transfer_notice_and_dead_letter_checked(
    tmp_path: Path,
) -> None:
    pipe = MemoryPipeline(tmp_path)
    before = records_check.SEEN.copy()
    for step in load_steps(pipe.world):
        if step.awaits:
            pipe.fire_timers(pipe.ts + 10**9)
        else:
            pipe.publish(step.topic, step.key, step.value)
    pipe.publish(input_topic("MNG01"), b"k\x00", b"not json")
    seen = records_check.SEEN - before
    kinds = {k for (what, k) in seen if what == "notice"}
    assert {"transfer.proposed", "transfer.completed", "transfer.cancelled"} <= kinds
    letters = sum(n for (what, _), n in seen.items() if what == "dead-letter")
    assert letters == sum(1 for t, _, _ in pipe.sent if t == DLQ_TOPIC) >= 4
    last = [json.loads(v) for t, _, v in pipe.sent if t == DLQ_TOPIC][-1]
    assert (last["topic"], last["partition"]) == (input_topic("MNG01"), 0)
    assert base64.b64decode(last["key_b64"]) == b"k\x00"
    assert base64.b64decode(last["value_b64"]) == b"not json"


def test_gateway_fault_and_audit_dead_letters_fit_the_schema() -> None:
    raw = RawInput(input_topic("JPN01"), 2, 7, None, b"x" * 10, 1234)
    for finding in (fault_finding("ledger", KeyError("k")), quarantine_finding("ingest", 3)):
        dlq, _ = fault_outputs(raw, finding, step="ledger", exception="KeyError", keep_bytes=4)
        letter = records_check.check_dead_letter(dlq.value)
        assert letter["fault"]["step"] == "ledger" and letter["key_b64"] is None
        assert (letter["partition"], letter["offset"], letter["timestamp_ms"]) == (2, 7, 1234)
    _, letters = audit_item(RawInput(AUDIT_TOPIC, 0, 4, b"ev-2", b"{}", 0))
    assert [records_check.check_dead_letter(o.value)["reason_code"] for o in letters] == ["MSG-001"]


def test_the_reconciliation_request_fits_the_schema() -> None:
    rec_id = request_id("IDN01", 1_767_225_600_000)
    data = records_check.check_notice(request_notice("IDN01", rec_id, 1_767_225_600_000))
    assert data["body"]["snapshot_at"] == "2026-01-01T00:00:00.000Z"


def test_the_schemas_have_absolute_ids_and_one_branch_per_kind() -> None:
    notice, dead = (
        json.loads((SCHEMA_DIR / f"{n}.schema.json").read_text(encoding="utf-8"))
        for n in (NOTICE_SCHEMA, DEAD_LETTER_SCHEMA)
    )
    assert (
        notice["$id"] == f"{URN}{NOTICE_SCHEMA}:1" and dead["$id"] == f"{URN}{DEAD_LETTER_SCHEMA}:1"
    )
    assert sorted(notice["discriminator"]["mapping"]) == sorted(NOTICE_KINDS)


PROPOSED: dict[str, Any] = {
    "kind": "transfer.proposed",
    "body": {
        "transaction_id": "tx-1",
        "ca_id": "CA0001",
        "origin": "MNG01",
        "transferring": {"registry_id": "MNG01", "account_id": "MN-GOV-1"},
        "acquiring": {"registry_id": "JPN01", "account_id": "JP-GOV-1"},
        "ranges": [{"serial_start": "1", "serial_end": "100"}],
    },
}


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "transfer.unknown", "body": PROPOSED["body"]},
        {"kind": "transfer.cancelled", "body": PROPOSED["body"]},
        {"kind": "transfer.proposed", "body": PROPOSED["body"] | {"ranges": []}},
        {
            "kind": "transfer.completed",
            "body": {"transaction_id": "t", "ca_id": "CA0001", "status": "rejected"}
            | {"reason_code": None},
        },
    ],
)
def test_the_notice_schema_refuses_a_body_of_another_kind(bad: dict[str, Any]) -> None:
    records_check.validator(NOTICE_SCHEMA).validate(PROPOSED)
    with pytest.raises(jsonschema.ValidationError):
        records_check.validator(NOTICE_SCHEMA).validate(bad)


def test_the_dead_letter_schema_refuses_a_letter_without_its_origin() -> None:
    raw = RawInput(input_topic("JPN01"), 0, 1, b"k", b"{", 5)
    dlq, _ = fault_outputs(raw, fault_finding("ingest", ValueError()), step="ingest", exception="")
    letter = records_check.check_dead_letter(dlq.value)
    for field in ("topic", "partition", "offset", "key_b64", "value_b64"):
        with pytest.raises(jsonschema.ValidationError):
            records_check.validator(DEAD_LETTER_SCHEMA).validate(
                {k: v for k, v in letter.items() if k != field}
            )
