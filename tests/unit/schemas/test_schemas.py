"""The event models are strict, and the checked-in JSON Schema files are current."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from gateway.api.gen import OPENAPI_DIR
from gateway.api.gen import stale as stale_openapi
from gateway.api.routes import ROUTES
from schemas import EVENT_TYPES, Envelope
from schemas.decisions import Decision
from schemas.events import Issuance, Transfer
from schemas.gen import SCHEMA_DIR, render, stale, stale_in

TRANSFER = {
    "transaction_id": "t1",
    "ca_id": "CA0001",
    "originating_registry": "MNG01",
    "transferring": {"registry_id": "MNG01", "account_id": "a"},
    "acquiring": {"registry_id": "JPN01", "account_id": "b"},
    "blocks": [{"serial_start": "1", "serial_end": "5"}],
}


def test_checked_in_schema_files_are_current() -> None:
    assert stale() == [], "run: python -m schemas.gen"
    assert stale_openapi() == [], "run: python -m gateway.api.gen"


def test_stale_detects_an_edited_and_a_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, text in render().items():
        (tmp_path / name).write_text(text)

    def check() -> list[str]:
        return stale_in(tmp_path, "*.schema.json", render())

    assert check() == []
    victim = sorted(render())[0]
    (tmp_path / victim).write_text("{}\n")
    (tmp_path / "a6gw.retired.v1.schema.json").write_text("{}\n")
    assert check() == sorted([victim, "a6gw.retired.v1.schema.json"])
    (tmp_path / victim).unlink()
    assert victim in check()


def test_the_openapi_document_lists_every_route_and_401() -> None:
    doc = json.loads((OPENAPI_DIR / "audit-api.openapi.json").read_text())
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {r.path for r in ROUTES}
    assert {(r.path, r.method) for r in ROUTES} == {
        (path, method) for path, item in doc["paths"].items() for method in item
    }
    for item in doc["paths"].values():
        for operation in item.values():
            assert "401" in operation["responses"]
    assert {"clientCertificate", "bearerToken"} <= set(doc["components"]["securitySchemes"])


def test_every_event_type_has_a_schema_file_with_its_kind() -> None:
    for et in EVENT_TYPES.values():
        doc = json.loads((SCHEMA_DIR / f"{et.type}.schema.json").read_text())
        assert f"kind: {et.kind}" in doc["$comment"]
        assert et.kind in ("proposal", "notification")
        assert et.type.endswith(f".v{et.major}")


@pytest.mark.parametrize(
    "change",
    [
        {"extra": 1},  # unknown member
        {"blocks": [{"serial_start": 1, "serial_end": "5"}]},  # int where a decimal string is due
        {"blocks": [{"serial_start": "01", "serial_end": "5"}]},  # leading zero
        {"blocks": [{"serial_start": "-1", "serial_end": "5"}]},
        {"blocks": []},
        {"ca_id": "CA1"},
        {"originating_registry": "mng01"},
    ],
)
def test_transfer_rejects(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Transfer.model_validate_json(json.dumps({**TRANSFER, **change}))


def test_models_are_immutable() -> None:
    t = Transfer.model_validate_json(json.dumps(TRANSFER))
    with pytest.raises(ValidationError):
        t.ca_id = "CA0002"  # type: ignore[misc]


def test_serials_beyond_2_pow_53_survive_as_strings() -> None:
    big = str(2**55)  # above 2^53 - 1, which JSON numbers cannot carry exactly
    data = {
        "transaction_id": "i",
        "ca_id": "CA0001",
        "registry_id": "JPN01",
        "decision_id": "d",
        "vintage": 2025,
        "unit_type": "JCM",
        "blocks": [{"serial_start": big, "serial_end": big, "account_id": "x"}],
    }
    assert Issuance.model_validate_json(json.dumps(data)).blocks[0].serial_start == big


def test_envelope_requires_utc_time_and_versioned_type() -> None:
    env = {
        "specversion": "1.0",
        "id": "e1",
        "source": "JPN01",
        "type": "a6gw.transfer.v1",
        "time": "2026-01-01T00:00:00Z",
        "datacontenttype": "application/json",
        "a6keyid": "k",
        "a6signature": "A" * 86 + "==",
        "data": {},
    }
    Envelope.model_validate(env)
    for bad in (
        {"time": "2026-01-01T00:00:00+09:00"},
        {"type": "a6gw.transfer"},
        {"specversion": "0.3"},
        {"a6signature": "short"},
    ):
        with pytest.raises(ValidationError):
            Envelope.model_validate({**env, **bad})


def test_decision_outcomes() -> None:
    assert set(Decision.model_fields["outcome"].annotation.__args__) == {  # type: ignore[union-attr]
        "accepted",
        "rejected",
        "recorded",
        "discrepancy",
    }
