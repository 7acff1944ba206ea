"""Reading the audit log for the structured summary: what one Party did, in log order.

:func:`collect` goes through audit entries once and keeps, for Party P:

- its first transfers: "First transfer" action rows (``a6``) whose first transferring Party
  is P, each with the UTC year of its entry's ``decided_at`` (the year it counts in), its
  vintage, and whether its purposes include the NDC (the CN-2026 values starting "NDC": R7)
  or not (OIMP, IMP, OP: R8);
- its uses: "Use" rows whose using Party is P, with their use year;
- the recorded ``inventory.emissions`` figures and ``summary.reported`` rows for P, per
  year, in log order (the latest supersedes; the history stays for drill-down);
- its uses of units that no earlier "First transfer" row (of any Party) covers, nor opening
  holdings (``holdings.opening``) a registry brought as already first transferred: *unbacked*
  uses (I-A6-7), which :mod:`gateway.core.summary_check` reports as CTF-004. A first transfer
  written in the same entry before the use (first-transfer definition "Use or
  cancellation") counts as earlier.

A row or figure that cannot be read raises ``GatewayError`` CTF-103 (unknown purposes, a
quantity that is not an integer...): an unrecognised value fails loudly, it never counts as 0.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from gateway.core.blocks import Range
from gateway.errors import GatewayError
from schemas import entries as en
from schemas import entry_parts as ep
from schemas import events as ev

INVENTORY_TYPE = "a6gw.inventory.emissions.v1"
REPORTED_TYPE = "a6gw.summary.reported.v1"
OPENING_TYPE = "a6gw.holdings.opening.v1"
#: CN-2026 Table 16(b): with the NDC (R7) and without it (R8).
NDC_PURPOSES = frozenset({"NDC", "NDC and OIMP", "NDC and IMP", "NDC and OP"})
OTHER_PURPOSES = frozenset({"OIMP", "IMP", "OP"})


@dataclass(frozen=True)
class Counted:
    """One block behind a row: the action row of entry ``entry_id`` that was counted."""

    entry_id: str
    ca_id: str
    origin: str
    first: int
    last: int
    quantity: int
    action: str

    def to_dict(self) -> dict[str, str]:
        return {
            "entry_id": self.entry_id,
            "ca_id": self.ca_id,
            "origin": self.origin,
            "first": str(self.first),
            "last": str(self.last),
            "quantity": str(self.quantity),
            "action": self.action,
        }


@dataclass(frozen=True)
class Item:
    """A counted action row and the keys it is summed by."""

    counted: Counted
    year: int  # first transfer: year of the entry; use: the use year
    vintage: int
    ndc: bool  # first transfer: purposes include the NDC (R7) or not (R8)


@dataclass(frozen=True)
class Figure:
    """One recorded inventory figure (latest last in a history)."""

    entry_id: str
    submission_id: str
    emissions: Decimal
    decided_at: str


@dataclass(frozen=True)
class Reported:
    """The rows a Party reported for a year: ``r7``..``r14`` (None: not applicable)."""

    entry_id: str
    decided_at: str
    rows: Mapping[str, Decimal | None]


@dataclass(frozen=True)
class Unbacked:
    """A use by the Party of units with no earlier recorded first transfer (I-A6-7)."""

    use: Item
    gaps: tuple[Range, ...]  # the used serials no first transfer covers


@dataclass
class Facts:
    """What the log says about one Party, gathered in one pass (:func:`collect`)."""

    party: str
    first_transfers: list[Item] = field(default_factory=list)
    uses: list[Item] = field(default_factory=list)
    inventory: dict[int, list[Figure]] = field(default_factory=dict)
    reported: dict[int, list[Reported]] = field(default_factory=dict)
    unbacked: list[Unbacked] = field(default_factory=list)

    def data_years(self) -> set[int]:
        return (
            {i.year for i in (*self.first_transfers, *self.uses)}
            | set(self.inventory)
            | set(self.reported)
        )


def text(d: Decimal) -> str:
    """A Decimal as plain decimal notation (never an exponent)."""
    return format(d, "f")


def _bad(message: str) -> GatewayError:
    return GatewayError(message, code="CTF-103")


def _decimal(value: Any, what: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except InvalidOperation as exc:
        raise _bad(f"{what}: {value!r} is not a decimal number") from exc
    if not d.is_finite():
        raise _bad(f"{what}: {value!r} is not a finite number")
    return d


def _year_of(decided_at: str) -> int:
    try:
        return datetime.fromisoformat(decided_at.replace("Z", "+00:00")).astimezone(UTC).year
    except (ValueError, AttributeError) as exc:
        raise _bad(f"decided_at {decided_at!r} is not an ISO 8601 time") from exc


def _item(entry_id: str, row: ep.ActionRow, year: int) -> Item:
    what = f"entry {entry_id}: {row.action} row"
    purposes = row.purposes
    if row.action == "First transfer" and purposes not in NDC_PURPOSES | OTHER_PURPOSES:
        raise _bad(f"{what} has unknown purposes {purposes!r}")  # fail loudly, never zero
    first, last, qty = int(row.first), int(row.last), int(row.quantity)
    counted = Counted(entry_id, row.ca_id, row.origin, first, last, qty, row.action)
    return Item(counted, year, row.vintage, purposes in NDC_PURPOSES)


class _Coverage:
    """Serials first transferred so far, per serial space (ca_id, origin): sorted, disjoint
    ranges kept as parallel start/end lists, so adding and asking cost a binary search
    (and a list insertion), not a pass over everything seen."""

    def __init__(self) -> None:
        self.spaces: dict[tuple[str, str], tuple[list[int], list[int]]] = {}

    def add(self, ca_id: str, origin: str, first: int, last: int) -> None:
        starts, ends = self.spaces.setdefault((ca_id, origin), ([], []))
        # every range that overlaps or touches [first, last] is folded into it
        lo = bisect_left(ends, first - 1)
        hi = bisect_right(starts, last + 1)
        if lo < hi:
            first, last = min(first, starts[lo]), max(last, ends[hi - 1])
        starts[lo:hi] = [first]
        ends[lo:hi] = [last]

    def gaps(self, ca_id: str, origin: str, first: int, last: int) -> list[Range]:
        starts, ends = self.spaces.get((ca_id, origin), ([], []))
        out: list[Range] = []
        cursor = first
        for i in range(bisect_left(ends, first), len(starts)):
            if starts[i] > last:
                break
            if starts[i] > cursor:
                out.append(Range(cursor, starts[i] - 1))
            cursor = ends[i] + 1
            if cursor > last:
                break
        if cursor <= last:
            out.append(Range(cursor, last))
        return out


def collect(entries: Iterable[en.EntryLike], party: str) -> Facts:
    """Party ``party``'s first transfers, uses, inventory figures and reported rows, from
    audit entries in log order; and its uses of units never first transferred before.

    An entry the entry models refuse cannot be read (CTF-103): it might hold rows.
    """
    facts = Facts(party)
    covered = _Coverage()
    for n, raw in enumerate(entries):
        entry = en.read_entry(raw)
        if entry is None:
            raise _bad(f"audit entry {n} of the log is not an entry of a known kind")
        if not isinstance(entry, en.DecisionEntry):
            continue
        eid, kind = entry.entry_id, entry.input.type
        recorded = entry.outcome == "recorded"
        if kind == OPENING_TYPE and recorded:
            _add_opening(covered, entry)
        data = entry.data
        if recorded and kind == INVENTORY_TYPE and isinstance(data, ev.InventoryEmissions):
            if data.party == party:
                _add_figure(facts, entry, data)
        elif recorded and kind == REPORTED_TYPE and isinstance(data, ev.StructuredSummaryReported):
            if data.party == party:
                _add_reported(facts, entry, data)
        for row in entry.a6 or ():
            _add_row(facts, covered, eid, entry, row)
    return facts


def _add_row(
    facts: Facts, covered: _Coverage, eid: str, entry: en.DecisionEntry, row: ep.ActionRow
) -> None:
    if row.action == "First transfer":
        item = _item(eid, row, _year_of(entry.decided_at))
        c = item.counted
        covered.add(c.ca_id, c.origin, c.first, c.last)  # whoever first transferred them
        if row.first_transferring_party == facts.party:
            facts.first_transfers.append(item)
    elif row.action == "Use" and row.using_party == facts.party:
        if row.use_year is None:
            raise _bad(f"entry {eid}: a Use row without a use year")
        item = _item(eid, row, row.use_year)
        c = item.counted
        gaps = covered.gaps(c.ca_id, c.origin, c.first, c.last)
        if gaps:
            facts.unbacked.append(Unbacked(item, tuple(gaps)))
        facts.uses.append(item)


def _add_opening(covered: _Coverage, entry: en.DecisionEntry) -> None:
    """Opening holdings a registry brought already first transferred: the legitimate
    exception to "no use without an earlier first transfer in the log"."""
    for b in entry.blocks:
        if b.first_transferred:
            covered.add(b.ca_id, b.origin, int(b.start), int(b.end))


def _add_figure(facts: Facts, entry: en.DecisionEntry, data: ev.InventoryEmissions) -> None:
    eid = entry.entry_id
    emissions = _decimal(data.emissions_tco2e, f"inventory entry {eid}")
    figure = Figure(eid, data.submission_id, emissions, entry.decided_at)
    facts.inventory.setdefault(data.year, []).append(figure)


def _add_reported(
    facts: Facts, entry: en.DecisionEntry, data: ev.StructuredSummaryReported
) -> None:
    eid = entry.entry_id
    rows: dict[str, Decimal | None] = {}
    for n in range(7, 15):
        value: str | None = getattr(data.rows, f"r{n}")
        rows[f"R{n}"] = None if value is None else _decimal(value, f"summary entry {eid} r{n}")
    reported = Reported(eid, entry.decided_at, rows)
    facts.reported.setdefault(data.year, []).append(reported)
