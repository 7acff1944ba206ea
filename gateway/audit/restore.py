"""Check an audit store against every checkpoint the sequencer published (the restore drill).

A store rebuilt from ``a6.audit.log`` (``a6gw audit restore``), or one brought back from a
backup, is only the log if every published checkpoint is a checkpoint of it: signed by the
log key (or an earlier one), of the log's origin, of a size the store reaches, and with the
root the store's entries give at that size. The roots are computed here from the entries'
bytes (RFC 9162 §2.1.1 leaf hashes, folded as the store appends them), not read from the
store's node table; and every leaf hash and node the store keeps (what its proofs are made
of) is compared with the one the entries give: a changed entry, leaf hash or node fails
every checkpoint over it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, Verifier, open_checkpoint
from gateway.audit.rfc6962 import leaf_hash
from gateway.audit.tree import Frontier
from gateway.errors import AuditError, VerificationError

__all__ = ["CheckpointCheck", "Recomputed", "check_checkpoints", "recompute"]


@dataclass(frozen=True)
class CheckpointCheck:
    """One published checkpoint (``offset`` on ``a6.audit.checkpoints``) against the store."""

    offset: int
    size: int | None  # None when the note cannot be opened
    code: str | None  # None: it is a checkpoint of the store; else AUD-CHECKPOINT/BEHIND/FORK
    detail: str

    @property
    def ok(self) -> bool:
        return self.code is None


@dataclass(frozen=True)
class Recomputed:
    """The roots the entries' bytes give, and where the stored tree first differs."""

    roots: dict[int, bytes]
    #: the smallest tree size whose root or proofs use a stored hash (leaf hash or node)
    #: that the entries do not give (node (level, i) is used from size (i + 1) << level on);
    #: None when every stored hash is the entries'
    first_bad_size: int | None


def recompute(store: LogStore, sizes: Iterable[int], *, chunk: int = 4096) -> Recomputed:
    """``MTH`` of the first ``n`` entries for each ``n`` in ``sizes`` (at most the store's
    size), computed from the entries' bytes in one pass; every stored leaf hash and node is
    compared with the one the entries give on the way."""
    size = store.size()
    wanted = {n for n in sizes if 0 <= n <= size}
    frontier = Frontier()
    roots: dict[int, bytes] = {0: frontier.root()} if 0 in wanted else {}
    bad: int | None = None
    made: dict[tuple[int, int], bytes] = {}

    def compare() -> int | None:
        stored = store.nodes(made)
        diff = [(lv, ix) for (lv, ix), h in made.items() if stored.get((lv, ix)) != h]
        made.clear()
        return min(((ix + 1) << lv for lv, ix in diff), default=None)

    for body in store.entries(0, size):
        for level, index, h in frontier.append(leaf_hash(body)):
            made[(level, index)] = h
        if frontier.size in wanted:
            roots[frontier.size] = frontier.root()
        if len(made) >= chunk:
            bad = _first(bad, compare())
    bad = _first(bad, compare() if made else None)
    return Recomputed(roots, bad)


def _first(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _opened(note: str, verifiers: Sequence[Verifier], origin: str) -> Checkpoint:
    try:
        checkpoint = open_checkpoint(note, verifiers)
    except VerificationError as exc:
        raise AuditError(
            f"not signed by the log's keys or malformed: {exc.args[0]}", code="AUD-CHECKPOINT"
        ) from exc
    if checkpoint.origin != origin:
        raise AuditError(
            f"origin {checkpoint.origin!r}, want the log's {origin!r}", code="AUD-CHECKPOINT"
        )
    return checkpoint


def check_checkpoints(
    store: LogStore,
    notes: Sequence[tuple[int, str]],
    verifiers: Sequence[Verifier],
    origin: str,
) -> list[CheckpointCheck]:
    """Each ``(offset, note)`` published, checked against ``store`` (see the module doc)."""
    opened: list[tuple[int, Checkpoint | AuditError]] = []
    for offset, note in notes:
        try:
            opened.append((offset, _opened(note, verifiers, origin)))
        except AuditError as exc:
            opened.append((offset, exc))
    size = store.size()
    again = recompute(store, (c.size for _, c in opened if isinstance(c, Checkpoint)))
    roots, bad = again.roots, again.first_bad_size
    out: list[CheckpointCheck] = []
    for offset, cp in opened:
        if isinstance(cp, AuditError):
            out.append(CheckpointCheck(offset, None, cp.code, str(cp)))
        elif cp.size > size:
            why = f"size {cp.size}: the store has only {size} entries"
            out.append(CheckpointCheck(offset, cp.size, "AUD-BEHIND", why))
        elif roots[cp.size] != cp.root:
            why = (
                f"size {cp.size}: root {cp.root.hex()} published, the store's entries give "
                f"{roots[cp.size].hex()}"
            )
            out.append(CheckpointCheck(offset, cp.size, "AUD-FORK", why))
        elif bad is not None and bad <= cp.size:
            why = (
                f"size {cp.size}: the entries match, the store's tree hashes do not (from "
                f"size {bad} on)"
            )
            out.append(CheckpointCheck(offset, cp.size, "AUD-FORK", why))
        else:
            out.append(CheckpointCheck(offset, cp.size, None, f"size {cp.size}: root matches"))
    return out
