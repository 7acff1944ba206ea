"""MSG-010: a record on an internal topic that fails its MAC becomes a dead letter."""

from __future__ import annotations

import base64
import json

from gateway.core import mac
from gateway.core.decision_time import iso_ms
from gateway.core.ingest import RawInput
from gateway.core.internal import refused
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC, LEDGER_TOPIC

NOW = 1_800_000_000_000


def test_a_forged_ledger_record_is_dead_lettered_at_its_arrival() -> None:
    value = b'{"value":"{}","signer":"MNG01"}'
    # back-dated by its writer (CreateTime): dated at the reader's clock
    raw = RawInput(LEDGER_TOPIC, 2, 17, b"CA0001", value, NOW - 86_400_000, 0)
    why = mac.problem(bytes(32), raw.topic, raw.key, raw.value, raw.headers)
    assert why is not None
    eid, outputs = refused(raw, why, now_ms=NOW, skew_s=300)
    assert [o.topic for o in outputs] == [DLQ_TOPIC, AUDIT_TOPIC]
    dead, entry = (json.loads(o.value) for o in outputs)
    assert entry["entry_id"] == eid == dead["audit_entry_id"]
    assert (entry["outcome"], entry["decided_at"]) == ("dead-lettered", iso_ms(NOW))
    assert entry["results"][0]["code"] == "MSG-010"
    assert "a6.ledger: no a6-mac header" in entry["results"][0]["message"]
    assert entry["input"] == {
        "topic": LEDGER_TOPIC,
        "partition": 2,
        "offset": 17,
        "size": len(value),
        "sha256": raw.sha256,
    }
    assert dead["reason_code"] == "MSG-010"
    assert base64.b64decode(dead["value_b64"]) == value
