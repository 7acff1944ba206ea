"""The audit log's one writer: fenced appends, and signed checkpoints over committed entries.

A sequencer that takes over the log (at start, and after every rebalance or failover that
gives it the audit partition) first checks the store against the last checkpoint published
on ``a6.audit.checkpoints``: a store behind it (restored from an old backup, say) or with
another root at that size (rewritten) is refused. It then claims a new writer epoch, which
fences every earlier sequencer: their appends fail from then on.

Checkpoints are C2SP ``tlog-checkpoint`` notes signed by the log key, made every
``every_entries`` entries or ``every_s`` seconds (when the log has grown), and on request;
they cover only entries the store has committed.

Each entry appended is stamped with ``logged_at`` (:func:`stamp`): the time of its record on
``a6.audit.log`` (:func:`stamp_records`; the topic is created with ``LogAppendTime``, so
the broker's time when the record was logged there), RFC 3339 UTC with milliseconds, never
earlier than the ``logged_at`` of the entry before it, across batches, restarts and
take-overs (a sequencer starts from the last entry's stamp). Being a function of the
records, the stamps come out the same when a store is rebuilt from the topic
(``a6gw audit restore``). Stores written before this took the sequencer's clock instead
(:meth:`Sequencer.stamp`). So ``logged_at`` never decreases in leaf order, whatever the
clocks of the writers (``decided_at`` is an input's arrival, and entries of different
partitions reach the log in any order). The stamp is a member of the leaf, so the log's
hashes cover it; it is added to the entry object as the writer serialised it
(``entry_version`` is unchanged: readers take entries with or without it; entries logged
before it was introduced lack it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, LogKey, Verifier, open_checkpoint
from gateway.core.canonical import NotPlain, refuse_float, sorted_json
from gateway.core.decision_time import iso_ms
from gateway.errors import AuditError, VerificationError

__all__ = [
    "CheckpointPolicy",
    "Sequencer",
    "check_against",
    "logged_at_of",
    "stamp",
    "stamp_records",
]


def _json(obj: Any, plain: bool) -> bytes:
    # RFC 8785 for the values entries hold (strings, integers, lists, objects with ASCII
    # keys): sorted keys, no whitespace, only control characters, quote and backslash
    # escaped. A tenth of the cost of the general RFC 8785 encoder; orjson (sorted_json)
    # writes the same bytes at a tenth of that when no float is in the way.
    if plain:
        try:
            return sorted_json(obj)
        except TypeError:
            pass  # an integer beyond 64 bits, a lone surrogate: the standard library's
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# built once (json.loads with a hook builds a decoder on every call)
_READ_PLAIN = json.JSONDecoder(parse_float=refuse_float).decode


def stamp(body: bytes, logged_at: str) -> bytes:
    """``body`` (a JSON object) with its ``logged_at`` member set; other bytes unchanged."""
    try:
        try:
            obj, plain = _READ_PLAIN(body.decode(json.detect_encoding(body), "surrogatepass")), True
        except NotPlain:
            obj, plain = json.loads(body), False
    except ValueError:
        return body
    if not isinstance(obj, dict):
        return body
    obj["logged_at"] = logged_at
    return _json(obj, plain)


def stamp_records(
    items: Iterable[tuple[str, bytes, int]], last: str
) -> tuple[list[tuple[str, bytes]], str]:
    """``(entry id, body, record time in ms)`` stamped with ``logged_at``: the record's time,
    or the stamp before it (``last`` for the first) when that is later; and the last stamp.
    """
    out: list[tuple[str, bytes]] = []
    for entry_id, body, at_ms in items:
        last = max(last, iso_ms(max(at_ms, 0)))
        out.append((entry_id, stamp(body, last)))
    return out, last


def logged_at_of(body: bytes) -> str | None:
    """The ``logged_at`` of an entry, or None (an entry logged before stamps, or not JSON)."""
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    at = obj.get("logged_at") if isinstance(obj, dict) else None
    return at if isinstance(at, str) else None


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
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.key = key
        self.origin = origin
        self.policy = policy
        self.verifiers = [key.verifier(), *previous]
        self.clock = clock
        self.wall = wall
        #: the ``logged_at`` of the last entry stamped: the next is never earlier
        self.logged_at = ""
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
        size = self.store.size()
        self.logged_at = max(
            self.logged_at, (size and logged_at_of(self.store.entry(size - 1))) or ""
        )
        return self.epoch

    def stamp(self, items: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
        """``items`` stamped with ``logged_at``: now, or the last stamp if the clock is behind."""
        self.logged_at = max(self.logged_at, iso_ms(int(self.wall() * 1000)))
        return [(entry_id, stamp(body, self.logged_at)) for entry_id, body in items]

    def stamp_records(self, items: Iterable[tuple[str, bytes, int]]) -> list[tuple[str, bytes]]:
        """``items`` stamped with their records' times (see :func:`stamp_records`)."""
        stamped, self.logged_at = stamp_records(items, self.logged_at)
        return stamped

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
