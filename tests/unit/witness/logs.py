"""A real Merkle log for the witness tests: leaves, signed checkpoints, request bodies."""

from __future__ import annotations

from gateway.audit.note import Checkpoint, LogKey
from gateway.audit.proof import consistency_proof
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.tlog_witness import add_checkpoint_body

ORIGIN = "a6gw.example/log"


class TreeLog:
    """A log of ``entries`` whose checkpoints ``key`` signs (``tag`` makes a fork differ)."""

    def __init__(self, key: LogKey, size: int = 0, tag: str = "main") -> None:
        self.key, self.tag = key, tag
        self.hashes: list[bytes] = []
        self.grow(size)

    def grow(self, n: int) -> None:
        for _ in range(n):
            self.hashes.append(leaf_hash(f"{self.tag}-{len(self.hashes)}".encode()))

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(self.key.name, size, root_from_leaf_hashes(self.hashes[:size]))

    def note(self, size: int) -> str:
        return self.key.sign(self.checkpoint(size).to_text())

    def proof(self, old: int, size: int) -> list[bytes]:
        return [] if old in (0, size) else consistency_proof(old, self.hashes[:size])

    def body(self, old: int, size: int, note: str | None = None) -> bytes:
        """An add-checkpoint body from ``old`` to ``size`` (tlog-witness)."""
        return add_checkpoint_body(old, self.proof(old, size), note or self.note(size))
