"""The checkpoint readers get: the latest one that enough witnesses cosigned.

The gateway's collector keeps each witness's verified cosignature line beside the
checkpoint in the audit store (``LogStore.save_cosignature``). The API's ``/v1/checkpoint``,
``a6gw audit export`` and the reports serve :func:`for_readers`: the newest checkpoint with
at least ``quorum`` valid cosignatures by the configured witnesses (C2SP tlog-cosignature),
every such cosignature appended to the log's signed note. With ``quorum`` 0 it is the newest
checkpoint, with whatever cosignatures it has so far.

Each stored line is checked again against the witnesses' pinned keys as it is read: a line
that does not verify (a key changed in the config) is left out, not counted.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.audit.cosignature import Cosigner, add_cosignatures, verified_cosignatures
from gateway.audit.logstore import LogStore, StoredCheckpoint
from gateway.errors import VerificationError

__all__ = ["cosigned_note", "for_readers", "no_checkpoint"]


def no_checkpoint(quorum: int) -> str:
    """Why a reader gets no checkpoint (for AUD-NOT-FOUND)."""
    if quorum <= 0:
        return "no checkpoint has been published yet"
    return f"no checkpoint has been cosigned by {quorum} witnesses (witness_quorum) yet"


def cosigned_note(note: str, lines: Sequence[str], witnesses: Sequence[Cosigner]) -> str:
    """``note`` with those of ``lines`` that are valid cosignatures by ``witnesses``."""
    out = note
    for line in lines:
        candidate = add_cosignatures(out, [line])
        try:
            verified_cosignatures(candidate, witnesses)
        except VerificationError:
            continue
        out = candidate
    return out


def _count(note: str, witnesses: Sequence[Cosigner]) -> int:
    return len(verified_cosignatures(note, witnesses)[1])


def for_readers(
    store: LogStore, witnesses: Sequence[Cosigner], quorum: int
) -> StoredCheckpoint | None:
    """The newest stored checkpoint with at least ``quorum`` valid cosignatures by
    ``witnesses`` (its note carrying them), or None when there is none."""
    if quorum <= 0:
        latest = store.latest_checkpoint()
        if latest is None:
            return None
        note = cosigned_note(latest.note, store.cosignature_lines(latest.size), witnesses)
        return StoredCheckpoint(latest.size, note)
    names = [w.name for w in witnesses]
    for stored in store.cosigned_checkpoints(names, quorum):
        note = cosigned_note(stored.note, store.cosignature_lines(stored.size), witnesses)
        if _count(note, witnesses) >= quorum:
            return StoredCheckpoint(stored.size, note)
    return None
