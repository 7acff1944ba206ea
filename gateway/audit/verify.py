"""Verify RFC 9162 inclusion and consistency proofs.

Every check of untrusted input fails with :class:`VerificationError` carrying the
got/want values. The algorithms follow RFC 9162 §2.1.3.2 and §2.1.4.2 step by step;
the expected proof length is checked up front so that short, long or padded proofs
fail with a precise message instead of a bare root mismatch.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.audit.rfc6962 import HASH_SIZE, node_hash
from gateway.errors import VerificationError

__all__ = [
    "inclusion_proof_length",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what} has {len(value)} bytes, want {HASH_SIZE}")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, node in enumerate(proof):
        _check_hash(f"proof[{i}]", node)


def inclusion_proof_length(index: int, size: int) -> int:
    """Return the length of an inclusion proof for leaf ``index`` in a tree of ``size``.

    ``inner`` levels lie below the point where the paths to ``index`` and to the last
    leaf diverge; above it, one node is needed per 1-bit of ``index >> inner``
    (the "border"). Preconditions: ``0 <= index < size``.
    """
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def root_from_inclusion_proof(
    *, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """Return the root implied by an inclusion proof (RFC 9162 §2.1.3.2 steps 1-3).

    Preconditions: none; all arguments may be untrusted. The caller must compare the
    result with a trusted root (or use :func:`verify_inclusion`).

    :raises VerificationError: if ``index``/``size`` are out of range, a hash has the
        wrong length, or the proof has the wrong number of nodes.
    """
    if index < 0 or size < 0:
        raise VerificationError(f"negative index {index} or size {size}")
    if index >= size:  # step 1
        raise VerificationError(f"index {index} out of range for tree size {size}")
    _check_hash("leaf hash", leaf_hash)
    _check_proof_hashes(proof)
    want = inclusion_proof_length(index, size)
    if len(proof) != want:
        raise VerificationError(
            f"inclusion proof for index {index} in size {size} has {len(proof)} nodes, want {want}"
        )
    fn, sn, r = index, size - 1, leaf_hash  # step 2
    for p in proof:  # step 3
        if sn == 0:
            raise VerificationError("inclusion proof longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:  # only when fn == sn and fn is even
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 4 (first half); unreachable after the length check
        raise VerificationError("inclusion proof shorter than the path to the root")
    return r


def verify_inclusion(
    *, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Preconditions: ``root`` is trusted (e.g. from a verified checkpoint); everything
    else may be untrusted. Implements RFC 9162 §2.1.3.2.

    :raises VerificationError: on any failure, with the computed and expected roots.
    """
    _check_hash("root", root)
    got = root_from_inclusion_proof(index=index, size=size, leaf_hash=leaf_hash, proof=proof)
    if got != root:
        raise VerificationError(
            f"inclusion proof for index {index} in size {size}: computed root {got.hex()}, "
            f"want {root.hex()}"
        )


def verify_consistency(
    *, size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (size1, root1) is a prefix of the tree (size2, root2).

    Preconditions: both roots are trusted; the proof may be untrusted. Implements
    RFC 9162 §2.1.4.2 with these edge cases (matching transparency-dev/merkle):

    - ``size1 == 0`` is always rejected, even when ``size2 == 0``: a consistency
      proof from the empty tree is meaningless.
    - ``size1 == size2``: the proof must be empty and the roots byte-equal (roots are
      compared as given, as RFC 9162 step 1 says; no proof hashing happens).
    - otherwise every hash must be ``HASH_SIZE`` bytes and the proof must have
      exactly the expected length.

    :raises VerificationError: on any failure, with got/want values.
    """
    if _same_tree(size1, size2, root1, root2, proof):
        return
    if not proof:  # step 2
        raise VerificationError(f"empty consistency proof for sizes {size1} -> {size2}")
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    _check_proof_hashes(proof)
    # Expected length: the inclusion path of leaf size1-1 in size2, minus the levels
    # covered by the complete subtree of size1 (its trailing zero bits), plus the
    # seed node unless size1 is a power of two (then root1 is the seed).
    shift = (size1 & -size1).bit_length() - 1
    is_pow2 = size1 == 1 << shift
    want = inclusion_proof_length(size1 - 1, size2) - shift + (0 if is_pow2 else 1)
    if len(proof) != want:
        raise VerificationError(
            f"consistency proof for sizes {size1} -> {size2} has {len(proof)} nodes, want {want}"
        )
    path = [root1, *proof] if is_pow2 else list(proof)  # step 3
    fr, sr = _consistency_roots(size1, size2, path)
    if fr != root1:
        raise VerificationError(
            f"consistency proof {size1} -> {size2}: computed root1 {fr.hex()}, want {root1.hex()}"
        )
    if sr != root2:
        raise VerificationError(
            f"consistency proof {size1} -> {size2}: computed root2 {sr.hex()}, want {root2.hex()}"
        )


def _same_tree(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """Check the sizes; True when they are equal and the roots match (RFC 9162 step 1)."""
    if size1 < 0 or size2 < 0:
        raise VerificationError(f"negative size1 {size1} or size2 {size2}")
    if size2 < size1:
        raise VerificationError(f"size2 {size2} < size1 {size1}")
    if size1 == 0:
        raise VerificationError("consistency proof from the empty tree (size1 = 0) is meaningless")
    if size1 != size2:
        return False
    if proof:
        raise VerificationError(f"size1 = size2 = {size1} but the proof has {len(proof)} nodes")
    if root1 != root2:
        raise VerificationError(
            f"size1 = size2 = {size1} but root1 {root1.hex()} != root2 {root2.hex()}"
        )
    return True


def _consistency_roots(size1: int, size2: int, path: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The two roots a consistency path hashes to (RFC 9162 §2.1.4.2 steps 4 to 7)."""
    fn, sn = size1 - 1, size2 - 1  # step 4
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise VerificationError("consistency proof longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:  # step 7
        raise VerificationError("consistency proof shorter than the path to the root")
    return fr, sr
