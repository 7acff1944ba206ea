"""schemas/vectors/cosignatures.json against the gateway's cosignature/v1 code: the same
keys give the same vkeys and, Ed25519 being deterministic, byte-identical cosignature
lines; each note's verdict is the gateway's."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.cosignature import (
    WitnessKey,
    cosigned_message,
    parse_witness_vkey,
    verified_cosignatures,
)
from gateway.audit.note import Checkpoint, LogKey, open_checkpoint, parse_vkey
from gateway.errors import VerificationError
from tests.unit.vectors._load import ids, load

DOC = load("cosignatures.json")
WITNESSES = {short: parse_witness_vkey(w["vkey"]) for short, w in DOC["witnesses"].items()}
LOG = parse_vkey(DOC["log_vkey"])


def _key(short: str) -> WitnessKey:
    w = DOC["witnesses"][short]
    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(w["private_seed_hex"]))
    return WitnessKey(LogKey(w["name"], private))


def test_the_keys_give_the_vkeys() -> None:
    for short, w in DOC["witnesses"].items():
        assert _key(short).vkey() == w["vkey"]
        assert WITNESSES[short].key_id.hex() == w["key_id_hex"]
        assert WITNESSES[short].public_key.hex() == w["public_key_hex"]


def test_the_signed_message_example() -> None:
    text = DOC["vectors"][0]["checkpoint_text"]
    assert cosigned_message(text, DOC["time"]).hex() == DOC["signed_message_example"]["hex"]


@pytest.mark.parametrize("v", DOC["vectors"], ids=ids(DOC["vectors"]))
def test_each_vector(v: dict[str, Any]) -> None:
    assert open_checkpoint(v["note"], LOG).to_text() == v["checkpoint_text"]
    if not v["expect"]["valid"]:
        with pytest.raises(VerificationError) as err:
            verified_cosignatures(v["note"], WITNESSES.values())
        assert err.value.code == v["expect"]["code"]
        return
    _, found = verified_cosignatures(v["note"], WITNESSES.values())
    by_name = {w.name: short for short, w in WITNESSES.items()}
    assert [by_name[c.name] for c in found] == v["expect"]["witnesses"]
    assert all(c.timestamp == DOC["time"] for c in found)
    checkpoint = Checkpoint.from_text(v["checkpoint_text"])
    for short in v["expect"]["witnesses"]:  # our signer writes the very same line
        assert _key(short).cosign(checkpoint, DOC["time"]) in v["note"]
