"""The CloudEvents Kafka protocol binding, as the gateway uses it: structured content mode only.

Every envelope is a CloudEvents 1.0 event in the JSON event format, carried whole as the
record's value: *structured content mode* (CloudEvents Kafka protocol binding 1.0, §3.3).
There the Kafka header ``content-type`` carries the event format's media type, so a stock
CloudEvents consumer reads the record as an event rather than as a binary-mode payload
(§3.3.1; the JSON format's media type: CloudEvents JSON format §4). The gateway writes that
header on every record whose value is an envelope (:func:`headers_for`): its decisions and
notices on ``a6.out.*``, the parked copies of them on ``a6.retry.*``, and the inputs the
ingress and the command line put on ``a6.in.*`` and ``a6.discrepancy.commands``. Records
that are no CloudEvent (the ledger hand-off, audit entries, findings, dead letters,
checkpoints, changelogs) get no ``content-type``.

*Binary content mode* (§3.2: the attributes in ``ce_``-prefixed headers, the value the bare
data) is refused: only a whole envelope can be signed and verified (MSG-011,
:func:`binary_mode`).
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.core.topics import COMMANDS_TOPIC, INPUT_PREFIX, OUTPUT_PREFIX, RETRY_PREFIX

#: the Kafka header of the event format (CloudEvents Kafka protocol binding §3.3.1)
CONTENT_TYPE = "content-type"
#: the JSON event format's media type (CloudEvents JSON format §4), with its charset
STRUCTURED = b"application/cloudevents+json; charset=UTF-8"
#: the prefix of attribute headers in binary content mode (Kafka protocol binding §3.2.3.1)
BINARY_PREFIX = "ce_"
#: the headers of a structured-mode record: one constant, shared by every record
STRUCTURED_HEADERS: tuple[tuple[str, bytes], ...] = ((CONTENT_TYPE, STRUCTURED),)

_ENVELOPE_PREFIXES = (OUTPUT_PREFIX, RETRY_PREFIX, INPUT_PREFIX)


def carries_envelopes(topic: str) -> bool:
    """Whether every record of ``topic`` is a structured-mode CloudEvent."""
    return topic.startswith(_ENVELOPE_PREFIXES) or topic == COMMANDS_TOPIC


def headers_for(topic: str) -> tuple[tuple[str, bytes], ...]:
    """The binding's headers for a record written to ``topic`` (none when it is no event)."""
    return STRUCTURED_HEADERS if carries_envelopes(topic) else ()


def binary_mode(headers: Iterable[tuple[str, bytes]]) -> bool:
    """Whether a record's headers carry CloudEvents attributes (binary content mode)."""
    return any(name.lower().startswith(BINARY_PREFIX) for name, _ in headers)
