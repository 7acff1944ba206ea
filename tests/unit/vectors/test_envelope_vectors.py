"""The gateway's ingest against schemas/vectors/envelopes.json (and the files' freshness).

Every positive vector authenticates through :func:`gateway.core.ingest.authenticate` as a
record on its topic would; every negative one is refused with the vector's code. The
signing input printed in each vector is the gateway's canonical encoding of the envelope
(both its fast path and the RFC 8785 reference), and RFC 8785's own examples (jcs.json) come
out of the gateway's encoder as the RFC prints them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import schemas as schemas_json
from gateway.core import topics
from gateway.core.canonical import canonical_bytes, plain_bytes
from gateway.core.ingest import LOG_APPEND_TIME, RawInput, authenticate
from gateway.core.signing import load_private_key_pem, sign_envelope, signing_input
from gateway.core.trust import TopicOwner, Trust
from gateway.errors import GatewayError
from schemas.envelope import Envelope
from schemas.vectors.__main__ import main as vectors_main
from schemas.vectors.jcs import double
from tests.unit.vectors._load import ids, load

ENVELOPES = load("envelopes.json")
KEYS = {k["key_id"]: k for k in load("keys.json")["keys"]}
JCS = load("jcs.json")
TRUST = Trust.model_validate(ENVELOPES["trust_file"] | {"event_roles": {}})
VECTORS = ENVELOPES["vectors"]
POSITIVE = [v for v in VECTORS if v["expect"]["valid"]]


def _authenticate(v: dict[str, Any]) -> None:
    registry = v["registry"]
    raw = RawInput(
        topic=topics.input_topic(registry),
        partition=0,
        offset=0,
        key=v["envelope"]["id"].encode(),
        value=v["wire"].encode("utf-8"),
        timestamp_ms=v["arrival_ms"],
        timestamp_type=LOG_APPEND_TIME,
    )
    owner = TopicOwner(registry=registry, party=registry[:3])
    event = authenticate(raw, owner, TRUST, {}, set(), max_bytes=256 * 1024)
    assert (event.source, event.id, event.type) == (
        v["envelope"]["source"],
        v["envelope"]["id"],
        v["envelope"]["type"],
    )
    assert event.sha256 == hashlib.sha256(raw.value).hexdigest()


def test_the_vector_files_are_fresh() -> None:
    assert vectors_main(["--check"]) == 0


def test_positive_and_negative_vectors_both_exist() -> None:
    assert {v["envelope"]["type"] for v in POSITIVE} >= {
        "a6gw.issuance.v1",
        "a6gw.transfer.v1",
        "a6gw.transfer.answer.v1",
    }
    assert {v["expect"]["code"] for v in VECTORS if not v["expect"]["valid"]} == {
        "MSG-002",
        "MSG-003",
        "MSG-012",
    }


@pytest.mark.parametrize("v", VECTORS, ids=ids(VECTORS))
def test_ingest_gives_the_expected_verdict(v: dict[str, Any]) -> None:
    Envelope.model_validate(v["envelope"])  # every vector is a well-formed envelope
    if v["expect"]["valid"]:
        _authenticate(v)
    else:
        with pytest.raises(GatewayError) as caught:
            _authenticate(v)
        assert caught.value.code == v["expect"]["code"], caught.value


@pytest.mark.parametrize("v", VECTORS, ids=ids(VECTORS))
def test_signing_input_is_the_gateways_canonical_encoding(v: dict[str, Any]) -> None:
    given = bytes.fromhex(v["signing_input"]["hex"])
    assert given == v["signing_input"]["utf8"].encode("utf-8")
    assert hashlib.sha256(given).hexdigest() == v["signing_input"]["sha256"]
    assert signing_input(v["envelope"]) == given
    unsigned = {k: x for k, x in v["envelope"].items() if k != "a6signature"}
    assert plain_bytes(unsigned) == given
    assert canonical_bytes(json.loads(v["wire"])) == v["wire"].encode("utf-8")
    signature = base64.b64decode(v["signature"]["base64"], validate=True)
    assert signature.hex() == v["signature"]["hex"]
    assert base64.urlsafe_b64decode(v["signature"]["base64url"] + "==") == signature


@pytest.mark.parametrize("v", POSITIVE, ids=ids(POSITIVE))
def test_the_gateways_signer_gives_the_same_signature(v: dict[str, Any]) -> None:
    key = load_private_key_pem(KEYS[v["envelope"]["a6keyid"]]["private_key_pem"].encode())
    assert sign_envelope(v["envelope"], key) == v["envelope"]  # Ed25519 is deterministic


def test_the_trust_entries_are_the_keys_file_keys() -> None:
    for entry in ENVELOPES["trust_file"]["keys"]:
        key = KEYS[entry["key_id"]]
        assert entry == key["trust_file_entry"]
        assert base64.b64decode(entry["public_key"]).hex() == key["public_key_hex"]
        seed = bytes.fromhex(key["private_seed_hex"])
        rule = b"a6gw TEST ONLY vector key " + entry["key_id"].encode()
        assert seed == hashlib.sha256(rule).digest()


def test_rfc8785_section_3_2_3_sample_through_the_gateways_encoder() -> None:
    sample = JCS["sample"]
    assert canonical_bytes(json.loads(sample["input"])).decode("utf-8") == sample["canonical"]


@pytest.mark.parametrize("n", JCS["numbers"], ids=[n["ieee754_hex"] for n in JCS["numbers"]])
def test_rfc8785_appendix_b_numbers_through_the_gateways_encoder(n: dict[str, str]) -> None:
    value = double(n["ieee754_hex"])
    assert canonical_bytes([value]).decode("ascii") == f"[{n['canonical']}]"
    if value.is_integer() and abs(value) < 2**53:  # as a JSON integer, too (the fast path)
        assert canonical_bytes({"n": int(value)}) == f'{{"n":{n["canonical"]}}}'.encode()


@pytest.mark.parametrize("v", VECTORS, ids=ids(VECTORS))
def test_every_envelope_matches_the_published_schemas(v: dict[str, Any]) -> None:
    folder = Path(schemas_json.__file__).resolve().parent / "json"
    envelope = json.loads((folder / "envelope.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(envelope).validate(v["envelope"])
    name = v["envelope"]["type"]
    data = json.loads((folder / f"{name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator(data).validate(v["envelope"]["data"])
