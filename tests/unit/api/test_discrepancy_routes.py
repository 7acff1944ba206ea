"""The API's check of an operator's command before it is published, and its route table."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.api.discrepancy_routes import check_command
from gateway.api.openapi import openapi
from gateway.api.routes import ROUTES
from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes
from gateway.core.decision_time import iso_ms
from gateway.core.oversight import command_envelope
from gateway.core.signing import public_key_b64, sign_envelope
from gateway.core.trust import Trust, TrustedKey
from gateway.errors import CommandProblem

OPS = Ed25519PrivateKey.generate()
REG = Ed25519PrivateKey.generate()
NOW = int(time.time() * 1000)
D_ID = dsc.discrepancy_id("delivery", "ev-parked-1")


def trusted(key_id: str, key: Ed25519PrivateKey, principal: str, role: str) -> TrustedKey:
    return TrustedKey(
        key_id=key_id,
        public_key=public_key_b64(key.public_key()),
        principal=principal,
        role=role,
        valid_from=datetime.now(UTC) - timedelta(days=1),
    )


TRUST = Trust(
    keys=(
        trusted("ops-1-k", OPS, "ops-1", "operator"),
        trusted("MNG01-k", REG, "MNG01", "registry"),
    )
)


def command(
    key: Ed25519PrivateKey = OPS,
    key_id: str = "ops-1-k",
    principal: str = "ops-1",
    discrepancy_id: str = D_ID,
    action: dsc.Action = "acknowledge",
) -> bytes:
    return command_envelope(
        key,
        key_id=key_id,
        principal=principal,
        discrepancy_id=discrepancy_id,
        action=action,
        time=iso_ms(NOW),
    )


def problem(body: bytes, path_id: str = D_ID, max_bytes: int = 64 * 1024) -> tuple[int, str]:
    with pytest.raises(CommandProblem) as err:
        check_command(body, path_id, TRUST, now_ms=NOW, max_bytes=max_bytes)
    return err.value.status, err.value.code


def test_an_authentic_command_gives_its_identity_and_content() -> None:
    body = command()
    identity, cmd = check_command(body, D_ID, TRUST, now_ms=NOW, max_bytes=64 * 1024)
    assert identity["id"] == json.loads(body)["id"] and identity["signer"] == "ops-1"
    assert (cmd.discrepancy_id, cmd.action, cmd.by) == (D_ID, "acknowledge", "ops-1")


def test_each_refusal_has_its_status_and_code() -> None:
    assert problem(b"{not json") == (400, "MSG-001")
    assert problem(command(), max_bytes=100) == (413, "MSG-008")
    forged = command(key=Ed25519PrivateKey.generate())  # ops-1's key id, another key
    assert problem(forged) == (401, "MSG-003")
    assert problem(command(key_id="nobody-k")) == (401, "MSG-002")
    by_a_registry = command(key=REG, key_id="MNG01-k", principal="MNG01")
    assert problem(by_a_registry) == (401, "MSG-002")  # role registry may not sign commands
    assert problem(command(discrepancy_id="dsc-short")) == (422, "MSG-001")
    other = dsc.discrepancy_id("delivery", "ev-parked-2")
    assert problem(command(), path_id=other) == (400, "MSG-007")
    not_a_command = {
        "specversion": "1.0",
        "id": "tx-1",
        "source": "ops-1",
        "type": "a6gw.transfer.v1",
        "time": iso_ms(NOW),
        "datacontenttype": "application/json",
        "a6keyid": "ops-1-k",
        "data": {},
    }
    assert problem(canonical_bytes(sign_envelope(not_a_command, OPS))) == (422, "MSG-001")


def test_the_openapi_document_has_the_command_route_with_its_body_and_answers() -> None:
    doc = openapi()
    post = doc["paths"]["/v1/discrepancies/{discrepancy_id}/commands"]["post"]
    assert post["requestBody"]["required"] is True
    assert set(post["responses"]) == {"202", "400", "401", "403", "404", "413", "422", "503"}
    assert post["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CommandAccepted"
    }
    listed = doc["paths"]["/v1/discrepancies"]["get"]
    assert {p["name"] for p in listed["parameters"]} == {"status", "code", "registry", "found_by"}
    assert {r.method for r in ROUTES} == {"get", "post"}
    assert "DiscrepancyOut" in doc["components"]["schemas"]
    assert "RunDetail" in doc["components"]["schemas"]


def test_deep_and_huge_bodies_are_refused_with_a_code() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert problem(deep, max_bytes=300_000) == (400, "MSG-001")
    digits = b'{"id": ' + b"9" * 5000 + b"}"
    assert problem(digits) == (400, "MSG-001")
    body = command()
    assert b'"data":{' in body
    nested = b'"deep":' + b'{"a":' * 1000 + b'"x"' + b"}" * 1000 + b","
    deep_data = body.replace(b'"data":{', b'"data":{' + nested, 1)
    assert problem(deep_data) in {(400, "MSG-001"), (422, "MSG-001")}
