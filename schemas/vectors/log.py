"""Checkpoints (C2SP signed-note, tlog-checkpoint) and RFC 9162 proofs of a small log
(``log.json``).

The tree is the recursive definition of RFC 9162 §2.1.1 (MTH), §2.1.3.1 (PATH) and
§2.1.4.1 (PROOF/SUBPROOF), written for clarity, not speed. A checkpoint is the note text
``<origin>\\n<size>\\n<base64 root>\\n``, a blank line, and ``— <key name>
<base64(4-byte key id || Ed25519 signature of the text)>\\n`` (U+2014).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import rfc8785

from schemas.vectors.keys import LOG, LOG_ORIGIN, STRANGER, TestKey, note_key_id

#: The log's entries: the leaves are their bytes as they are (here small JCS texts).
ENTRIES = tuple(
    rfc8785.dumps({"entry_version": 1, "kind": "vector", "seq": i, "note": text})
    for i, text in enumerate(("first", "second", "third", "fourth", "fifth", "sixth", "seventh"))
)
INCLUSIONS = ((0, 7), (3, 7), (6, 7), (2, 4), (0, 1))
CONSISTENCIES = ((4, 7), (3, 7), (1, 7), (6, 7), (7, 7))
CHECKPOINT_SIZES = (4, 7)


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: tuple[bytes, ...]) -> bytes:
    """MTH(D[n]), RFC 9162 §2.1.1."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaf_hash(leaves[0])
    k = _split(len(leaves))
    return _node(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: tuple[bytes, ...]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 §2.1.3.1."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: tuple[bytes, ...], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 §2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = _split(n)
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def checkpoint(size: int, key: TestKey = LOG, name: str = LOG_ORIGIN) -> dict[str, str]:
    """The checkpoint of the first ``size`` entries, signed by ``key`` under ``name``."""
    text = f"{LOG_ORIGIN}\n{size}\n{_b64(mth(ENTRIES[:size]))}\n"
    blob = note_key_id(name, key.public_raw) + key.sign(text.encode("utf-8"))
    return {"text": text, "note": f"{text}\n\u2014 {name} {_b64(blob)}\n"}


def _checkpoints() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"name": f"checkpoint-{size}", "size": size, **checkpoint(size), "expect": {"valid": True}}
        for size in CHECKPOINT_SIZES
    ]
    good = checkpoint(7)
    bad = {"valid": False, "code": "AUD-VERIFY"}
    out.append(
        {
            "name": "checkpoint-7-size-changed",
            "size": 7,
            "text": good["text"].replace("\n7\n", "\n8\n"),
            "note": good["note"].replace("\n7\n", "\n8\n"),
            "expect": bad | {"why": "the signature does not cover the altered text"},
        }
    )
    out.append(
        {
            "name": "checkpoint-7-other-key",
            "size": 7,
            **checkpoint(7, STRANGER),
            "expect": bad | {"why": "signed under the log's name by a key that is not the log's"},
        }
    )
    return out


def log_document() -> dict[str, Any]:
    """``log.json``."""
    roots = {str(n): mth(ENTRIES[:n]).hex() for n in range(1, len(ENTRIES) + 1)}
    inclusion = [
        {
            "index": i,
            "size": n,
            "leaf_hash": leaf_hash(ENTRIES[i]).hex(),
            "root": roots[str(n)],
            "proof": [h.hex() for h in path(i, ENTRIES[:n])],
        }
        for i, n in INCLUSIONS
    ]
    consistency = [
        {
            "size1": m,
            "size2": n,
            "root1": roots[str(m)],
            "root2": roots[str(n)],
            "proof": [h.hex() for h in subproof(m, ENTRIES[:n], True)],
        }
        for m, n in CONSISTENCIES
    ]
    return {
        "description": "A log of 7 entries: RFC 9162 hashes and proofs (SHA-256, hex), and "
        "C2SP checkpoints signed by the TEST-ONLY log key (keys.json)",
        "origin": LOG_ORIGIN,
        "vkey": LOG.describe()["vkey"],
        "entries": [
            {"index": i, "utf8": e.decode("utf-8"), "hex": e.hex(), "leaf_hash": leaf_hash(e).hex()}
            for i, e in enumerate(ENTRIES)
        ],
        "roots": roots,
        "checkpoints": _checkpoints(),
        "inclusion": inclusion,
        "consistency": consistency,
    }
