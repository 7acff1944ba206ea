"""Gateway faults: what becomes of an input the gateway itself failed on.

A parser or a pure step that raises on an input raises again on every redelivery: the
input is dead-lettered at once (GWF-001) instead of stopping its partition. An input the
process died on (a kill, not an exception) is quarantined after a bounded number of starts
at its offset (GWF-002). Either way the dead letter keeps the input's bytes (up to
:data:`KEEP_BYTES`), names the step and the exception class, and gets its audit entry, as
every dead letter does; it is no verdict on the input, which an operator can replay once
the fault is fixed (``a6gw dlq replay``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.core import decision as dec
from gateway.core import jsonlimits
from gateway.core.canonical import canonical_bytes
from gateway.core.ingest import RawInput
from gateway.core.model import Finding
from gateway.core.steps import Output
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC
from gateway.errors import SchemaError

FAULT = "GWF-001"
QUARANTINED = "GWF-002"
FAULT_CODES = frozenset({FAULT, QUARANTINED})
#: The most of an input's bytes a gateway fault's dead letter keeps (its base64 must fit the
#: dead-letter topic's record size): an input up to this size can be replayed.
KEEP_BYTES = 512 * 1024


def fault_finding(step: str, exc: BaseException) -> Finding:
    """GWF-001: ``step`` raised ``exc`` (its class and first line are kept)."""
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    return Finding("GWF-001", f"gateway fault in {step}: {type(exc).__name__}: {text}".rstrip())


def quarantine_finding(step: str, starts: int) -> Finding:
    """GWF-002: the process died while ``step`` handled the input, ``starts`` times."""
    return Finding(
        "GWF-002",
        f"gateway fault in {step}: quarantined after {starts} starts at this offset "
        "ended in the process's death",
    )


def fault_outputs(
    raw: RawInput, finding: Finding, *, step: str, exception: str, keep_bytes: int = KEEP_BYTES
) -> list[Output]:
    """The dead letter (on ``a6.dlq``) and its audit entry for a gateway fault on ``raw``."""
    entry = dec.dead_letter_model(raw, finding)
    record = dec.dead_letter_record(raw, finding, keep_bytes=keep_bytes) | {
        "fault": {"step": step, "exception": exception},
    }
    eid = entry.entry_id
    return [
        Output(DLQ_TOPIC, eid, canonical_bytes(record)),
        Output(AUDIT_TOPIC, eid, dec.entry_bytes(entry.wire())),
    ]


def audit_item(raw: RawInput) -> tuple[tuple[str, bytes], list[Output]]:
    """What the sequencer appends for one record of ``a6.audit.log``.

    A well-formed entry (key: its ``entry_id``; value: one JSON object, one bundle line) is
    appended as it is. Anything else is not appended: its dead-letter entry takes its place
    in the log, and its dead letter is the second result.
    """
    problem = _entry_problem(raw)
    if problem is None:
        return ((raw.key or b"").decode("utf-8"), raw.value), []
    finding = Finding("MSG-001", f"not an audit entry: {problem}")
    entry = dec.dead_letter_model(raw, finding)
    record = dec.dead_letter_record(raw, finding, keep_bytes=64 * 1024)
    eid = entry.entry_id
    return (eid, dec.entry_bytes(entry.wire())), [Output(DLQ_TOPIC, eid, canonical_bytes(record))]


def _entry_problem(raw: RawInput) -> str | None:
    try:
        key = (raw.key or b"").decode("utf-8")
    except UnicodeDecodeError:
        return "the record key is not UTF-8"
    if b"\n" in raw.value:
        return "the entry contains a newline"
    try:
        obj = jsonlimits.loads(raw.value)
    except SchemaError as exc:
        return str(exc.args[0])
    if not isinstance(obj, dict) or obj.get("entry_id") != key:
        return "the record key is not the entry's entry_id"
    return None


def replayable(record: Mapping[str, Any]) -> str | None:
    """Why the dead letter ``record`` cannot be replayed, or None when it can: only a
    gateway fault is (an input the gateway refused stays refused), and only with its bytes
    complete."""
    if record.get("reason_code") not in FAULT_CODES:
        return f"dead-lettered with {record.get('reason_code')}, not a gateway fault"
    if record.get("truncated", True):
        return "the dead letter does not keep the input's complete bytes"
    return None
