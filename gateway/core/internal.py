"""What becomes of a record on an internal topic whose MAC does not verify (MSG-010).

It is dead-lettered like an input that cannot be authenticated: a record on ``a6.dlq`` with
its first bytes, and an audit entry identified by where it was read (topic, partition,
offset), dated at its arrival (:func:`gateway.core.ingest.arrival_ms`). Nothing in it is
acted on: the ledger does not decide it, the sequencer does not append it, the discrepancy
stage does not record it, the delivery stage does not deliver it.
"""

from __future__ import annotations

from dataclasses import replace

from gateway.core import decision as dec
from gateway.core.canonical import canonical_bytes
from gateway.core.ingest import RawInput, arrival_ms
from gateway.core.model import Finding
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC

#: how much of a refused record the dead letter keeps
KEEP_BYTES = 64 * 1024


def refused(raw: RawInput, reason: str, *, now_ms: int, skew_s: int) -> tuple[str, list[Output]]:
    """The audit entry's id, and the dead letter and audit entry of a record that failed
    its MAC (``reason`` from :func:`gateway.core.mac.problem`)."""
    raw = replace(raw, timestamp_ms=arrival_ms(raw, now_ms=now_ms, skew_s=skew_s))
    finding = Finding("MSG-010", f"{raw.topic}: {reason}")
    entry = dec.dead_letter_model(raw, finding)
    record = dec.dead_letter_record(raw, finding, keep_bytes=KEEP_BYTES)
    eid = entry.entry_id
    return eid, [
        Output(DLQ_TOPIC, eid, canonical_bytes(record)),
        Output(AUDIT_TOPIC, eid, dec.entry_bytes(entry.wire())),
    ]
