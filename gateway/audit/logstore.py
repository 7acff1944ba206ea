"""What every audit store offers (SQLite, the embedded default; PostgreSQL for shared use).

A store keeps the entries in log order with dense leaf indices, the hash of every perfect
subtree (see :mod:`gateway.audit.tree`), the sequencer's input positions, the writer epoch
that fences stale sequencers, and the checkpoints published so far. Proofs are answered from
stored nodes in one batch of O(log n) reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from gateway.audit.tree import Node

__all__ = ["LogStore", "StoredCheckpoint"]


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint the sequencer published: its tree size and signed note."""

    size: int
    note: str


class LogStore(Protocol):
    def close(self) -> None: ...

    def append(
        self,
        batch: Iterable[tuple[str, bytes]],
        *,
        position: tuple[str, int, int] | None = None,
        epoch: int | None = None,
    ) -> int:
        """Append the entries whose ids are not logged yet; how many were appended.

        ``position`` (topic, partition, offset) is the last input record of the batch,
        stored in the same transaction. With ``epoch``, the append is refused
        (``AUD-FENCED``) unless it is still the writer epoch.
        """

    def claim(self, owner: str) -> int:
        """Become the writer: a new epoch, which fences every earlier one."""

    def epoch(self) -> int: ...

    def size(self) -> int: ...

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]: ...

    def entry(self, index: int) -> bytes: ...

    def index_of(self, entry_id: str) -> int | None: ...

    def has(self, entry_id: str) -> bool: ...

    def leaf_hashes(self, start: int = 0, end: int | None = None) -> list[bytes]: ...

    def nodes(self, wanted: Iterable[Node]) -> Mapping[Node, bytes]:
        """The stored hashes of these perfect subtrees (level 0: leaf hashes)."""

    def root(self, size: int | None = None) -> bytes: ...

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]: ...

    def position(self, topic: str, partition: int) -> int | None: ...

    def save_checkpoint(self, size: int, note: str) -> None: ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def checkpoints(self) -> list[StoredCheckpoint]: ...
