"""schemas/vectors/log.json against the gateway's audit code and the repository's other
RFC 9162 reference (tests/vectors/gen_merkle.py), and the vectors' C2SP key encoding
against the signed-note example of the C2SP specification.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.audit.note import open_checkpoint, parse_vkey, verify_note
from gateway.audit.proof import consistency_proof, inclusion_proof
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.verify import verify_consistency, verify_inclusion
from gateway.errors import GatewayError, VerificationError
from schemas.vectors.keys import vkey
from tests.unit.audit.test_note import EXAMPLE_NOTE, EXAMPLE_TEXT, EXAMPLE_VKEY
from tests.unit.vectors._load import ids, load
from tests.vectors import gen_merkle as ref

LOG = load("log.json")
ENTRIES = [bytes.fromhex(e["hex"]) for e in LOG["entries"]]
HASHES = [leaf_hash(e) for e in ENTRIES]
VERIFIER = parse_vkey(LOG["vkey"])


def _h(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def test_entries_leaf_hashes_and_roots() -> None:
    for e, raw in zip(LOG["entries"], ENTRIES, strict=True):
        assert raw == e["utf8"].encode("utf-8")
        assert leaf_hash(raw).hex() == e["leaf_hash"] == ref.ref_leaf(raw).hex()
    for size, root in LOG["roots"].items():
        n = int(size)
        assert root_from_leaf_hashes(HASHES[:n]).hex() == root == ref.ref_mth(ENTRIES[:n]).hex()


@pytest.mark.parametrize("p", LOG["inclusion"], ids=lambda p: f"{p['index']}-in-{p['size']}")
def test_inclusion_proofs(p: dict[str, Any]) -> None:
    proof, leaf, root = _h(p["proof"]), bytes.fromhex(p["leaf_hash"]), bytes.fromhex(p["root"])
    i, n = p["index"], p["size"]
    verify_inclusion(index=i, size=n, leaf_hash=leaf, proof=proof, root=root)
    assert inclusion_proof(i, HASHES[:n]) == proof == ref.ref_path(i, ENTRIES[:n])
    assert ref.ref_verify_inclusion(i, n, leaf, proof, root)
    if proof:  # one flipped bit: refused by both
        bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
        with pytest.raises(VerificationError):
            verify_inclusion(index=i, size=n, leaf_hash=leaf, proof=bad, root=root)
        assert not ref.ref_verify_inclusion(i, n, leaf, bad, root)


@pytest.mark.parametrize("p", LOG["consistency"], ids=lambda p: f"{p['size1']}-to-{p['size2']}")
def test_consistency_proofs(p: dict[str, Any]) -> None:
    m, n, proof = p["size1"], p["size2"], _h(p["proof"])
    r1, r2 = bytes.fromhex(p["root1"]), bytes.fromhex(p["root2"])
    verify_consistency(size1=m, size2=n, root1=r1, root2=r2, proof=proof)
    assert consistency_proof(m, HASHES[:n]) == proof == ref.ref_proof(m, ENTRIES[:n])
    assert ref.ref_verify_consistency(m, n, r1, r2, proof)
    if proof:
        with pytest.raises(VerificationError):
            verify_consistency(size1=m, size2=n, root1=r1, root2=r2, proof=proof[:-1])
        assert not ref.ref_verify_consistency(m, n, r1, r2, proof[:-1])


@pytest.mark.parametrize("c", LOG["checkpoints"], ids=ids(LOG["checkpoints"]))
def test_checkpoints(c: dict[str, Any]) -> None:
    if c["expect"]["valid"]:
        checkpoint = open_checkpoint(c["note"], VERIFIER)
        assert checkpoint.to_text() == c["text"]
        assert (checkpoint.origin, checkpoint.size) == (LOG["origin"], c["size"])
        assert checkpoint.root.hex() == LOG["roots"][str(c["size"])]
    else:
        with pytest.raises(GatewayError) as caught:
            open_checkpoint(c["note"], VERIFIER)
        assert caught.value.code == c["expect"]["code"]


def test_the_vectors_key_encoding_gives_the_c2sp_example() -> None:
    # c2sp.org/signed-note, the Ed25519 example: name, key id and key in one line
    name, _, encoded = EXAMPLE_VKEY.split("+", 2)
    public = base64.b64decode(encoded)[1:]
    assert vkey(name, public) == EXAMPLE_VKEY
    assert verify_note(EXAMPLE_NOTE, [parse_vkey(EXAMPLE_VKEY)]) == EXAMPLE_TEXT
