"""The signed decision, ``a6gw.decision.v2``: the input's transaction id and a note.

The data is built from the decision's audit entry (``gateway.core.decision.decision_data``)
and must fit the published schema; v2 declares itself open to later optional members, which
v1 (closed) refused.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from gateway.core.decision import decision_data, decision_note
from schemas.decisions import DecisionV2
from schemas.events import CURRENT, EVENT_TYPES, event_type
from schemas.gen import SCHEMA_DIR

SHA = "ab" * 32


def _entry(outcome: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "entry_version": 1,
        "entry_type": "decision",
        "entry_id": "ev-" + "0" * 40,
        "input": {
            "source": "MNG01",
            "id": "mng-tx-1",
            "type": "a6gw.transfer.v1",
            "kind": "proposal",
            "time": "2026-01-01T00:00:00.000Z",
            "sha256": SHA,
            "signer": "MNG01",
        },
        "ca_id": "CA0001",
        "outcome": outcome,
        "results": [],
        "actions": [],
        "quantity": "0",
        "blocks": [],
        "decided_at": "2026-01-01T00:00:01.000Z",
    }
    return entry | extra


def _schema(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_the_gateway_writes_v2_and_v1_stays_published() -> None:
    assert CURRENT["decision"].type == "a6gw.decision.v2"
    assert event_type("decision") is EVENT_TYPES["a6gw.decision.v2"]
    assert event_type("a6gw.decision.v1").major == 1
    assert (SCHEMA_DIR / "a6gw.decision.v1.schema.json").exists()


def test_a_refusal_notes_its_first_results_message() -> None:
    results = [
        {"code": "BLK-004", "message": "units 1-10 are not held by MN-A", "blocks": []},
        {"code": "JCM-002", "message": "the second one", "blocks": []},
    ]
    entry = _entry("rejected", results=results, transaction_id="TX-1")
    data = decision_data(entry)
    assert data["note"] == "units 1-10 are not held by MN-A"
    assert data["transaction_id"] == "TX-1"
    assert decision_note(_entry("discrepancy", results=results)) == results[0]["message"]


def test_an_acceptance_notes_what_was_done() -> None:
    entry = _entry("accepted", actions=["First transfer"], quantity="100", transaction_id="TX-1")
    assert decision_note(entry) == "transfer TX-1 accepted: First transfer, 100 units"
    # no transaction id: the input's id names it; nothing done: just the outcome
    opened = _entry("recorded")
    opened["input"] = opened["input"] | {"type": "a6gw.account.opened.v1", "id": "acc-1"}
    assert decision_note(opened) == "account.opened acc-1 recorded"
    assert decision_data(opened)["transaction_id"] is None


def test_the_ledgers_own_note_is_the_decisions_note() -> None:
    note = "transfer TX-1 cancelled: no answer by 2026-01-02T00:00:00.000Z"
    entry = _entry("recorded", note=note, transaction_id="TX-1", quantity="10")
    assert decision_data(entry)["note"] == note


@pytest.mark.parametrize(
    "entry",
    [
        _entry("accepted", actions=["Transfer"], quantity="5", transaction_id="TX-9"),
        _entry("recorded"),
        _entry("rejected", results=[{"code": "MSG-001", "message": "bad", "blocks": []}]),
    ],
)
def test_the_data_fits_the_model_and_the_published_schema(entry: dict[str, Any]) -> None:
    data = decision_data(entry)
    assert DecisionV2.model_validate_json(json.dumps(data)).outcome == entry["outcome"]
    _schema("a6gw.decision.v2").validate(data)
    # v1 is closed: a strict v1 reader refuses the v2 members, hence the new major version
    with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
        _schema("a6gw.decision.v1").validate(data)


def test_v2_is_open_to_later_optional_members_and_says_so() -> None:
    v2 = _schema("a6gw.decision.v2")
    data = decision_data(_entry("recorded"))
    v2.validate(data | {"a_later_member": 1})
    v2.validate(data | {"results": [{"code": "X-001", "message": "m", "later": True}]})
    schema = json.loads((SCHEMA_DIR / "a6gw.decision.v2.schema.json").read_text("utf-8"))
    assert schema["additionalProperties"] is True
    assert "Open to later optional additions" in schema["description"]
    assert schema["$id"] == "urn:a6gw:schema:decision:2"
    for broken in ({"note": ""}, {"transaction_id": 7}, {"outcome": "maybe"}):
        with pytest.raises(jsonschema.ValidationError):
            v2.validate(data | broken)
    missing = {k: v for k, v in data.items() if k != "note"}
    with pytest.raises(jsonschema.ValidationError, match="'note' is a required property"):
        v2.validate(missing)
