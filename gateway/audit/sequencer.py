"""The audit log's one writer: fenced appends, and signed checkpoints over committed entries.

A sequencer that takes over the log (at start, and after every rebalance or failover that
gives it the audit partition) first checks the store against the last checkpoint published
on ``a6.audit.checkpoints``: a store behind it (restored from an old backup, say) or with
another root at that size (rewritten) is refused. It then claims a new writer epoch, which
fences every earlier sequencer: their appends fail from then on.

Checkpoints are C2SP ``tlog-checkpoint`` notes signed by the log key, made every
``every_entries`` entries or ``every_s`` seconds (when the log has grown), and on request;
they cover only entries the store has committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, LogKey, Verifier, open_checkpoint
from gateway.errors import AuditError, VerificationError

__all__ = ["CheckpointPolicy", "Sequencer", "check_against"]


@dataclass(frozen=True)
class CheckpointPolicy:
    every_entries: int = 1000
    every_s: float = 10.0


def check_against(store: LogStore, note: str, verifiers: Sequence[Verifier]) -> Checkpoint:
    """Check ``store`` against a published checkpoint ``note``; returns the checkpoint.

    :raises AuditError: ``AUD-CHECKPOINT`` when no key verifies the note; ``AUD-BEHIND``
        when the store has fewer entries than it; ``AUD-FORK`` when the store's root at its
        size differs.
    """
    try:
        checkpoint = open_checkpoint(note, verifiers)
    except VerificationError as exc:
        raise AuditError(
            f"the last published checkpoint is not signed by any known log key: {exc.args[0]}",
            code="AUD-CHECKPOINT",
        ) from exc
    size = store.size()
    if size < checkpoint.size:
        raise AuditError(
            f"the audit store has {size} entries, behind the published checkpoint of "
            f"{checkpoint.size}; restore it, or it would rewrite published history",
            code="AUD-BEHIND",
        )
    if store.root(checkpoint.size) != checkpoint.root:
        raise AuditError(
            f"the audit store's first {checkpoint.size} entries do not have the published "
            "root: the store was rewritten",
            code="AUD-FORK",
        )
    return checkpoint


class Sequencer:
    """Appends for one writer epoch and decides when to sign a checkpoint."""

    def __init__(
        self,
        store: LogStore,
        key: LogKey,
        origin: str,
        *,
        policy: CheckpointPolicy = CheckpointPolicy(),
        previous: Sequence[Verifier] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.key = key
        self.origin = origin
        self.policy = policy
        self.verifiers = [key.verifier(), *previous]
        self.clock = clock
        self.epoch: int | None = None
        self.signed_size = -1
        self.signed_at = clock()

    def take_over(self, owner: str, published: str | None) -> int:
        """Check the store against the last published checkpoint, then claim the log.

        :raises AuditError: see :func:`check_against`.
        """
        if published is not None:
            checkpoint = check_against(self.store, published, self.verifiers)
            self.signed_size = checkpoint.size
        self.epoch = self.store.claim(owner)
        return self.epoch

    def append(self, items: Iterable[tuple[str, bytes]], position: tuple[str, int, int]) -> int:
        """:raises AuditError: ``AUD-FENCED`` when another sequencer took over since."""
        if self.epoch is None:
            raise AuditError("the sequencer has not taken over the log", code="AUD-FENCED")
        return self.store.append(items, position=position, epoch=self.epoch)

    def due(self) -> bool:
        """Whether the log grew by ``every_entries``, or at all in ``every_s``."""
        grown = self.store.size() - max(self.signed_size, 0)
        if self.signed_size < 0:
            return True  # nothing published yet: publish the current state, even if empty
        if grown <= 0:
            return False
        return (
            grown >= self.policy.every_entries
            or self.clock() - self.signed_at >= self.policy.every_s
        )

    def checkpoint(self) -> tuple[Checkpoint, str]:
        """Sign a checkpoint over every committed entry and keep it in the store."""
        size = self.store.size()
        checkpoint = Checkpoint(self.origin, size, self.store.root(size))
        note = self.key.sign(checkpoint.to_text())
        self.store.save_checkpoint(size, note)
        self.signed_size, self.signed_at = size, self.clock()
        return checkpoint, note
