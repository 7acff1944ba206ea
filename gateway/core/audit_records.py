"""What the sequencer appends for the records of ``a6.audit.log``, in their order.

One pure function, :func:`sort_records`, shared by the sequencer (``gateway.worker``) and by
the rebuild of a store from the topic (``a6gw audit restore``), so both append the same
entries for the same records:

- a record whose MAC does not verify (``refusal`` gives its dead letter) is not appended:
  its dead-letter entry is, in its place;
- a record keyed :data:`CHECKPOINT_REQUEST` asks for a checkpoint and is no entry;
- a keyless record is passed over; any other record is appended as it is when it is a
  well-formed entry, else its dead-letter entry is (:func:`gateway.core.faults.audit_item`).

Each item carries the record's timestamp: the sequencer stamps ``logged_at`` from it (the
topic is created with ``LogAppendTime``, so it is the broker's time), which a rebuild reads
back from the same record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from gateway.core.faults import audit_item
from gateway.core.ingest import RawInput
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC

__all__ = ["CHECKPOINT_REQUEST", "Refusal", "Sorted", "in_pieces", "sort_records"]

#: The key of a record on ``a6.audit.log`` that asks the sequencer for a checkpoint now.
CHECKPOINT_REQUEST = b"a6gw.checkpoint-request"

#: None when a record's MAC verifies (or its topic needs none); else its audit entry's id and
#: its outputs (dead letter and audit entry)
Refusal = Callable[[RawInput], tuple[str, list[Output]] | None]


@dataclass
class Sorted:
    #: (entry id, entry bytes, the record's timestamp in ms), in the records' order
    items: list[tuple[str, bytes, int]] = field(default_factory=list)
    #: dead letters to publish (not entries)
    dead: list[Output] = field(default_factory=list)
    #: whether a record asked for a checkpoint
    requested: bool = False
    #: the records dead-lettered, each with the dead-letter entry appended in its place
    lettered: list[tuple[RawInput, bytes]] = field(default_factory=list)


def sort_records(records: Iterable[RawInput], refusal: Refusal) -> Sorted:
    """The entries to append for ``records`` (see the module doc), and the dead letters."""
    out = Sorted()
    for r in records:
        refused = refusal(r)
        if refused is not None:
            for o in refused[1]:
                if o.topic == AUDIT_TOPIC:
                    out.items.append((o.key, o.value, r.timestamp_ms))
                    out.lettered.append((r, o.value))
                else:
                    out.dead.append(o)
        elif r.key == CHECKPOINT_REQUEST:
            out.requested = True
        elif r.key:
            (entry_id, body), letters = audit_item(r)
            out.items.append((entry_id, body, r.timestamp_ms))
            out.dead.extend(letters)
            if letters:
                out.lettered.append((r, body))
    return out


def in_pieces(records: Sequence[RawInput], max_bytes: int) -> list[list[RawInput]]:
    """``records`` in order, in pieces whose values come to fewer than ``max_bytes`` bytes
    but for each piece's last record (a record of more is a piece of its own)."""
    if max_bytes < 1:
        raise ValueError("a piece holds at least one byte")
    pieces: list[list[RawInput]] = []
    piece: list[RawInput] = []
    size = 0
    for r in records:
        piece.append(r)
        size += len(r.value)
        if size >= max_bytes:
            pieces.append(piece)
            piece, size = [], 0
    if piece:
        pieces.append(piece)
    return pieces
