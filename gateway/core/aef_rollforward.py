"""What the audit log says a Party held at a year's end, and whether it rolls forward.

The log is read in its order. A block's state at a time is its latest record among the
decision entries decided up to then (each entry's ``blocks`` list is every block it touched,
after the decision; the latest record per ``(ca_id, origin, start)`` is the block's state,
as :func:`gateway.services.reconciliation.gateway_view` folds it). A Party's ITMO holdings are its
registries' blocks that were first transferred and are held or reserved.

I-AEF-1 (domain.md §e.3), per (cooperative approach, authorization, vintage) of the
Party's registries: ``Holdings(Y) = Holdings(Y-1) + in(Y) - out(Y)``. The holdings come
from the block states, the flows from the Article 6 rows of the entries decided in Y; the
two are written independently, which is what makes the check worth running:

- in: Acquisition rows into the Party's registries; First transfer rows whose units stay
  where they are (subtypes Issuance, Authorization, Use or cancellation: they become ITMOs
  in that registry); first-transferred blocks that opening holdings bring into them;
- out: Transfer rows out of them; Use and Cancellation rows of units in them;
- neither: a First transfer to another Party (the units were not ITMOs in the sender's
  holdings; the acquiring side's Acquisition row brings them in there).

Rows are placed by their ``registry``, not their ``party``: a use by another Party of
units held in this Party's registry leaves this Party's holdings.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.core.aef_vocab import ACTIONS, INCONSISTENT, NO_ROLL_FORWARD, controlled
from gateway.errors import AefError

Entry = Mapping[str, Any]
Key = tuple[str, str, int]  # (cooperative approach, authorization, vintage)
OPENING_TYPE = "a6gw.holdings.opening.v1"
_DECIDED_AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
INFLOWS = ("acquired", "first_transferred", "opened")
OUTFLOWS = ("transferred", "used", "cancelled")


def year_end(year: int) -> str:
    """The last instant of ``year``, as the gateway writes times (UTC, milliseconds)."""
    return f"{year}-12-31T23:59:59.999Z"


def decided_at(entry: Entry) -> str:
    """The entry's decision time (RFC 3339 UTC); a coded refusal if it has none."""
    at = entry.get("decided_at")
    if not isinstance(at, str) or not _DECIDED_AT.match(at):
        raise AefError(
            f"audit entry {entry.get('entry_id')!r} has no valid decided_at: {at!r}",
            code=INCONSISTENT,
        )
    return at


def _up_to(at: str, cutoff: str) -> bool:
    # Fixed-width UTC times order as strings; a time with more than 3 fraction digits
    # compares on its first 23 characters (to the millisecond).
    return at[:23] <= cutoff[:23]


def blocks_as_of(entries: Iterable[Entry], cutoff: str) -> dict[tuple[str, str, int], Entry]:
    """Every block's latest record among the entries decided up to ``cutoff``."""
    latest: dict[tuple[str, str, int], Entry] = {}
    for entry in entries:
        if not entry.get("blocks") or not _up_to(decided_at(entry), cutoff):
            continue
        for b in entry["blocks"]:
            latest[(str(b["ca_id"]), str(b["origin"]), int(b["start"]))] = b
    return latest


def is_itmo_holding(block: Entry, registries: Collection[str]) -> bool:
    """An ITMO held (or reserved for a transfer) in one of ``registries``."""
    return (
        block.get("registry") in registries
        and bool(block.get("first_transferred"))
        and block.get("state") in ("held", "reserved")
    )


def itmo_holdings(
    entries: Iterable[Entry], cutoff: str, registries: Collection[str]
) -> list[Entry]:
    """The ITMO blocks in ``registries`` at ``cutoff``, by registry, space and serial."""
    held = [b for b in blocks_as_of(entries, cutoff).values() if is_itmo_holding(b, registries)]
    return sorted(held, key=lambda b: (b["registry"], b["ca_id"], b["origin"], int(b["start"])))


def block_key(block: Entry) -> Key:
    return (str(block["ca_id"]), str(block.get("authorization_id") or ""), int(block["vintage"]))


def row_key(row: Entry) -> Key:
    return (str(row["ca_id"]), str(row.get("authorization_id") or ""), int(row["vintage"]))


def row_quantity(row: Entry, where: str) -> int:
    """A row's quantity, which must be the size of its serial range."""
    try:
        first, last, qty = int(row["first"]), int(row["last"]), int(row["quantity"])
    except (KeyError, TypeError, ValueError) as exc:
        raise AefError(f"{where}: malformed serials or quantity", code=INCONSISTENT) from exc
    if first > last or qty != last - first + 1:
        raise AefError(
            f"{where}: quantity {qty} is not the size of serials {first}-{last}", code=INCONSISTENT
        )
    return qty


def flow(row: Entry, registries: Collection[str]) -> str | None:
    """Which flow of the holdings of ``registries`` a row is (see the module docstring)."""
    action = controlled(ACTIONS, "Action type", "Action type", row.get("action"))
    if row.get("registry") not in registries:
        return None
    if action == "Acquisition":
        return "acquired"
    if action == "First transfer":
        other_party = row.get("subtype") == "First transfer to another Party"
        return None if other_party else "first_transferred"
    if action == "Transfer":
        return "transferred"
    if action == "Use":
        return "used"
    if action in ("Cancellation", "Voluntary Cancellation"):
        return "cancelled"
    return None  # Authorization: no units move


@dataclass(frozen=True)
class Line:
    """One (cooperative approach, authorization, vintage) of the roll-forward."""

    ca_id: str
    authorization_id: str
    vintage: int
    opening: int  # held at the end of the year before
    flows: tuple[tuple[str, int], ...]  # (flow, quantity), INFLOWS then OUTFLOWS
    closing: int  # held at the end of the year

    @property
    def inflow(self) -> int:
        return sum(q for f, q in self.flows if f in INFLOWS)

    @property
    def outflow(self) -> int:
        return sum(q for f, q in self.flows if f in OUTFLOWS)

    @property
    def expected(self) -> int:
        return self.opening + self.inflow - self.outflow

    @property
    def ok(self) -> bool:
        return self.expected == self.closing

    def text(self) -> str:
        return (
            f"{self.ca_id}/{self.authorization_id or '(none)'}/{self.vintage}: "
            f"{self.opening} + {self.inflow} - {self.outflow} = {self.expected}, "
            f"holdings {self.closing}"
        )


@dataclass(frozen=True)
class RollForward:
    party: str
    year: int
    lines: tuple[Line, ...]

    @property
    def ok(self) -> bool:
        return all(line.ok for line in self.lines)

    @property
    def failures(self) -> tuple[Line, ...]:
        return tuple(line for line in self.lines if not line.ok)


def _sums(blocks: Iterable[Entry]) -> dict[Key, int]:
    out: dict[Key, int] = {}
    for b in blocks:
        k = block_key(b)
        out[k] = out.get(k, 0) + int(b["end"]) - int(b["start"]) + 1
    return out


def roll_forward(
    entries: Iterable[Entry], party: str, year: int, registries: Collection[str]
) -> RollForward:
    """I-AEF-1 for ``party`` (its ITMO registries ``registries``) and ``year``."""
    log = list(entries)
    opening = _sums(itmo_holdings(log, year_end(year - 1), registries))
    closing = _sums(itmo_holdings(log, year_end(year), registries))
    moved: dict[Key, dict[str, int]] = {}
    for entry in log:
        if not decided_at(entry).startswith(f"{year}-"):
            continue
        where = f"audit entry {entry.get('entry_id')}"
        for n, row in enumerate(entry.get("a6") or ()):
            kind = flow(row, registries)
            if kind is not None:
                per = moved.setdefault(row_key(row), {})
                per[kind] = per.get(kind, 0) + row_quantity(row, f"{where} row {n}")
        if entry.get("input", {}).get("type") == OPENING_TYPE:
            for b in entry.get("blocks") or ():
                if is_itmo_holding(b, registries):
                    per = moved.setdefault(block_key(b), {})
                    per["opened"] = per.get("opened", 0) + int(b["end"]) - int(b["start"]) + 1
    lines = [
        Line(
            k[0],
            k[1],
            k[2],
            opening.get(k, 0),
            tuple((f, moved[k][f]) for f in (*INFLOWS, *OUTFLOWS) if moved.get(k, {}).get(f)),
            closing.get(k, 0),
        )
        for k in sorted(set(opening) | set(closing) | set(moved))
    ]
    return RollForward(party, year, tuple(lines))


def require(rf: RollForward) -> RollForward:
    """``rf`` if every key rolls forward; else a coded refusal listing those that do not."""
    if rf.ok:
        return rf
    keys = "; ".join(line.text() for line in rf.failures)
    raise AefError(
        f"{rf.party} {rf.year}: holdings do not roll forward (I-AEF-1) for {keys}",
        code=NO_ROLL_FORWARD,
    )
