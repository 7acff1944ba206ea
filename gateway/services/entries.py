"""Stored audit entries read through their models (:mod:`schemas.entries`), for the use cases.

The stored bytes stay authoritative: an entry is parsed to read its fields, never written
again. The sequencer logs any JSON object whose ``entry_id`` matches its key, so a reader
may meet bytes the models refuse (no builder of the gateway writes them):
:func:`schemas.entries.read_entry` gives None for those and :func:`read_entries` leaves them
out, as the readers have always passed over what they could not use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from schemas.entries import AuditEntry, read_entry

__all__ = ["read_entries", "read_entry"]


def read_entries(stored: Iterable[bytes]) -> Iterator[AuditEntry]:
    """The models of stored entries, in their order, leaving out those the models refuse."""
    for data in stored:
        entry = read_entry(data)
        if entry is not None:
            yield entry
