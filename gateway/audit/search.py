"""What an audit entry can be found by: index terms and serial ranges, from its JSON alone.

The store indexes each entry when it appends it (terms and ranges below), so the auditors'
API can search a log of millions of entries with index lookups:

- ``event``: the input's event id; ``source``: the registry (or Party) that sent it;
- ``type``: the event type; ``outcome``; ``code``: each check code in the results;
  a ``trust-key`` or ``party-settings`` entry: its kind as ``type``, and the key's
  principal or the Party as ``source`` (``recorded_at`` as its time);
- ``ca``: the cooperative approach; ``transaction``: the transaction id, when the input has
  one; ``decided``: the decision time (ISO 8601, UTC; searched as a period);
- serial ranges: ``(ca_id, originating registry, first serial, last serial)`` of every block
  the decision left behind, which is what an ITMO unique identifier (cooperative approach,
  originating registry, serial) and a chain of custody look up.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.errors import AuditError
from schemas import entries as en

__all__ = ["TERMS", "Query", "SerialRange", "index_of_entry", "parse_itmo"]

#: The searchable fields (query parameter names of the API).
TERMS = ("event", "source", "type", "outcome", "code", "ca", "transaction", "discrepancy")
#: Serials are stored as 64-bit integers; longer ones are not range-indexed.
MAX_SERIAL = 2**63 - 1


@dataclass(frozen=True)
class SerialRange:
    ca_id: str
    origin: str
    start: int
    end: int


@dataclass(frozen=True)
class Query:
    """A search: every given term must match (AND); ``serials`` must overlap a block."""

    terms: tuple[tuple[str, str], ...] = ()
    serials: SerialRange | None = None
    decided_from: str | None = None  # inclusive, ISO 8601 prefix
    decided_to: str | None = None  # exclusive

    def by_field(self) -> dict[str, list[str]]:
        """The terms grouped by field: a field's values are alternatives (OR)."""
        out: dict[str, list[str]] = {}
        for field, value in self.terms:
            out.setdefault(field, []).append(value)
        return out

    def __post_init__(self) -> None:
        for field, _ in self.terms:
            if field not in TERMS:
                raise AuditError(f"cannot search by {field!r}", code="AUD-QUERY")
        if not (self.terms or self.serials or self.decided_from or self.decided_to):
            raise AuditError("a search needs at least one criterion", code="AUD-QUERY")


def index_of_entry(body: bytes) -> tuple[list[tuple[str, str]], str, list[SerialRange]]:
    """``(terms, decided_at, serial ranges)`` of one entry's bytes (nothing for bytes the
    entry models refuse: the log stores them, but they cannot be searched)."""
    entry = en.read_entry(body)
    if entry is None:
        return [], "", []
    if isinstance(entry, en.TrustKeyEntry | en.PartySettingsEntry):
        # found by their kind as ``type`` and by whom they concern as ``source``
        who = entry.principal if isinstance(entry, en.TrustKeyEntry) else entry.party
        return sorted({("type", entry.entry_type), ("source", who)}), entry.recorded_at, []
    terms: list[tuple[str, str]] = []

    def add(field: str, value: str | None) -> None:
        if value:
            terms.append((field, value))

    # The kinds' inputs differ: an input names the event, its sender and its type when
    # its kind has them (a dead letter's names where it was read, none of these).
    inp = entry.input
    add("event", getattr(inp, "id", None))
    add("source", getattr(inp, "source", None))
    add("type", getattr(inp, "type", None))
    add("outcome", entry.outcome)
    for result in entry.results:
        add("code", result.code)
    ranges = []
    if isinstance(entry, en.DecisionEntry):
        add("ca", entry.ca_id)
        add("transaction", entry.transaction_id)
        for block in entry.blocks:
            r = SerialRange(block.ca_id, block.origin, int(block.start), int(block.end))
            if 0 <= r.start <= r.end <= MAX_SERIAL:
                ranges.append(r)
    elif isinstance(entry, en.DiscrepancyEntry) and entry.discrepancy is not None:
        add("discrepancy", entry.discrepancy.discrepancy_id)
    return sorted(set(terms)), entry.decided_at, sorted(set(ranges), key=_key)


def _key(r: SerialRange) -> tuple[str, str, int, int]:
    return (r.ca_id, r.origin, r.start, r.end)


def parse_itmo(text: str) -> SerialRange:
    """An ITMO unique identifier ``CA:ORIGIN:SERIAL`` or a block ``CA:ORIGIN:FIRST-LAST``.

    :raises AuditError: (AUD-QUERY) when it is not one.
    """
    parts = text.split(":")
    if len(parts) != 3 or not all(parts):
        raise AuditError(
            f"{text!r} is not CA:ORIGIN:SERIAL or CA:ORIGIN:FIRST-LAST", code="AUD-QUERY"
        )
    ca_id, origin, serials = parts
    first, _, last = serials.partition("-")
    try:
        start, end = int(first), int(last or first)
    except ValueError as exc:
        raise AuditError(f"serials {serials!r} are not decimal numbers", code="AUD-QUERY") from exc
    if not 0 <= start <= end <= MAX_SERIAL:
        raise AuditError(f"serial range {serials!r} is empty or too large", code="AUD-QUERY")
    return SerialRange(ca_id, origin, start, end)
