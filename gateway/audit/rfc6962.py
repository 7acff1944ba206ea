"""RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.

All functions are pure and work on plain ``bytes``. Leaves are identified by their
*leaf hashes* (``leaf_hash(entry)``), never by the raw entries, so callers hash
each entry once and pass the hashes around.

References: RFC 6962 §2.1 and RFC 9162 §2.1.1 (identical for SHA-256).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from gateway.errors import AuditError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LEAF_PREFIX",
    "NODE_PREFIX",
    "leaf_hash",
    "node_hash",
    "range_root",
    "root_from_leaf_hashes",
    "split_point",
]

#: Size in bytes of every hash in the tree (SHA-256).
HASH_SIZE = 32
#: Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
LEAF_PREFIX = b"\x00"
#: Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
NODE_PREFIX = b"\x01"
#: MTH({}) = SHA-256() - the root of the empty tree (RFC 9162 §2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Return ``SHA-256(0x00 || data)``, the hash of one log entry (RFC 9162 §2.1.1)."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return ``SHA-256(0x01 || left || right)``, an interior node (RFC 9162 §2.1.1).

    Preconditions: ``left`` and ``right`` are ``HASH_SIZE`` bytes. This is not checked
    here (it is a hot path); the verifiers check the lengths of untrusted input.
    """
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """Return k, the largest power of two strictly smaller than ``n`` (k < n <= 2k).

    This is where RFC 9162 §2.1.1 splits ``D[n]`` into ``D[0:k]`` and ``D[k:n]``.

    :raises AuditError: if ``n < 2`` (a tree of 0 or 1 leaves is not split).
    """
    if n < 2:
        raise AuditError(f"split_point needs n >= 2, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


def range_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """Return ``MTH(D[start:end])``, the root of the subtree over a range of leaves.

    Iterative and O(end - start): each level pairs adjacent nodes left to right and
    carries a lone rightmost node up unchanged. For a left-full tree this is exactly
    the recursive split at the largest power of two < n (RFC 9162 §2.1.1).

    Preconditions: ``0 <= start <= end <= len(leaf_hashes)``; each element is a leaf
    hash of ``HASH_SIZE`` bytes.

    :raises AuditError: if the range is out of bounds.
    """
    if not 0 <= start <= end <= len(leaf_hashes):
        raise AuditError(f"range [{start}, {end}) outside 0..{len(leaf_hashes)} leaves")
    if start == end:
        return EMPTY_ROOT
    level = [leaf_hashes[i] for i in range(start, end)]
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])  # lone right node moves up a level as is
        level = paired
    return level[0]


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return ``MTH(D[n])`` for the tree whose leaf hashes are ``hashes`` (O(n)).

    Preconditions: each element is a leaf hash (``leaf_hash(entry)``), not a raw entry.
    The empty sequence gives ``EMPTY_ROOT``.
    """
    return range_root(hashes, 0, len(hashes))
