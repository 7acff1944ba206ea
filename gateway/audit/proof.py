"""Build RFC 9162 inclusion and consistency proofs from a list of leaf hashes.

The proofs are planned as leaf ranges by :mod:`gateway.audit.tree` and each range's root
is computed with :func:`range_root`. The ranges of one proof are disjoint, so a proof costs
O(n) hashing here; a store answers the same plans from stored nodes in O(log n) reads.

References: RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF).
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.audit.rfc6962 import range_root
from gateway.audit.tree import consistency_ranges, inclusion_ranges

__all__ = ["consistency_proof", "inclusion_proof"]


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return ``PATH(index, D[n])`` with n = ``len(leaf_hashes)``, ordered leaf upward.

    Preconditions: elements are leaf hashes.

    :raises AuditError: unless ``0 <= index < len(leaf_hashes)``.
    """
    ranges = inclusion_ranges(index, len(leaf_hashes))
    return [range_root(leaf_hashes, lo, hi) for lo, hi in ranges]


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return ``PROOF(size1, D[size2])`` with size2 = ``len(leaf_hashes)``.

    Preconditions: elements are leaf hashes. For ``size1 == size2`` the proof is empty. A
    proof from the empty tree is meaningless (RFC 9162 §2.1.4) and is refused.

    :raises AuditError: unless ``0 < size1 <= len(leaf_hashes)``.
    """
    ranges = consistency_ranges(size1, len(leaf_hashes))
    return [range_root(leaf_hashes, lo, hi) for lo, hi in ranges]
