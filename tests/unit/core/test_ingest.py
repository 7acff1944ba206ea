"""authenticate(): every code it can produce, each from one input that fails only that way."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.core.ingest import routing_key
from gateway.core.signing import public_key_b64
from gateway.core.topics import input_topic, inventory_input_topic
from gateway.core.trust import Trust
from gateway.errors import AuthenticationError, PayloadInvalid, SchemaError
from tests.unit.core.a6kit import TS, Kit, envelope, fresh_key, rng, signed

ISSUANCE: dict[str, Any] = {
    "transaction_id": "MNG01-ISS-1",
    "ca_id": "CA0001",
    "registry_id": "MNG01",
    "decision_id": "MN003-2025-1",
    "vintage": 2025,
    "unit_type": "JCM",
    "blocks": [rng(1, 100) | {"account_id": "MN-PP-1"}],
}
ACCOUNT = {
    "registry_id": "JPN01",
    "account_id": "JP-GOV-1",
    "account_type": "government-holding",
    "holder": "Government of Japan",
}
JC_DECISION: dict[str, Any] = {
    "decision_id": "MN003-2025-1",
    "ca_id": "CA0001",
    "project_id": "MN003",
    "monitoring_period": {"start": "2025-01-01", "end": "2025-06-30"},
    "vintage": 2025,
    "quantity": "100",
    "allocation": [{"registry_id": "MNG01", "quantity": "100"}],
}
AUTH: dict[str, Any] = {
    "authorization_id": "A-1",
    "version": 1,
    "status": "granted",
    "ca_id": "CA0001",
    "authorizing_party": "JPN",
    "date": "2025-09-01",
    "purposes": "NDC",
    "first_transfer_definition": "First international transfer",
}
MNG = input_topic("MNG01")


def fails(kit: Kit, topic: str, value: bytes, code: str, exc: type[Exception], **kw: Any) -> str:
    """Authenticate and return the error message, checking the exact code and error class."""
    with pytest.raises(exc) as info:
        kit.authenticate(topic, value, **kw)
    assert type(info.value) is exc
    assert getattr(info.value, "code", None) == code, str(info.value)
    return str(info.value)


def trust_with(kit: Kit, principal: str, **changes: Any) -> Trust:
    """The world's trust with ``principal``'s key changed."""
    doc = kit.trust.model_dump(mode="json")
    for k in doc["keys"]:
        if k["principal"] == principal:
            k.update(changes)
    return Trust.model_validate(doc)


# ---- the happy path and routing ---------------------------------------------------------


def test_valid_issuance_authenticates_and_routes_by_cooperative_approach(kit: Kit) -> None:
    event = kit.authenticate(MNG, kit.event_bytes("MNG01", "issuance", ISSUANCE))
    assert (event.source, event.id, event.name, event.kind) == (
        "MNG01",
        "ev-1",
        "issuance",
        "proposal",
    )
    assert (event.signer_principal, event.signer_role) == ("MNG01", "registry")
    assert event.payload.model_dump()["blocks"][0]["serial_end"] == "100"
    assert routing_key(event) == "CA0001"


def test_account_event_routes_by_registry(kit: Kit) -> None:
    event = kit.authenticate(
        input_topic("JPN01"), kit.event_bytes("JPN01", "account.opened", ACCOUNT)
    )
    assert routing_key(event) == "registry:JPN01"


def test_inventory_event_routes_by_party(kit: Kit) -> None:
    key = fresh_key()
    doc = kit.trust.model_dump(mode="json")
    doc["keys"].append(
        {
            "key_id": "JPN-INV",
            "public_key": public_key_b64(key.public_key()),
            "principal": "JPN",
            "role": "inventory-agency",
            "valid_from": "2026-01-01T00:00:00Z",
        }
    )
    trust = Trust.model_validate(doc)
    data = {"party": "JPN", "year": 2024, "emissions_tco2e": "-1.5", "submission_id": "s1"}
    value = signed(envelope("JPN", "inventory.emissions", data, key_id="JPN-INV"), key)
    event = kit.authenticate(inventory_input_topic("JPN"), value, trust=trust, keys={})
    assert routing_key(event) == "party:JPN"
    # the same Party key may not publish on another Party's inventory topic
    fails(kit, inventory_input_topic("MNG"), value, "MSG-002", AuthenticationError, trust=trust)


def test_joint_committee_key_on_a_member_partys_registry(kit: Kit) -> None:
    value = kit.event_bytes("JC-JPN-MNG", "jcm.issuance.decided", JC_DECISION)
    assert routing_key(kit.authenticate(MNG, value)) == "CA0001"


# ---- MSG-001 and MSG-008: the bytes are not an envelope ---------------------------------


def _mutated(kit: Kit, change: str) -> bytes:
    env = envelope("MNG01", "issuance", ISSUANCE)
    if change == "missing":
        del env["time"]
    elif change == "extra":
        env["partitionkey"] = "x"  # an extension the profile refuses
    elif change == "specversion":
        env["specversion"] = "0.3"
    elif change == "time-and-extra":  # MSG-006 only when the time is the only problem
        env["time"] = "2026-01-01T00:00:00+00:00"
        env["partitionkey"] = "x"  # an extension the profile refuses
    elif change == "type":
        env["type"] = "a6gw.nothing.v1"
    elif change == "bad-signature-chars":
        env["a6signature"] = "!" * 86
        return json.dumps(env).encode()
    return kit.sign(env)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(b'{"id": "\xff"}', id="not-utf8"),
        pytest.param(b'{"specversion": "1.0", "id": "oops", ', id="not-json"),
        pytest.param(b"[]", id="json-array"),
        pytest.param(b'"just a string"', id="json-string"),
        pytest.param(b"", id="empty"),
    ],
)
def test_bytes_that_are_not_an_object_are_msg001(kit: Kit, value: bytes) -> None:
    fails(kit, MNG, value, "MSG-001", SchemaError)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_msg001(kit: Kit, constant: str) -> None:
    """Python's parser takes them, and the fast canonical encoder (orjson) would write them
    as ``null``: such bytes are refused as they are parsed, before any other check."""
    env = envelope("MNG01", "issuance", ISSUANCE)
    env["a6traceparent"] = None
    value = kit.sign(env).replace(b'"a6traceparent":null', f'"a6traceparent":{constant}'.encode())
    assert constant.encode() in value
    message = fails(kit, MNG, value, "MSG-001", SchemaError)
    assert f"{constant} is not a JSON number" in message


@pytest.mark.parametrize(
    "change",
    ["missing", "extra", "specversion", "time-and-extra", "type", "bad-signature-chars"],
)
def test_invalid_envelope_attributes_are_msg001(kit: Kit, change: str) -> None:
    message = fails(kit, MNG, _mutated(kit, change), "MSG-001", SchemaError)
    if change == "type":
        assert "unknown event type" in message


@pytest.mark.parametrize(
    "time",
    [
        "2026-01-01T00:00:00+00:00",  # an offset, not Z
        "2026-01-01T09:00:00+09:00",
        "2026-01-01T00:00:00",  # no zone
        "2026-01-01t00:00:00z",
        "2026-01-01 00:00:00Z",
        "2026-01-01",
        "1767225600",
        "2026-02-30T00:00:00Z",  # matches the pattern, but no such day
        "2026-01-01T24:00:00Z",
        "2026-13-01T00:00:00Z",
    ],
)
def test_malformed_time_is_msg006(kit: Kit, time: str) -> None:
    """MSG-006 (the event time is RFC 3339 UTC), before anything else is trusted."""
    value = kit.sign(envelope("MNG01", "issuance", ISSUANCE, time=time))
    assert repr(time) in fails(kit, MNG, value, "MSG-006", SchemaError)


@pytest.mark.parametrize(
    "time", ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00.1Z", "2026-01-01T00:00:00.123456789Z"]
)
def test_well_formed_times_authenticate(kit: Kit, time: str) -> None:
    value = kit.sign(envelope("MNG01", "issuance", ISSUANCE, time=time))
    assert kit.authenticate(MNG, value).time == time


@pytest.mark.parametrize("where", ["top", "data"])
def test_duplicate_member_is_msg001(kit: Kit, where: str) -> None:
    value = kit.event_bytes("MNG01", "issuance", ISSUANCE)
    if where == "top":
        dup = value.replace(b'{"a6keyid"', b'{"id":"other","a6keyid"', 1)
    else:
        dup = value.replace(b'"data":{', b'"data":{"vintage":2030,', 1)
    assert dup != value
    assert "duplicate JSON member" in fails(kit, MNG, dup, "MSG-001", SchemaError)


def test_size_limit_is_msg008_and_inclusive(kit: Kit) -> None:
    value = kit.event_bytes("MNG01", "issuance", ISSUANCE)
    # JSON whitespace does not change the signed canonical form: pad to the exact limit.
    padded = value + b" " * (kit.max_bytes - len(value))
    assert kit.authenticate(MNG, padded).id == "ev-1"
    fails(kit, MNG, padded + b" ", "MSG-008", SchemaError)


# ---- MSG-002: the signer may not publish this here -------------------------------------


def test_unknown_key_id_is_msg002(kit: Kit) -> None:
    env = envelope("MNG01", "issuance", ISSUANCE, key_id="MNG01-1999")
    fails(kit, MNG, kit.sign(env, "MNG01"), "MSG-002", AuthenticationError)


@pytest.mark.parametrize("status", ["revoked", "suspended"])
def test_inactive_key_is_msg002(kit: Kit, status: str) -> None:
    trust = trust_with(kit, "MNG01", status=status)
    value = kit.event_bytes("MNG01", "issuance", ISSUANCE)
    assert status in fails(kit, MNG, value, "MSG-002", AuthenticationError, trust=trust)


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("ts", "ok"),
    [
        (_ms("2025-12-31T23:59:59.999"), False),  # not yet valid
        (TS, True),  # valid_from is inclusive
        (_ms("2030-12-31T23:59:59.999"), True),
        (_ms("2031-01-01T00:00:00"), False),  # valid_to is exclusive: expired
    ],
)
def test_key_validity_is_judged_at_the_record_timestamp(kit: Kit, ts: int, ok: bool) -> None:
    value = kit.event_bytes("MNG01", "issuance", ISSUANCE)
    if ok:
        assert kit.authenticate(MNG, value, ts=ts).source == "MNG01"
    else:
        assert "not valid at" in fails(kit, MNG, value, "MSG-002", AuthenticationError, ts=ts)


@pytest.mark.parametrize(
    ("principal", "name", "data", "topic"),
    [
        pytest.param("MNG", "issuance", ISSUANCE, MNG, id="authority-signs-issuance"),
        pytest.param("MNG01", "authorization", AUTH, MNG, id="registry-signs-authorization"),
        pytest.param("MNG01", "jcm.issuance.decided", JC_DECISION, MNG, id="registry-signs-jc"),
        pytest.param(
            "MNG01", "issuance", ISSUANCE, input_topic("JPN01"), id="other-registry-topic"
        ),
        pytest.param("JPN", "authorization", AUTH, MNG, id="other-partys-authority"),
        pytest.param("JC-JPN-IDN", "jcm.issuance.decided", JC_DECISION, MNG, id="foreign-jc"),
        pytest.param(
            "MNG01", "account.opened", ACCOUNT, inventory_input_topic("MNG"), id="inventory"
        ),
    ],
)
def test_signer_not_allowed_is_msg002(
    kit: Kit, principal: str, name: str, data: dict[str, Any], topic: str
) -> None:
    fails(kit, topic, kit.event_bytes(principal, name, data), "MSG-002", AuthenticationError)


def test_role_list_comes_from_the_trust_file(kit: Kit) -> None:
    doc = kit.trust.model_dump(mode="json")
    doc["event_roles"]["a6gw.issuance.v1"] = ["authorizing-authority"]
    trust = Trust.model_validate(doc)
    value = kit.event_bytes("MNG01", "issuance", ISSUANCE)
    assert "may not sign" in fails(kit, MNG, value, "MSG-002", AuthenticationError, trust=trust)


def test_source_other_than_signer_is_msg002(kit: Kit) -> None:
    env = envelope("MNG01", "issuance", ISSUANCE, source="JPN01")
    message = fails(kit, MNG, kit.sign(env, "MNG01"), "MSG-002", AuthenticationError)
    assert "is not the signer" in message


# ---- MSG-003: the signature does not verify --------------------------------------------


def _with_signature(kit: Kit, signature: str) -> bytes:
    doc = json.loads(kit.event_bytes("MNG01", "issuance", ISSUANCE))
    doc["a6signature"] = signature
    return json.dumps(doc).encode()


def test_signature_over_other_bytes_is_msg003(kit: Kit) -> None:
    other = json.loads(kit.event_bytes("MNG01", "issuance", ISSUANCE, event_id="ev-2"))
    fails(kit, MNG, _with_signature(kit, other["a6signature"]), "MSG-003", AuthenticationError)


@pytest.mark.parametrize("field", ["vintage", "time", "serial"])
def test_tampering_after_signing_is_msg003(kit: Kit, field: str) -> None:
    doc = json.loads(kit.event_bytes("MNG01", "issuance", ISSUANCE))
    if field == "vintage":
        doc["data"]["vintage"] = 2024
    elif field == "time":
        doc["time"] = "2026-01-01T00:00:01.000Z"
    else:
        doc["data"]["blocks"][0]["serial_end"] = "101"
    fails(kit, MNG, json.dumps(doc).encode(), "MSG-003", AuthenticationError)


def test_key_forged_under_a_registered_key_id_is_msg003(kit: Kit) -> None:
    forged = signed(envelope("MNG01", "issuance", ISSUANCE), fresh_key())
    fails(kit, MNG, forged, "MSG-003", AuthenticationError)


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param("A" * 86, id="bad-padding"),
        pytest.param("A" * 87 + "=", id="65-bytes"),
    ],
)
def test_signature_that_is_not_64_base64_bytes_is_msg003(kit: Kit, signature: str) -> None:
    fails(kit, MNG, _with_signature(kit, signature), "MSG-003", AuthenticationError)


# ---- PayloadInvalid: authentic envelope, data that is not the event type ---------------


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param(("colour",), "green", id="extra-field"),
        pytest.param(("blocks", 0, "serial_start"), 1, id="int-for-decimal-string"),
        pytest.param(("blocks", 0, "serial_start"), "-1", id="negative-serial"),
        pytest.param(("blocks", 0, "serial_end"), "0100", id="leading-zero"),
        pytest.param(("registry_id",), "MNG1", id="registry-id-pattern"),
        pytest.param(("vintage",), "2025", id="string-for-int"),
        pytest.param(("blocks",), [], id="no-blocks"),
    ],
)
def test_payload_invalid_carries_the_authenticated_event(
    kit: Kit, path: tuple[str | int, ...], value: Any
) -> None:
    data = json.loads(json.dumps(ISSUANCE))
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(PayloadInvalid) as info:
        kit.authenticate(MNG, kit.event_bytes("MNG01", "issuance", data))
    assert info.value.code == "MSG-001"
    event = info.value.event
    assert (event.source, event.id, event.kind, event.signer_principal) == (
        "MNG01",
        "ev-1",
        "proposal",
        "MNG01",
    )
