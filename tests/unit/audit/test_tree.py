"""Stored-node trees: decompositions, the append frontier, proofs from O(log n) nodes."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.proof import consistency_proof, inclusion_proof
from gateway.audit.rfc6962 import EMPTY_ROOT, leaf_hash, range_root, root_from_leaf_hashes
from gateway.audit.tree import (
    Frontier,
    Node,
    consistency_ranges,
    fold,
    inclusion_ranges,
    perfect_subtrees,
    range_hashes,
)
from gateway.audit.verify import verify_consistency, verify_inclusion
from gateway.errors import AuditError


def leaves(n: int) -> list[bytes]:
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


def stored(hashes: list[bytes]) -> dict[Node, bytes]:
    """Every perfect subtree's hash, as a store keeps them (built by the frontier)."""
    frontier = Frontier()
    return {(level, index): h for level, index, h in frontier.extend(hashes)}


def test_perfect_subtrees_tile_the_range() -> None:
    assert perfect_subtrees(0, 0) == []
    assert perfect_subtrees(0, 1) == [(0, 0)]
    assert perfect_subtrees(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert perfect_subtrees(8, 13) == [(2, 2), (0, 12)]
    assert perfect_subtrees(0, 1 << 20) == [(20, 0)]
    for lo, hi in [(0, 1000), (3, 77), (64, 100)]:
        covered = [
            i
            for level, index in perfect_subtrees(lo, hi)
            for i in range(index << level, (index + 1) << level)
        ]
        assert covered == list(range(lo, hi))
    with pytest.raises(AuditError):
        perfect_subtrees(5, 4)


def test_fold_of_nothing_is_the_empty_root() -> None:
    assert fold([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("n", [*range(40), 63, 64, 65, 127, 128, 129, 1000, 1025])
def test_frontier_root_and_nodes_match_the_reference(n: int) -> None:
    hashes = leaves(n)
    frontier = Frontier()
    created = frontier.extend(hashes)
    assert frontier.size == n
    assert frontier.root() == root_from_leaf_hashes(hashes)
    for level, index, h in created:
        assert h == range_root(hashes, index << level, (index + 1) << level)
    assert len(created) < 2 * n + 1  # each append creates O(1) nodes on average
    # A frontier reloaded from the stored nodes goes on exactly as the original.
    again = Frontier.of(n, {(lv, ix): h for lv, ix, h in created})
    more = leaves(n + 5)[n:]
    assert again.extend(more) == frontier.extend(more)
    assert again.root() == frontier.root()


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_from_stored_nodes_equals_the_reference(case: tuple[int, int]) -> None:
    n, index = case
    hashes = leaves(n)
    nodes = stored(hashes)
    proof = range_hashes(inclusion_ranges(index, n), lambda want: nodes)
    assert proof == inclusion_proof(index, hashes)
    verify_inclusion(
        index=index,
        size=n,
        leaf_hash=hashes[index],
        proof=proof,
        root=root_from_leaf_hashes(hashes),
    )


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_from_stored_nodes_equals_the_reference(case: tuple[int, int]) -> None:
    m, n = case
    hashes = leaves(n)
    nodes = stored(hashes)
    proof = range_hashes(consistency_ranges(m, n), lambda want: nodes)
    assert proof == consistency_proof(m, hashes)
    verify_consistency(
        size1=m,
        size2=n,
        root1=root_from_leaf_hashes(hashes[:m]),
        root2=root_from_leaf_hashes(hashes),
        proof=proof,
    )


def test_proofs_read_logarithmically_many_nodes() -> None:
    n = 1_000_003
    asked: list[list[Node]] = []

    def read(want: list[Node]) -> dict[Node, bytes]:
        asked.append(want)
        return dict.fromkeys(want, b"\0" * 32)

    for index in (0, 1, 500_000, n - 1):
        asked.clear()
        range_hashes(inclusion_ranges(index, n), read)
        assert len(asked) == 1
        assert len(asked[0]) <= 2 * n.bit_length()


def test_a_missing_node_is_an_error() -> None:
    with pytest.raises(AuditError, match="no hash for tree nodes"):
        range_hashes(inclusion_ranges(3, 8), lambda want: {})
    with pytest.raises(AuditError, match="no hash for tree node"):
        Frontier.of(5, {})


def test_ranges_refuse_bad_sizes() -> None:
    with pytest.raises(AuditError):
        inclusion_ranges(5, 5)
    with pytest.raises(AuditError):
        consistency_ranges(0, 5)
    with pytest.raises(AuditError):
        consistency_ranges(6, 5)
    assert consistency_ranges(5, 5) == []
