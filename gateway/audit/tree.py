"""The Merkle tree as stored nodes: perfect subtrees, the append frontier, proof plans.

A stored tree keeps the hash of every *perfect* subtree, named ``(level, index)``: it covers
leaves ``[index << level, (index + 1) << level)``; level 0 holds the leaf hashes. Appending a
leaf creates at most one node per level, and only O(1) of them on average. Any range
``MTH(D[lo:hi])`` that RFC 9162's recursion asks for splits into O(log n) perfect subtrees
(:func:`perfect_subtrees`), whose hashes fold right to left into the range's hash
(:func:`fold`). Proofs are planned as lists of ranges (:func:`inclusion_ranges`,
:func:`consistency_ranges`), so a store answers them with one batch of O(log n) node reads.

All functions are pure. References: RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH), §2.1.4.1
(SUBPROOF).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from gateway.audit.rfc6962 import EMPTY_ROOT, node_hash, split_point
from gateway.errors import AuditError

__all__ = [
    "Frontier",
    "Node",
    "consistency_ranges",
    "fold",
    "inclusion_ranges",
    "perfect_subtrees",
    "range_hashes",
]

#: ``(level, index)``: the perfect subtree over leaves ``[index << level, (index + 1) << level)``.
Node = tuple[int, int]


def perfect_subtrees(lo: int, hi: int) -> list[Node]:
    """The perfect subtrees that tile ``[lo, hi)`` as RFC 9162's recursion splits it.

    Greedy from the left: at each step the largest aligned power of two that fits. For the
    ranges the recursion produces (``lo`` a multiple of the range's split size, or the
    right edge of the tree) this matches ``MTH``'s own split, so :func:`fold` of the
    subtrees' hashes is ``MTH(D[lo:hi])``.

    :raises AuditError: if ``not 0 <= lo <= hi``.
    """
    if not 0 <= lo <= hi:
        raise AuditError(f"range [{lo}, {hi}) is not a range of leaves")
    nodes: list[Node] = []
    while lo < hi:
        level = (lo & -lo).bit_length() - 1 if lo else (hi - lo).bit_length() - 1
        while (1 << level) > hi - lo:
            level -= 1
        nodes.append((level, lo >> level))
        lo += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """``MTH`` of a range from its perfect subtrees' hashes, left to right (empty: MTH({}))."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form ``PATH(index, D[size])``, ordered leaf upward.

    :raises AuditError: unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise AuditError(f"inclusion proof: index {index} out of range for tree size {size}")
    ranges: list[tuple[int, int]] = []
    lo, hi, m = 0, size, index
    while hi - lo > 1:  # RFC 9162 §2.1.3.1, unrolled top-down
        k = split_point(hi - lo)
        if m < k:  # PATH(m, D[0:k]) : MTH(D[k:n])
            ranges.append((lo + k, hi))
            hi = lo + k
        else:  # PATH(m - k, D[k:n]) : MTH(D[0:k])
            ranges.append((lo, lo + k))
            lo, m = lo + k, m - k
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form ``PROOF(size1, D[size2])``, in proof order.

    :raises AuditError: unless ``0 < size1 <= size2`` (a proof from the empty tree is
        meaningless, RFC 9162 §2.1.4).
    """
    if not 0 < size1 <= size2:
        raise AuditError(f"consistency proof: size1 {size1} not in 1..{size2}")
    ranges: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:  # RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b), unrolled
        k = split_point(hi - lo)
        if m <= k:  # SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
            ranges.append((lo + k, hi))
            hi = lo + k
        else:  # SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    if not complete:  # SUBPROOF(m, D[m], false) = [MTH(D[m])]
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def range_hashes(
    ranges: Sequence[tuple[int, int]], read: Callable[[list[Node]], Mapping[Node, bytes]]
) -> list[bytes]:
    """The hash of each range, from one call to ``read`` for all the nodes they need.

    :raises AuditError: if ``read`` does not return a node that was asked for.
    """
    plans = [perfect_subtrees(lo, hi) for lo, hi in ranges]
    wanted = sorted({node for plan in plans for node in plan})
    got = read(wanted)
    missing = [node for node in wanted if node not in got]
    if missing:
        raise AuditError(f"the store has no hash for tree nodes {missing[:5]}")
    return [fold([got[node] for node in plan]) for plan in plans]


@dataclass
class Frontier:
    """The perfect subtrees of the current tree (its binary decomposition), largest first.

    ``append`` adds a leaf and returns every node it completes (the leaf included), which
    is what a store writes; ``root`` is ``MTH`` of the whole tree.
    """

    size: int = 0
    nodes: list[tuple[int, int, bytes]] = field(default_factory=list)  # (level, index, hash)

    @classmethod
    def of(cls, size: int, hashes: Mapping[Node, bytes]) -> Frontier:
        """The frontier of a tree of ``size`` leaves, from its stored nodes.

        :raises AuditError: if a node of the decomposition is missing.
        """
        nodes = []
        for node in perfect_subtrees(0, size):
            if node not in hashes:
                raise AuditError(f"the store has no hash for tree node {node}")
            nodes.append((*node, hashes[node]))
        return cls(size, nodes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        created = [(0, self.size, leaf)]
        level, index, h = created[0]
        while self.nodes and self.nodes[-1][0] == level:
            left = self.nodes.pop()
            level, index, h = level + 1, index >> 1, node_hash(left[2], h)
            created.append((level, index, h))
        self.nodes.append((level, index, h))
        self.size += 1
        return created

    def extend(self, leaves: Iterable[bytes]) -> list[tuple[int, int, bytes]]:
        return [node for leaf in leaves for node in self.append(leaf)]

    def root(self) -> bytes:
        return fold([h for _, _, h in self.nodes])
