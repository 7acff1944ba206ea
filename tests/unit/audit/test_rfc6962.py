"""Known answers and security properties of the RFC 6962 / RFC 9162 hasher."""

from __future__ import annotations

import hashlib

import pytest

from gateway.audit.rfc6962 import (
    EMPTY_ROOT,
    HASH_SIZE,
    leaf_hash,
    node_hash,
    range_root,
    root_from_leaf_hashes,
    split_point,
)
from gateway.errors import AuditError

# Leaf inputs and roots for tree sizes 0..8: transparency-dev/merkle testonly/constants.go
# (LeafInputs, RootHashes), the same trees as the RFC 6962 test data.
CONSTANT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CONSTANT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_empty_root_is_sha256_of_nothing() -> None:
    # echo -n | sha256sum
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


def test_leaf_hash_of_empty_entry() -> None:
    # echo -n 00 | xxd -r -p | sha256sum  (differs from the empty root)
    want = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert leaf_hash(b"").hex() == want
    assert leaf_hash(b"") != EMPTY_ROOT


def test_leaf_hash_known_answer() -> None:
    # echo -n 004C313233343536 | xxd -r -p | sha256sum  (rfc6962/rfc6962_test.go)
    want = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert leaf_hash(b"L123456").hex() == want


def test_node_hash_known_answer() -> None:
    # echo -n 014E3132334E343536 | xxd -r -p | sha256sum  (rfc6962/rfc6962_test.go)
    want = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    assert node_hash(b"N123", b"N456").hex() == want


def test_hashes_follow_the_definition() -> None:
    assert leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert node_hash(b"l", b"r") == hashlib.sha256(b"\x01lr").digest()
    assert len(leaf_hash(b"x")) == HASH_SIZE


@pytest.mark.parametrize("size", range(len(CONSTANT_ROOTS)))
def test_roots_match_rfc6962_constants(size: int) -> None:
    hashes = [leaf_hash(d) for d in CONSTANT_LEAVES[:size]]
    assert root_from_leaf_hashes(hashes).hex() == CONSTANT_ROOTS[size]


def test_leaf_node_domain_separation() -> None:
    # A node is not the leaf hash of its children's concatenation (second preimage).
    h1, h2 = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert h1 != h2
    assert node_hash(h1, h2) != leaf_hash(h1 + h2)
    # ...and a one-leaf tree whose entry is 0x01||l||r is not the two-leaf tree.
    assert root_from_leaf_hashes([leaf_hash(b"\x01" + h1 + h2)]) != node_hash(h1, h2)


def test_node_hash_is_order_sensitive() -> None:
    h1, h2 = leaf_hash(b"Hello"), leaf_hash(b"World")
    assert node_hash(h1, h2) != node_hash(h2, h1)
    assert root_from_leaf_hashes([h1, h2]) != root_from_leaf_hashes([h2, h1])


def test_no_duplication_of_odd_nodes() -> None:
    # Unlike Bitcoin, [a, b, c] is not [a, b, c, c]: the lone node moves up unchanged.
    a, b, c = (leaf_hash(x) for x in (b"a", b"b", b"c"))
    assert root_from_leaf_hashes([a, b, c]) == node_hash(node_hash(a, b), c)
    assert root_from_leaf_hashes([a, b, c]) != root_from_leaf_hashes([a, b, c, c])


def test_range_root_matches_sliced_root() -> None:
    hashes = [leaf_hash(bytes([i])) for i in range(13)]
    for start in range(14):
        for end in range(start, 14):
            assert range_root(hashes, start, end) == root_from_leaf_hashes(hashes[start:end])


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (3, 2), (0, 6)])
def test_range_root_rejects_bad_ranges(start: int, end: int) -> None:
    with pytest.raises(AuditError, match="outside"):
        range_root([EMPTY_ROOT] * 5, start, end)


def test_split_point() -> None:
    assert [split_point(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]
    with pytest.raises(AuditError):
        split_point(1)
