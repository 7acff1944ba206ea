"""What every audit store offers (SQLite, the embedded default; PostgreSQL for shared use).

A store keeps the entries in log order with dense leaf indices, the hash of every perfect
subtree (see :mod:`gateway.audit.tree`), the sequencer's input positions, the writer epoch
that fences stale sequencers, and the checkpoints published so far. Proofs are answered from
stored nodes in one batch of O(log n) reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from gateway.audit.rfc6962 import leaf_hash
from gateway.audit.search import Query
from gateway.audit.tree import (
    Frontier,
    Node,
    consistency_ranges,
    fold,
    inclusion_ranges,
    perfect_subtrees,
    range_hashes,
)
from gateway.errors import AuditError

__all__ = ["LogStore", "StoredCheckpoint", "TreeReads"]


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

    def search(self, query: Query, after: int, limit: int) -> list[int]:
        """Leaf indices greater than ``after`` that match ``query``, ascending, ``limit`` at most.

        Terms of the same field match any of their values; different fields must all match.
        """

    def save_checkpoint(self, size: int, note: str) -> None: ...

    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    def checkpoints(self) -> list[StoredCheckpoint]: ...

    def save_cosignature(self, size: int, witness: str, line: str) -> None:
        """Keep ``witness``'s cosignature line over the checkpoint of ``size`` (one per
        witness and size; the caller verified it)."""

    def cosignature_lines(self, size: int) -> list[str]:
        """The cosignature lines kept for the checkpoint of ``size``."""

    def cosigned_checkpoints(
        self, witnesses: Sequence[str], at_least: int, limit: int = 16
    ) -> list[StoredCheckpoint]:
        """Stored checkpoints (the log's note alone) with lines by at least ``at_least`` of
        ``witnesses``, newest first, ``limit`` at most."""

    def witness_size(self, witness: str) -> int | None:
        """The largest size ``witness`` cosigned, as far as this store knows."""


class TreeReads:
    """What both stores share: the append frontier, roots and proofs from ``nodes()``."""

    _frontier: Frontier | None = None

    def _current_frontier(self) -> Frontier:
        """The frontier of the committed tree (reloaded when another writer appended)."""
        size = self.size()
        if self._frontier is None or self._frontier.size != size:
            self._frontier = Frontier.of(size, self.nodes(perfect_subtrees(0, size)))
        return self._frontier

    def _plan_append(
        self, items: Iterable[tuple[str, bytes]], logged: Callable[[str], bool]
    ) -> tuple[list[tuple[int, str, bytes, bytes]], list[tuple[int, int, bytes]]]:
        """The entry rows (index, id, body, leaf hash) and inner tree nodes of a batch;
        ids already ``logged``, or repeated in the batch, are skipped."""
        frontier = self._current_frontier()
        seen: set[str] = set()
        rows: list[tuple[int, str, bytes, bytes]] = []
        nodes: list[tuple[int, int, bytes]] = []
        for entry_id, body in items:
            if entry_id in seen or logged(entry_id):
                continue
            seen.add(entry_id)
            h = leaf_hash(body)
            rows.append((frontier.size, entry_id, body, h))
            nodes.extend(n for n in frontier.append(h) if n[0] > 0)
        return rows, nodes

    def size(self) -> int:
        raise NotImplementedError

    def nodes(self, wanted: Iterable[Node]) -> Mapping[Node, bytes]:
        raise NotImplementedError

    def _sized(self, size: int | None) -> int:
        current = self.size()
        size = current if size is None else size
        if not 0 <= size <= current:
            raise AuditError(f"tree size {size} is not in 0..{current}", code="AUD-NOT-FOUND")
        return size

    def root(self, size: int | None = None) -> bytes:
        """``MTH`` of the first ``size`` entries (default: all), from O(log n) nodes."""
        size = self._sized(size)
        plan = perfect_subtrees(0, size)
        got = self.nodes(plan)
        missing = [n for n in plan if n not in got]
        if missing:
            raise AuditError(f"the store has no hash for tree nodes {missing}", code="AUD-STORE")
        return fold([got[n] for n in plan])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return range_hashes(inclusion_ranges(index, self._sized(size)), self.nodes)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return range_hashes(consistency_ranges(size1, self._sized(size2)), self.nodes)
