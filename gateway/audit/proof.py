"""Build RFC 9162 inclusion and consistency proofs from a list of leaf hashes.

The builders walk the recursive definitions top-down over index ranges and compute
each sibling subtree root with :func:`range_root`. The siblings of one proof cover
disjoint leaf ranges, so a proof costs O(n) hashing and O(log n) recursion depth.

References: RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF).
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.audit.rfc6962 import range_root, split_point
from gateway.errors import AuditError

__all__ = ["consistency_proof", "inclusion_proof"]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return ``PATH(index, D[n])`` with n = ``len(leaf_hashes)``, ordered leaf upward.

    Preconditions: ``0 <= index < len(leaf_hashes)``; elements are leaf hashes.

    :raises AuditError: if ``index`` is out of range.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise AuditError(f"inclusion proof: index {index} out of range for tree size {size}")
    # RFC 9162 §2.1.3.1, unrolled: descend from the root, collecting siblings top-down.
    siblings: list[bytes] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:
        k = split_point(hi - lo)
        if m < k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            siblings.append(range_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            siblings.append(range_root(leaf_hashes, lo, lo + k))
            lo, m = lo + k, m - k
    siblings.reverse()  # the proof is ordered from the leaf upward
    return siblings


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return ``PROOF(size1, D[size2])`` with size2 = ``len(leaf_hashes)``.

    Preconditions: ``0 < size1 <= size2``; elements are leaf hashes. For
    ``size1 == size2`` the proof is empty. A proof from the empty tree is meaningless
    (RFC 9162 §2.1.4) and is refused.

    :raises AuditError: if ``size1`` is out of range.
    """
    size2 = len(leaf_hashes)
    if not 0 < size1 <= size2:
        raise AuditError(f"consistency proof: size1 {size1} not in 1..{size2}")
    # RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b), unrolled; nodes collected top-down.
    nodes: list[bytes] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            nodes.append(range_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            nodes.append(range_root(leaf_hashes, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:  # SUBPROOF(m, D[m], false) = [MTH(D[m])]
        nodes.append(range_root(leaf_hashes, lo, hi))
    nodes.reverse()
    return nodes
