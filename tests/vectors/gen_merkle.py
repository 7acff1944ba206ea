"""Generate the project's own RFC 9162 Merkle proof vectors from a slow reference.

Usage: ``python tests/vectors/gen_merkle.py [OUTDIR]`` (default: ``tests/vectors/merkle``).

The reference below is the recursive definition of RFC 9162 §2.1.1 (MTH), §2.1.3.1
(PATH) and §2.1.4.1 (PROOF/SUBPROOF), written for clarity, not speed, and it does
not import the gateway: the vectors must not be derived from the code they test.

Files use the transparency-dev/merkle ``testdata`` field names (base64 hashes):
``inclusion/<index>-in-<size>/<desc>.json`` with ``leafIdx, treeSize, root, leafHash,
proof, desc, wantErr``; ``consistency/<size1>-to-<size2>/<desc>.json`` with
``size1, size2, root1, root2, proof, desc, wantErr``. ``wantErr`` is not assumed from
the mutation's name: a vector is valid iff its proof is exactly the reference proof
for a prefix of LEAVES with that root (every mutation here must come out invalid).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: Leaf inputs of the vector tree: empty, prefix-like, JCS-style JSON, U+2028, CR, binary.
LEAVES: tuple[bytes, ...] = (
    b"",
    b"\x00",
    b"\x01\x02",
    b"a6gw",
    b'{"event":"issue","qty":1}',
    "\u2028".encode(),
    b"line\r",
    bytes(range(32)),
)
INCLUSION_HAPPY = ((0, 1), (1, 2), (4, 5), (2, 6), (6, 7), (5, 8))
INCLUSION_MUTATED = ((2, 6),)
CONSISTENCY_HAPPY = ((1, 1), (1, 2), (2, 5), (3, 7), (4, 8), (6, 8), (8, 8))
CONSISTENCY_MUTATED = ((3, 7),)


def ref_leaf(d: bytes) -> bytes:
    """SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + d).digest()


def ref_node(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over raw entries, straight from RFC 9162 §2.1.1."""
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return ref_leaf(d[0])
    k = _k(len(d))
    return ref_node(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1), leaf upward."""
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def _subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = _k(len(d))
    if m <= k:
        return _subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return _subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


def ref_proof(m: int, d: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1), for 0 < m <= n."""
    return _subproof(m, d, True)


def _root_from_path(m: int, n: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """Rebuild MTH from PATH(m, D[n]) by the same recursion; None if the shape is wrong."""
    if n == 1:
        return None if proof else leaf
    if not proof:
        return None
    k = _k(n)
    if m < k:
        sub = _root_from_path(m, k, leaf, proof[:-1])
        return None if sub is None else ref_node(sub, proof[-1])
    sub = _root_from_path(m - k, n - k, leaf, proof[:-1])
    return None if sub is None else ref_node(proof[-1], sub)


def ref_verify_inclusion(
    idx: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> bool:
    """Accept iff ``leaf`` is a 32-byte hash and the proof, read as PATH(idx, D[size]),
    rebuilds ``root``."""
    if not 0 <= idx < size or len(leaf) != hashlib.sha256().digest_size:
        return False
    return _root_from_path(idx, size, leaf, proof) == root


def _roots_from_subproof(
    m: int, n: int, proof: Sequence[bytes], b: bool, root1: bytes
) -> tuple[bytes, bytes] | None:
    """Rebuild (MTH(D[m]), MTH(D[n])) from SUBPROOF(m, D[n], b); None if the shape is wrong."""
    if m == n:
        if b:  # the old tree is this very subtree: its root is the trusted root1
            return None if proof else (root1, root1)
        return (proof[0], proof[0]) if len(proof) == 1 else None
    if not proof:
        return None
    k = _k(n)
    if m <= k:
        sub = _roots_from_subproof(m, k, proof[:-1], b, root1)
        return None if sub is None else (sub[0], ref_node(sub[1], proof[-1]))
    sub = _roots_from_subproof(m - k, n - k, proof[:-1], False, root1)
    return None if sub is None else (ref_node(proof[-1], sub[0]), ref_node(proof[-1], sub[1]))


def ref_verify_consistency(s1: int, s2: int, r1: bytes, r2: bytes, proof: Sequence[bytes]) -> bool:
    """Accept iff the proof, read as PROOF(s1, D[s2]), rebuilds both roots (0 < s1 <= s2)."""
    if not 0 < s1 <= s2:
        return False
    return _roots_from_subproof(s1, s2, proof, True, r1) == (r1, r2)


def _flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


Mutation = Callable[[dict[str, Any]], None]


def _inclusion_mutations(size: int) -> dict[str, Mutation]:
    other_leaf = ref_leaf(b"not in the log")
    muts: dict[str, Mutation] = {
        "wrong-leaf": lambda v: v.update(leafHash=other_leaf),
        "leafIdx-plus-1": lambda v: v.update(leafIdx=v["leafIdx"] + 1),
        "leafIdx-minus-1": lambda v: v.update(leafIdx=v["leafIdx"] - 1),
        "treeSize-times-2": lambda v: v.update(treeSize=v["treeSize"] * 2),
        "treeSize-div-2": lambda v: v.update(treeSize=v["treeSize"] // 2),
        "root-of-smaller-tree": lambda v: v.update(root=ref_mth(LEAVES[: size - 1])),
        "empty-tree-root": lambda v: v.update(root=ref_mth([])),
        "proof-first-bit-flipped": lambda v: v["proof"].__setitem__(0, _flip(v["proof"][0])),
        "proof-last-bit-flipped": lambda v: v["proof"].__setitem__(-1, _flip(v["proof"][-1], 7)),
        "proof-truncated": lambda v: v["proof"].pop(),
        "proof-extended": lambda v: v["proof"].append(v["root"]),
        "proof-preceded": lambda v: v["proof"].insert(0, v["leafHash"]),
        "proof-swapped": lambda v: v["proof"].reverse(),
        "proof-short-hash": lambda v: v["proof"].__setitem__(0, v["proof"][0][:31]),
    }
    return muts


def _consistency_mutations() -> dict[str, Mutation]:
    def swap_roots(v: dict[str, Any]) -> None:
        v["root1"], v["root2"] = v["root2"], v["root1"]

    muts: dict[str, Mutation] = {
        "swapped-roots": swap_roots,
        "root1-bit-flipped": lambda v: v.update(root1=_flip(v["root1"])),
        "root2-bit-flipped": lambda v: v.update(root2=_flip(v["root2"])),
        "size1-plus-1": lambda v: v.update(size1=v["size1"] + 1),
        "size1-minus-1": lambda v: v.update(size1=v["size1"] - 1),
        "size2-times-2": lambda v: v.update(size2=v["size2"] * 2),
        "size2-div-2": lambda v: v.update(size2=v["size2"] // 2),
        "size1-zero": lambda v: v.update(size1=0),
        "proof-empty": lambda v: v["proof"].clear(),
        "proof-first-bit-flipped": lambda v: v["proof"].__setitem__(0, _flip(v["proof"][0])),
        "proof-last-bit-flipped": lambda v: v["proof"].__setitem__(-1, _flip(v["proof"][-1], 7)),
        "proof-truncated": lambda v: v["proof"].pop(),
        "proof-extended": lambda v: v["proof"].append(v["root2"]),
        "proof-preceded": lambda v: v["proof"].insert(0, v["root1"]),
    }
    return muts


def _b64(h: bytes) -> str:
    return base64.b64encode(h).decode("ascii")


def _inclusion(idx: int, size: int) -> dict[str, Any]:
    d = LEAVES[:size]
    return {
        "leafIdx": idx,
        "treeSize": size,
        "root": ref_mth(d),
        "leafHash": ref_leaf(d[idx]),
        "proof": ref_path(idx, d),
    }


def _consistency(s1: int, s2: int) -> dict[str, Any]:
    return {
        "size1": s1,
        "size2": s2,
        "root1": ref_mth(LEAVES[:s1]),
        "root2": ref_mth(LEAVES[:s2]),
        "proof": ref_proof(s1, LEAVES[:s2]),
    }


def _encode(v: dict[str, Any], desc: str, want_err: bool) -> str:
    out = {k: (_b64(x) if isinstance(x, bytes) else x) for k, x in v.items()}
    out["proof"] = [_b64(p) for p in v["proof"]]
    out["desc"] = desc
    out["wantErr"] = want_err
    return json.dumps(out, indent=2) + "\n"


def build() -> dict[str, str]:
    """Return every vector as {relative path: file text}, deterministically."""
    files: dict[str, str] = {}

    def add(kind: str, case: str, desc: str, v: dict[str, Any], valid: bool) -> None:
        files[f"{kind}/{case}/{desc}.json"] = _encode(v, desc.replace("-", " "), not valid)

    for idx, size in INCLUSION_HAPPY:
        v = _inclusion(idx, size)
        assert ref_verify_inclusion(
            v["leafIdx"], v["treeSize"], v["leafHash"], v["proof"], v["root"]
        )
        add("inclusion", f"{idx}-in-{size}", "happy-path", v, True)
    for idx, size in INCLUSION_MUTATED:
        for name, mutate in _inclusion_mutations(size).items():
            v = _inclusion(idx, size)
            mutate(v)
            ok = ref_verify_inclusion(
                v["leafIdx"], v["treeSize"], v["leafHash"], v["proof"], v["root"]
            )
            assert not ok, f"mutation {name} of {idx}-in-{size} is still valid"
            add("inclusion", f"{idx}-in-{size}", name, v, ok)
    for s1, s2 in CONSISTENCY_HAPPY:
        v = _consistency(s1, s2)
        assert ref_verify_consistency(v["size1"], v["size2"], v["root1"], v["root2"], v["proof"])
        add("consistency", f"{s1}-to-{s2}", "happy-path", v, True)
    for s1, s2 in CONSISTENCY_MUTATED:
        for name, mutate in _consistency_mutations().items():
            v = _consistency(s1, s2)
            mutate(v)
            ok = ref_verify_consistency(v["size1"], v["size2"], v["root1"], v["root2"], v["proof"])
            assert not ok, f"mutation {name} of {s1}-to-{s2} is still valid"
            add("consistency", f"{s1}-to-{s2}", name, v, ok)
    return files


def write(outdir: Path) -> list[Path]:
    """Replace ``outdir/{inclusion,consistency}`` with freshly generated vectors."""
    for kind in ("inclusion", "consistency"):
        shutil.rmtree(outdir / kind, ignore_errors=True)
    written = []
    for rel, text in sorted(build().items()):
        path = outdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    outdir = Path(argv[0]) if argv else Path(__file__).resolve().parent / "merkle"
    print(f"wrote {len(write(outdir))} vectors to {outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
