"""Fast proofs and verifiers against the slow recursive RFC 9162 reference.

The oracle (MTH, PATH, PROOF written as the RFC's recursive definitions) lives in
tests/vectors/gen_merkle.py, which also generates the checked-in vectors; it is loaded
here by path so that both use one reference and neither imports the code under test.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.audit.proof import consistency_proof, inclusion_proof
from gateway.audit.rfc6962 import HASH_SIZE, leaf_hash, root_from_leaf_hashes
from gateway.audit.verify import (
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from gateway.errors import AuditError, VerificationError

GEN_MERKLE = Path(__file__).resolve().parents[2] / "vectors" / "gen_merkle.py"
MAX_EXHAUSTIVE = 70
MAX_PROPERTY = 300


def load_reference() -> ModuleType:
    """Import tests/vectors/gen_merkle.py by path (tests are not a package)."""
    name = "a6gw_tests_gen_merkle"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, GEN_MERKLE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


ref = load_reference()
ENTRIES = [f"entry {i}".encode() for i in range(MAX_PROPERTY + 1)]
HASHES = [leaf_hash(e) for e in ENTRIES]


@cache
def ref_root(size: int) -> bytes:
    return bytes(ref.ref_mth(ENTRIES[:size]))


def flip_bit(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# --- exhaustive comparison with the oracle ------------------------------------------


@pytest.mark.parametrize("size", range(MAX_EXHAUSTIVE + 1))
def test_root_matches_reference(size: int) -> None:
    assert root_from_leaf_hashes(HASHES[:size]) == ref_root(size)


@pytest.mark.parametrize("size", range(1, MAX_EXHAUSTIVE + 1))
def test_inclusion_proofs_match_reference_and_verify(size: int) -> None:
    root = ref_root(size)
    for index in range(size):
        proof = inclusion_proof(index, HASHES[:size])
        assert proof == ref.ref_path(index, ENTRIES[:size]), index
        verify_inclusion(index=index, size=size, leaf_hash=HASHES[index], proof=proof, root=root)


@pytest.mark.parametrize("size2", range(1, MAX_EXHAUSTIVE + 1))
def test_consistency_proofs_match_reference_and_verify(size2: int) -> None:
    root2 = ref_root(size2)
    for size1 in range(1, size2 + 1):
        proof = consistency_proof(size1, HASHES[:size2])
        assert proof == ref.ref_proof(size1, ENTRIES[:size2]), size1
        verify_consistency(
            size1=size1, size2=size2, root1=ref_root(size1), root2=root2, proof=proof
        )


def test_proofs_verify_in_a_100k_leaf_tree_across_subtree_edges() -> None:
    """Inclusion at the ends and either side of 2^16, and consistency from an odd size; how long
    proofs take is measured by ``make bench`` (bench_audit), not here."""
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(100_000)]
    root = root_from_leaf_hashes(hashes)
    for index in (0, 12_345, 65_535, 65_536, 99_999):
        proof = inclusion_proof(index, hashes)
        verify_inclusion(index=index, size=100_000, leaf_hash=hashes[index], proof=proof, root=root)
    old_root = root_from_leaf_hashes(hashes[:70_001])
    proof = consistency_proof(70_001, hashes)
    verify_consistency(size1=70_001, size2=100_000, root1=old_root, root2=root, proof=proof)


# --- builder preconditions ----------------------------------------------------------


@pytest.mark.parametrize("index", [-1, 3, 4])
def test_inclusion_proof_rejects_bad_index(index: int) -> None:
    with pytest.raises(AuditError, match="out of range"):
        inclusion_proof(index, HASHES[:3])


@pytest.mark.parametrize("size1", [-1, 0, 4])
def test_consistency_proof_rejects_bad_size1(size1: int) -> None:
    with pytest.raises(AuditError, match="size1"):
        consistency_proof(size1, HASHES[:3])


# --- verifier edge cases ------------------------------------------------------------


def test_inclusion_rejects_index_out_of_range() -> None:
    with pytest.raises(VerificationError, match="index 1 out of range for tree size 1"):
        verify_inclusion(index=1, size=1, leaf_hash=HASHES[0], proof=[], root=ref_root(1))
    with pytest.raises(VerificationError, match="out of range"):
        verify_inclusion(index=0, size=0, leaf_hash=HASHES[0], proof=[], root=ref_root(0))
    with pytest.raises(VerificationError, match="negative"):
        verify_inclusion(index=-1, size=2, leaf_hash=HASHES[0], proof=[], root=ref_root(2))


def test_inclusion_rejects_wrong_hash_lengths() -> None:
    proof = inclusion_proof(1, HASHES[:4])
    root = ref_root(4)
    with pytest.raises(VerificationError, match="leaf hash has 31 bytes, want 32"):
        verify_inclusion(index=1, size=4, leaf_hash=HASHES[1][:31], proof=proof, root=root)
    with pytest.raises(VerificationError, match=r"proof\[1\] has 33 bytes"):
        bad = [proof[0], proof[1] + b"\x00"]
        verify_inclusion(index=1, size=4, leaf_hash=HASHES[1], proof=bad, root=root)
    with pytest.raises(VerificationError, match="root has 0 bytes"):
        verify_inclusion(index=1, size=4, leaf_hash=HASHES[1], proof=proof, root=b"")


def test_inclusion_reports_lengths_and_roots() -> None:
    proof = inclusion_proof(5, HASHES[:8])
    with pytest.raises(VerificationError, match="has 2 nodes, want 3"):
        root_from_inclusion_proof(index=5, size=8, leaf_hash=HASHES[5], proof=proof[:2])
    with pytest.raises(VerificationError, match=f"want {ref_root(8).hex()}"):
        verify_inclusion(index=5, size=8, leaf_hash=HASHES[4], proof=proof, root=ref_root(8))


def test_inclusion_binds_size_only_through_the_trusted_root() -> None:
    # RFC 9162 verification checks the hash chain, not the size itself: leaf 0's proof
    # in a tree of 4 also "verifies" as size 3 against the size-4 root (same chain).
    # Safe because roots are only ever trusted together with their signed size.
    proof = inclusion_proof(0, HASHES[:4])
    verify_inclusion(index=0, size=3, leaf_hash=HASHES[0], proof=proof, root=ref_root(4))
    with pytest.raises(VerificationError):
        verify_inclusion(index=0, size=3, leaf_hash=HASHES[0], proof=proof, root=ref_root(3))


def test_consistency_from_empty_tree_is_rejected_even_for_empty_target() -> None:
    for size2 in (0, 1):
        with pytest.raises(VerificationError, match="empty tree"):
            verify_consistency(
                size1=0, size2=size2, root1=ref_root(0), root2=ref_root(size2), proof=[]
            )


def test_consistency_equal_sizes() -> None:
    verify_consistency(size1=5, size2=5, root1=ref_root(5), root2=ref_root(5), proof=[])
    with pytest.raises(VerificationError, match="proof has 1 nodes"):
        verify_consistency(
            size1=5, size2=5, root1=ref_root(5), root2=ref_root(5), proof=[ref_root(5)]
        )
    with pytest.raises(VerificationError, match="root1 .* != root2"):
        verify_consistency(size1=5, size2=5, root1=ref_root(5), root2=ref_root(4), proof=[])


def test_consistency_rejects_shrinking_and_empty_proofs() -> None:
    with pytest.raises(VerificationError, match="size2 3 < size1 4"):
        verify_consistency(size1=4, size2=3, root1=ref_root(4), root2=ref_root(3), proof=[])
    with pytest.raises(VerificationError, match="empty consistency proof"):
        verify_consistency(size1=3, size2=4, root1=ref_root(3), root2=ref_root(4), proof=[])


def test_consistency_rejects_wrong_hash_lengths() -> None:
    proof = consistency_proof(3, HASHES[:7])
    args = {"size1": 3, "size2": 7, "root1": ref_root(3), "root2": ref_root(7)}
    with pytest.raises(VerificationError, match="root1 has 31 bytes"):
        verify_consistency(**{**args, "root1": ref_root(3)[:31]}, proof=proof)  # type: ignore[arg-type]
    with pytest.raises(VerificationError, match="root2 has 0 bytes"):
        verify_consistency(**{**args, "root2": b""}, proof=proof)  # type: ignore[arg-type]
    with pytest.raises(VerificationError, match=r"proof\[0\] has 0 bytes"):
        verify_consistency(**args, proof=[b"", *proof[1:]])  # type: ignore[arg-type]


def test_consistency_reports_got_and_want() -> None:
    proof = consistency_proof(3, HASHES[:7])
    with pytest.raises(VerificationError, match="has 3 nodes, want 4"):
        verify_consistency(size1=3, size2=7, root1=ref_root(3), root2=ref_root(7), proof=proof[:3])
    with pytest.raises(VerificationError, match=f"computed root2 .* want {ref_root(6).hex()}"):
        verify_consistency(size1=3, size2=7, root1=ref_root(3), root2=ref_root(6), proof=proof)


# --- property tests -----------------------------------------------------------------

sizes = st.integers(min_value=1, max_value=MAX_PROPERTY)


@st.composite
def inclusion_cases(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    size = draw(sizes)
    index = draw(st.integers(min_value=0, max_value=size - 1))
    return index, size, inclusion_proof(index, HASHES[:size])


@st.composite
def consistency_cases(draw: st.DrawFn) -> tuple[int, int, list[bytes]]:
    size2 = draw(sizes)
    size1 = draw(st.integers(min_value=1, max_value=size2))
    return size1, size2, consistency_proof(size1, HASHES[:size2])


@settings(deadline=None)
@given(inclusion_cases())
def test_generated_inclusion_proofs_verify(case: tuple[int, int, list[bytes]]) -> None:
    index, size, proof = case
    verify_inclusion(
        index=index, size=size, leaf_hash=HASHES[index], proof=proof, root=ref_root(size)
    )


@settings(deadline=None)
@given(consistency_cases())
def test_generated_consistency_proofs_verify(case: tuple[int, int, list[bytes]]) -> None:
    size1, size2, proof = case
    verify_consistency(
        size1=size1, size2=size2, root1=ref_root(size1), root2=ref_root(size2), proof=proof
    )


@settings(deadline=None)
@given(inclusion_cases(), st.data())
def test_inclusion_single_bit_flip_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    index, size, proof = case
    values = [HASHES[index], ref_root(size), *proof]
    target = data.draw(st.integers(0, len(values) - 1))
    values[target] = flip_bit(values[target], data.draw(st.integers(0, 8 * HASH_SIZE - 1)))
    with pytest.raises(VerificationError):
        verify_inclusion(
            index=index, size=size, leaf_hash=values[0], proof=values[2:], root=values[1]
        )


@settings(deadline=None)
@given(inclusion_cases(), st.data())
def test_inclusion_truncated_or_extended_proof_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    index, size, proof = case
    mutated = list(proof)
    if data.draw(st.booleans()) if proof else False:
        del mutated[data.draw(st.integers(0, len(proof) - 1))]
    else:
        extra = data.draw(st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE))
        mutated.insert(data.draw(st.integers(0, len(proof))), extra)
    with pytest.raises(VerificationError):
        verify_inclusion(
            index=index, size=size, leaf_hash=HASHES[index], proof=mutated, root=ref_root(size)
        )


@settings(deadline=None)
@given(inclusion_cases(), st.data())
def test_inclusion_wrong_index_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    index, size, proof = case
    other = data.draw(st.integers(0, MAX_PROPERTY).filter(lambda i: i != index))
    with pytest.raises(VerificationError):
        verify_inclusion(
            index=other, size=size, leaf_hash=HASHES[index], proof=proof, root=ref_root(size)
        )


def accepts(check: Callable[..., None], **kwargs: Any) -> bool:
    try:
        check(**kwargs)
    except VerificationError:
        return False
    return True


@settings(deadline=None)
@given(inclusion_cases(), st.data())
def test_inclusion_agrees_with_reference_verifier(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    # Re-read a genuine proof under another (index, size, root): the fast verifier must
    # accept exactly when the recursive reference does.
    index, size, proof = case
    small = st.integers(-1, MAX_PROPERTY + 1)
    other_index = data.draw(st.one_of(st.just(index), small))
    other_size = data.draw(st.one_of(st.just(size), small))
    root = ref_root(data.draw(st.one_of(st.just(size), st.integers(0, MAX_PROPERTY))))
    got = accepts(
        verify_inclusion,
        index=other_index,
        size=other_size,
        leaf_hash=HASHES[index],
        proof=proof,
        root=root,
    )
    assert got == ref.ref_verify_inclusion(other_index, other_size, HASHES[index], proof, root)


@settings(deadline=None)
@given(consistency_cases(), st.data())
def test_consistency_single_bit_flip_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    size1, size2, proof = case
    values = [ref_root(size1), ref_root(size2), *proof]
    target = data.draw(st.integers(0, len(values) - 1))
    values[target] = flip_bit(values[target], data.draw(st.integers(0, 8 * HASH_SIZE - 1)))
    with pytest.raises(VerificationError):
        verify_consistency(
            size1=size1, size2=size2, root1=values[0], root2=values[1], proof=values[2:]
        )


@settings(deadline=None)
@given(consistency_cases(), st.data())
def test_consistency_truncated_or_extended_proof_fails(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    size1, size2, proof = case
    mutated = list(proof)
    if data.draw(st.booleans()) if proof else False:
        del mutated[data.draw(st.integers(0, len(proof) - 1))]
    else:
        extra = data.draw(st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE))
        mutated.insert(data.draw(st.integers(0, len(proof))), extra)
    with pytest.raises(VerificationError):
        verify_consistency(
            size1=size1, size2=size2, root1=ref_root(size1), root2=ref_root(size2), proof=mutated
        )


@settings(deadline=None)
@given(consistency_cases(), st.data())
def test_consistency_agrees_with_reference_verifier(
    case: tuple[int, int, list[bytes]], data: st.DataObject
) -> None:
    size1, size2, proof = case
    small = st.integers(-1, MAX_PROPERTY)
    new1 = data.draw(st.one_of(st.just(size1), small))
    new2 = data.draw(st.one_of(st.just(size2), small))
    root1 = ref_root(data.draw(st.one_of(st.just(size1), st.integers(0, MAX_PROPERTY))))
    root2 = ref_root(data.draw(st.one_of(st.just(size2), st.integers(0, MAX_PROPERTY))))
    got = accepts(verify_consistency, size1=new1, size2=new2, root1=root1, root2=root2, proof=proof)
    assert got == ref.ref_verify_consistency(new1, new2, root1, root2, proof)
