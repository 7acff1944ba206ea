"""``a6gw audit restore``: rebuild the audit store from ``a6.audit.log``, then check it
against every checkpoint published on ``a6.audit.checkpoints``.

The rebuild appends what the sequencer appended, record by record from offset 0
(:func:`gateway.core.audit_records.sort_records`: a record whose MAC does not verify, or
that is no entry, is replaced by its dead-letter entry; checkpoint requests are passed
over; an entry id already logged is skipped), stamped with ``logged_at`` from each record's
time as the sequencer stamps it (:func:`gateway.audit.sequencer.stamp_records`). So the
rebuilt store holds the same bytes at the same leaf indices as the one it replaces, and the
input position of the last record read, from which a worker on it carries on. The checks
are :func:`gateway.audit.restore.check_checkpoints`; the checkpoints that pass are saved in
the new store (``a6gw audit export`` uses the latest).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from gateway.audit.logstore import LogStore
from gateway.audit.restore import CheckpointCheck, check_checkpoints
from gateway.audit.sequencer import stamp_records
from gateway.config import LoadedConfig
from gateway.core import mac
from gateway.core.audit_records import Refusal, sort_records
from gateway.core.ingest import RawInput
from gateway.core.internal import refused
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC, CHECKPOINT_TOPIC
from gateway.errors import AuditError
from gateway.transport.clients import clients_for
from gateway.transport.read import read_partition

__all__ = ["Rebuilt", "checks", "published", "rebuild", "refusal_under"]

Say = Callable[[str], None]


@dataclass(frozen=True)
class Rebuilt:
    records: int  # records read from a6.audit.log
    appended: int  # entries appended
    last_offset: int | None


def refusal_under(secret: bytes) -> Refusal:
    """The sequencer's MAC rule without its clock: a refused record is dated by its own
    time (the broker's, on a topic stamped with LogAppendTime, as the sequencer dates it)."""

    def refusal(rec: RawInput) -> tuple[str, list[Output]] | None:
        if not mac.is_internal(rec.topic):
            return None
        why = mac.problem(secret, rec.topic, rec.key, rec.value, rec.headers)
        if why is None:
            return None
        return refused(rec, why, now_ms=rec.timestamp_ms, skew_s=0)

    return refusal


async def _rebuild(lc: LoadedConfig, store: LogStore, say: Say) -> Rebuilt:
    refusal = refusal_under(lc.load_mac_key())
    last, records, appended, offset = "", 0, 0, None
    async for batch in read_partition(clients_for(lc, "restore"), AUDIT_TOPIC, 0):
        found = sort_records(batch, refusal)
        stamped, last = stamp_records(found.items, last)
        offset = batch[-1].offset
        appended += store.append(stamped, position=(AUDIT_TOPIC, 0, offset))
        records += len(batch)
        if records // 10_000 != (records - len(batch)) // 10_000:
            say(f"read {records:,} records, {appended:,} entries appended")
    return Rebuilt(records, appended, offset)


def rebuild(lc: LoadedConfig, store: LogStore, say: Say) -> Rebuilt:
    """Append every entry of ``a6.audit.log`` to ``store``, which must be empty.

    :raises AuditError: (AUD-RESTORE) when ``store`` already has entries.
    :raises BrokerError: (KAFKA-READ) when the topic cannot be read.
    """
    if store.size():
        raise AuditError(
            f"the store already has {store.size()} entries: restore into a new store "
            "(or check this one with --check-only)",
            code="AUD-RESTORE",
        )
    return asyncio.run(_rebuild(lc, store, say))


async def _published(lc: LoadedConfig) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    async for batch in read_partition(clients_for(lc, "restore"), CHECKPOINT_TOPIC, 0):
        out.extend((r.offset, r.value.decode("utf-8", errors="replace")) for r in batch)
    return out


def published(lc: LoadedConfig) -> list[tuple[int, str]]:
    """Every note on ``a6.audit.checkpoints``, with its offset, oldest first."""
    return asyncio.run(_published(lc))


def checks(
    lc: LoadedConfig, store: LogStore, notes: list[tuple[int, str]], *, save: bool
) -> list[CheckpointCheck]:
    """``notes`` checked against ``store`` with the log's keys; with ``save``, those that
    pass are kept in the store as published checkpoints."""
    verifiers = [lc.load_log_key().verifier(), *lc.previous_log_verifiers()]
    found = check_checkpoints(store, notes, verifiers, lc.config.gateway.log_origin)
    if save:
        text = dict(notes)
        for c in found:
            if c.ok and c.size is not None:
                store.save_checkpoint(c.size, text[c.offset])
    return found
