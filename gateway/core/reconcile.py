"""Snapshot reconciliation of the gateway's holdings against a registry's snapshot (DES-style).

Phase 1 compares unit totals per cell (registry, account type, cooperative approach, vintage,
unit type); phase 2 sweeps the serial ranges of each serial space (cooperative approach,
originating registry) on both sides, sorted once and merged: O(n log n) in the holdings,
never per unit; phase 3 lists the ranges whose audit trail must be replayed (the edge code
looks each up with the audit store's serial search). :func:`reconcile` runs them all:
``completed`` when totals and blocks agree, ``totals-inconsistent`` when a cell's total
differs (blocks are then compared in those cells), ``blocks-inconsistent`` when totals agree
but blocks do not. ``completed-with-manual-intervention`` comes only from
:func:`resolve_manually`, after an operator's signed correction; ``initiated`` is a run's
state before its result.

Discrepancy codes (stable; a code never changes meaning), with the block diff ``kind``:

- REC-001 (cell): a cell's unit total differs between gateway and registry;
- REC-002 missing-at-registry: the gateway holds serials the registry does not hold;
- REC-003 extra-at-registry: the registry holds serials the gateway does not know;
- REC-004 account-differs: the same serials are held in another registry or account;
- REC-005 attributes-differ: same account, another vintage, unit type or account type;
- REC-006 held-twice: one side holds a serial more than once (reported with no other code).

A block diff is a maximal serial range with the same places on each side, so the result does
not depend on how either side happens to split its blocks.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from operator import itemgetter
from typing import Any, Literal

Status = Literal[
    "initiated",
    "totals-inconsistent",
    "blocks-inconsistent",
    "completed",
    "completed-with-manual-intervention",
]
Kind = Literal[
    "missing-at-registry",
    "extra-at-registry",
    "account-differs",
    "attributes-differ",
    "held-twice",
]
#: (registry, account type, cooperative approach, vintage, unit type)
Cell = tuple[str, str, str, int, str]
#: Where a serial is: (registry, account, account type, vintage, unit type)
Place = tuple[str, str, str, int, str]
#: A serial range whose audit trail must be replayed: (ca_id, origin, start, end)
TrailRange = tuple[str, str, int, int]
#: Which cells phase 2 compared
Scope = Literal["inconsistent-cells", "every-cell"]

KIND_CODE: dict[str, str] = {
    "missing-at-registry": "REC-002",
    "extra-at-registry": "REC-003",
    "account-differs": "REC-004",
    "attributes-differ": "REC-005",
    "held-twice": "REC-006",
}
PLACE_FIELDS = ("registry", "account", "account_type", "vintage", "unit_type")
CELL_FIELDS = ("registry", "account_type", "ca_id", "vintage", "unit_type")


@dataclass(frozen=True, slots=True)
class Holding:
    """Units ``[start, end]`` (inclusive) of one serial space held in one account."""

    registry: str
    account: str
    account_type: str
    ca_id: str
    origin: str
    vintage: int
    unit_type: str
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"holding serials [{self.start}, {self.end}] are not a range")

    @property
    def cell(self) -> Cell:
        return (self.registry, self.account_type, self.ca_id, self.vintage, self.unit_type)


@dataclass(frozen=True, slots=True)
class CellDiff:
    """Phase 1: a cell whose unit totals differ (REC-001)."""

    cell: Cell
    ours: int
    theirs: int
    code: str = "REC-001"

    def to_dict(self) -> dict[str, Any]:
        counts = {"ours": str(self.ours), "theirs": str(self.theirs)}
        return {"code": self.code} | dict(zip(CELL_FIELDS, self.cell, strict=True)) | counts


@dataclass(frozen=True, slots=True)
class BlockDiff:
    """Phase 2: serials ``[start, end]`` of one space on which the two sides disagree, and
    the places each side holds them in: none (not held), one, or several (held twice)."""

    code: str
    kind: Kind
    ca_id: str
    origin: str
    start: int
    end: int
    ours: tuple[Place, ...]
    theirs: tuple[Place, ...]

    def to_dict(self) -> dict[str, Any]:
        where = {"ca_id": self.ca_id, "origin": self.origin}
        serials = {"start": str(self.start), "end": str(self.end)}
        places = {
            side: [dict(zip(PLACE_FIELDS, p, strict=True)) for p in held]
            for side, held in (("ours", self.ours), ("theirs", self.theirs))
        }
        return {"code": self.code, "kind": self.kind} | where | serials | places


@dataclass(frozen=True, slots=True)
class Report:
    """The outcome of one reconciliation."""

    status: Status
    cell_diffs: tuple[CellDiff, ...]
    block_diffs: tuple[BlockDiff, ...]
    trail: tuple[TrailRange, ...]
    cells_compared: int
    blocks_compared: int
    scope: Scope

    @property
    def codes(self) -> list[str]:
        return sorted({d.code for d in self.cell_diffs} | {d.code for d in self.block_diffs})

    def to_dict(self) -> dict[str, Any]:
        counts = {"cells_compared": self.cells_compared, "blocks_compared": self.blocks_compared}
        return {
            "status": self.status,
            "scope": self.scope,
            "codes": self.codes,
            "counts": counts,
            "cells": [d.to_dict() for d in self.cell_diffs],
            "blocks": [d.to_dict() for d in self.block_diffs],
            "trail": [
                {"ca_id": c, "origin": o, "start": str(s), "end": str(e)}
                for c, o, s, e in self.trail
            ],
        }

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, no spaces, serials and totals as decimal strings."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


def compare_totals(ours: Mapping[Cell, int], theirs: Mapping[Cell, int]) -> list[CellDiff]:
    """The cells whose totals differ (a cell one side lacks counts 0 there), sorted."""
    return [
        CellDiff(cell, ours.get(cell, 0), theirs.get(cell, 0))
        for cell in sorted(ours.keys() | theirs.keys())
        if ours.get(cell, 0) != theirs.get(cell, 0)
    ]


# Both sides are indexed once by (space, place), with unit sums for phase 1 and segments
# (start, end, places id) for phase 2. Places are interned in one table for both sides, so
# comparing two ranges compares ints and a holding costs one small tuple of ints.
_Key = tuple[str, str, str, str, str, int, str]  # (ca_id, origin) + Place
_Seg = tuple[int, int, int]
_Ids = dict[tuple[Place, ...], int]  # held in these places -> id (= insertion index)
_NONE = -1  # the places id of "not held"
_Places = list[tuple[Place, ...]]  # places id -> places
_Out = list[BlockDiff]
_Index = dict[_Key, list[Any]]  # (space, place) -> [units, segments, places id]


def _index(holdings: Iterable[Holding], ids: _Ids) -> _Index:
    idx: _Index = {}
    for h in holdings:
        k = (h.ca_id, h.origin, h.registry, h.account, h.account_type, h.vintage, h.unit_type)
        entry = idx.get(k)
        if entry is None:
            idx[k] = entry = [0, [], ids.setdefault((k[2:],), len(ids))]
        entry[0] += h.end - h.start + 1
        entry[1].append((h.start, h.end, entry[2]))
    return idx


def _cell(k: _Key) -> Cell:
    return (k[2], k[4], k[0], k[5], k[6])


def _totals(idx: _Index) -> dict[Cell, int]:
    out: dict[Cell, int] = {}
    for k, entry in idx.items():
        out[_cell(k)] = out.get(_cell(k), 0) + entry[0]
    return out


def block_diffs(
    ours: Iterable[Holding], theirs: Iterable[Holding], cells: Collection[Cell] | None = None
) -> list[BlockDiff]:
    """Serial ranges on which the sides disagree, by (ca_id, origin, start), among the
    holdings in ``cells`` (all when None) of both sides: moves between them are REC-004/5."""
    ids: _Ids = {}
    scope = None if cells is None else frozenset(cells)
    return _block_diffs(_index(ours, ids), _index(theirs, ids), scope, ids)[0]


def _block_diffs(
    mine: _Index, other: _Index, scope: frozenset[Cell] | None, ids: _Ids
) -> tuple[list[BlockDiff], int]:
    """The diffs and the number of holdings (both sides) compared."""
    spaces: dict[tuple[str, str], tuple[list[_Seg], list[_Seg]]] = {}
    compared = 0
    for side, idx in enumerate((mine, other)):
        for k, entry in idx.items():
            if scope is None or _cell(k) in scope:
                spaces.setdefault(k[:2], ([], []))[side].extend(entry[1])
                compared += len(entry[1])
    flat = {space: (_flat(o, ids), _flat(t, ids)) for space, (o, t) in spaces.items()}
    places = list(ids)
    out: list[BlockDiff] = []
    for space in sorted(flat):
        _compare_space(space, *flat[space], places, out)
    return out, compared


def _flat(segs: list[_Seg], ids: _Ids) -> list[_Seg]:
    """One side's segments sorted and made disjoint (overlaps become multi-place pieces)."""
    segs.sort(key=itemgetter(0))
    if not any(a[1] >= b[0] for a, b in pairwise(segs)):
        return segs  # the usual case: sorted by start and pairwise disjoint
    places = list(ids)
    events = sorted(x for k, (s, e, _) in enumerate(segs) for x in ((s, 1, k), (e + 1, 0, k)))
    active: dict[int, Place] = {}
    out: list[_Seg] = []
    prev = 0
    for pos, opens, k in events:
        if active and pos > prev:
            out.append((prev, pos - 1, ids.setdefault(tuple(sorted(active.values())), len(ids))))
        prev = pos
        if opens:
            active[k] = places[segs[k][2]][0]
        else:
            del active[k]
    return out


def _compare_space(
    space: tuple[str, str], ours: list[_Seg], theirs: list[_Seg], places: _Places, out: _Out
) -> None:
    """Merge two disjoint sorted segment lists, emitting maximal runs of disagreement."""
    runs = _Runs(space, places, out)
    emit = runs.emit
    i = j = 0
    n_o, n_t = len(ours), len(theirs)
    cur = 0  # the first serial not yet accounted for
    while i < n_o and j < n_t:
        o_s, o_e, op = ours[i]
        t_s, t_e, tp = theirs[j]
        if o_s < cur:
            o_s = cur
        if t_s < cur:
            t_s = cur
        if o_e < t_s:
            emit(o_s, o_e, op, _NONE)
            cur = o_e + 1
            i += 1
            continue
        if t_e < o_s:
            emit(t_s, t_e, _NONE, tp)
            cur = t_e + 1
            j += 1
            continue
        if o_s < t_s:
            emit(o_s, t_s - 1, op, _NONE)
        elif t_s < o_s:
            emit(t_s, o_s - 1, _NONE, tp)
        lo = o_s if o_s > t_s else t_s
        hi = o_e if o_e < t_e else t_e
        if op != tp or len(places[op]) > 1:
            emit(lo, hi, op, tp)
        cur = hi + 1
        if o_e == hi:
            i += 1
        if t_e == hi:
            j += 1
    for s, e, p in ours[i:]:
        emit(max(s, cur), e, p, _NONE)
    for s, e, p in theirs[j:]:
        emit(max(s, cur), e, _NONE, p)
    runs.close()


class _Runs:
    """The runs of disagreement of one serial space, in serial order: a run that continues
    the one before it with the same places on both sides extends it."""

    __slots__ = ("out", "pending", "places", "space")

    def __init__(self, space: tuple[str, str], places: _Places, out: _Out) -> None:
        self.space, self.places, self.out = space, places, out
        self.pending: list[int] | None = None  # [start, end, ours places id, theirs places id]

    def emit(self, lo: int, hi: int, op: int, tp: int) -> None:
        pending = self.pending
        if pending is not None:
            if pending[1] + 1 == lo and pending[2] == op and pending[3] == tp:
                pending[1] = hi
                return
            self.out.append(_diff(self.space, self.places, *pending))
        self.pending = [lo, hi, op, tp]

    def close(self) -> None:
        if self.pending is not None:
            self.out.append(_diff(self.space, self.places, *self.pending))


def _diff(space: tuple[str, str], places: _Places, lo: int, hi: int, o: int, t: int) -> BlockDiff:
    op = places[o] if o != _NONE else ()
    tp = places[t] if t != _NONE else ()
    kind: Kind
    if len(op) > 1 or len(tp) > 1:
        kind = "held-twice"
    elif not tp:
        kind = "missing-at-registry"
    elif not op:
        kind = "extra-at-registry"
    elif op[0][:2] != tp[0][:2]:
        kind = "account-differs"
    else:
        kind = "attributes-differ"
    return BlockDiff(KIND_CODE[kind], kind, *space, lo, hi, op, tp)


def trail_candidates(diffs: Iterable[BlockDiff]) -> list[TrailRange]:
    """The serial ranges whose audit trail must be replayed: the diffs' ranges, joined where
    they touch or overlap, sorted (one store search each)."""
    ranges = sorted((d.ca_id, d.origin, d.start, d.end) for d in diffs)
    out: list[TrailRange] = []
    for ca_id, origin, s, e in ranges:
        if out and out[-1][:2] == (ca_id, origin) and s <= out[-1][3] + 1:
            out[-1] = (ca_id, origin, out[-1][2], max(e, out[-1][3]))
        else:
            out.append((ca_id, origin, s, e))
    return out


def reconcile(
    ours: Iterable[Holding], theirs: Iterable[Holding], *, every_cell: bool = False
) -> Report:
    """Phases 1-2 and phase 3's candidates: ``ours`` is the gateway's view, ``theirs`` the
    registry's snapshot. Blocks are compared in the cells whose totals differ (as DES does),
    or in every cell when all totals agree or ``every_cell`` is set."""
    ids: _Ids = {}
    mine, other = _index(ours, ids), _index(theirs, ids)
    t_ours, t_theirs = _totals(mine), _totals(other)
    cells = compare_totals(t_ours, t_theirs)
    scope = frozenset(d.cell for d in cells) if cells and not every_cell else None
    diffs, compared = _block_diffs(mine, other, scope, ids)
    status: Status = "completed"
    if cells:
        status = "totals-inconsistent"
    elif diffs:
        status = "blocks-inconsistent"
    n_cells = len(t_ours.keys() | t_theirs.keys())
    trail = tuple(trail_candidates(diffs))
    name: Scope = "every-cell" if scope is None else "inconsistent-cells"
    return Report(status, tuple(cells), tuple(diffs), trail, n_cells, compared, name)


def resolve_manually(report: Report) -> Report:
    """The report closed by an operator's (signed, recorded) correction: DES status
    "completed with manual intervention". Only an inconsistent run can be resolved."""
    if report.status not in ("totals-inconsistent", "blocks-inconsistent"):
        raise ValueError(f"a {report.status} reconciliation needs no manual intervention")
    return replace(report, status="completed-with-manual-intervention")


def holdings_from_blocks(
    blocks: Iterable[Mapping[str, Any]], account_types: Mapping[tuple[str, str], str]
) -> list[Holding]:
    """Holdings of the "held" block records (``Block.to_record()``, the latest per (ca_id,
    origin, start)); account types by (registry, account), else "unknown"."""
    out: list[Holding] = []
    for b in blocks:
        if b.get("state", "held") != "held":
            continue
        registry, account = str(b["registry"]), str(b["account"])
        kind = account_types.get((registry, account), "unknown")
        ca_id, origin, unit_type = str(b["ca_id"]), str(b["origin"]), str(b["unit_type"])
        vintage, start, end = int(b["vintage"]), int(b["start"]), int(b["end"])
        out.append(Holding(registry, account, kind, ca_id, origin, vintage, unit_type, start, end))
    return out
