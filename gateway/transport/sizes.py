"""How large a record on each topic may be, from ``limits.max_message_bytes`` (N).

An input of N bytes passes through several topics, each time inside a larger record:

- on its input topic it is the record's value: N bytes;
- the ingest stage forwards it to ``a6.ledger`` as a JSON *string* inside a record, and a
  decision or dead letter quotes it in ``a6.audit.log``, ``a6.dlq``, ``a6.out.*`` and the
  findings: JSON string escaping at most doubles a text (``"`` and ``\\`` become two bytes,
  ``\\u0001`` seven bytes for six), so these records hold at most 2N bytes of it;
- faust's table changelogs keep such records (the ledger's stored outputs, the ingest
  stage's decisions) as JSON strings once more: at most 4N.

Each record also carries its own fields (ids, digests, findings, signatures, key, headers)
and Kafka's batch framing; ``OVERHEAD`` (64 KiB) bounds those with a wide margin: the
largest of them is a finding's text, which the gateway writes itself.

No topic takes less than the broker's own default (``FLOOR``): an input somewhat over the
limit still reaches the ingest stage, which dead-letters it with its code (MSG-008), so the
attempt is on the record.
"""

from __future__ import annotations

OVERHEAD = 64 * 1024
FLOOR = 1024 * 1024 + 12  # message.max.bytes' default
#: How many times an input's bytes may appear, JSON-escaped, in one record of each class.
WIRE, QUOTED, REQUOTED = 1, 2, 4


def record_limit(max_message_bytes: int, factor: int) -> int:
    """``max.message.bytes`` for a topic whose records embed an input ``factor`` times."""
    return max(FLOOR, factor * max_message_bytes + OVERHEAD)


def largest_record(max_message_bytes: int) -> int:
    """The largest record any gateway topic takes: producers' request size, fetch sizes."""
    return record_limit(max_message_bytes, REQUOTED)
