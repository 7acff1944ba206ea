"""Unit serial block algebra over plain integers.

A serial space is ``(cooperative approach, originating registry)``: serials are unique within
it (one unit, one place: 3/CMP.1 appendix D para 4, carried into Article 6 by the unique ITMO
identifier of decision 6/CMA.4). Holdings are non-overlapping inclusive ranges; a move splits
a block into at most three pieces, each keyed by its first serial, so the pieces always tile
the original range and no key is ever orphaned.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from gateway.core.frozen import quick_init

BlockState = Literal["held", "reserved", "retired", "cancelled"]
TERMINAL: frozenset[str] = frozenset({"retired", "cancelled"})
K = TypeVar("K", bound=Hashable)


@quick_init
@dataclass(frozen=True)
class Range:
    """An inclusive serial range ``[start, end]``."""

    start: int
    end: int

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1

    def wire(self) -> dict[str, str]:
        return {"serial_start": str(self.start), "serial_end": str(self.end)}


@quick_init
@dataclass(frozen=True)
class Block:
    """One held (or terminal) range of units and where it is."""

    ca_id: str
    origin: str
    start: int
    end: int
    vintage: int
    unit_type: str
    registry: str
    account: str
    state: BlockState = "held"
    first_transferred: bool = False
    reserved_by: str | None = None
    # The authorization under which the units were first transferred: their purposes
    # survive every later transfer.
    authorization_id: str | None = None

    @property
    def key(self) -> str:
        return block_key(self.ca_id, self.origin, self.start)

    @property
    def range(self) -> Range:
        return Range(self.start, self.end)

    @property
    def quantity(self) -> int:
        return self.end - self.start + 1

    def to_record(self) -> dict[str, Any]:
        """JSON-ready record; serials as decimal strings (RFC 8785 cannot carry big ints)."""
        # Written out rather than dataclasses.asdict, which deep-copies and is slow.
        return {
            "ca_id": self.ca_id,
            "origin": self.origin,
            "start": str(self.start),
            "end": str(self.end),
            "vintage": self.vintage,
            "unit_type": self.unit_type,
            "registry": self.registry,
            "account": self.account,
            "state": self.state,
            "first_transferred": self.first_transferred,
            "reserved_by": self.reserved_by,
            "authorization_id": self.authorization_id,
        }

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Block:
        """The block a :meth:`to_record` record describes."""
        data = dict(rec)
        data["start"], data["end"] = int(data["start"]), int(data["end"])
        return cls(**data)


_FIELDS = frozenset(Block.__dataclass_fields__)


def evolve(block: Block, **changes: Any) -> Block:
    """``dataclasses.replace(block, **changes)`` without its generic machinery (a block has
    no ``__post_init__`` and no field outside ``__init__``): the hot path splits blocks."""
    if not changes.keys() <= _FIELDS:
        raise TypeError(f"not block fields: {sorted(changes.keys() - _FIELDS)}")
    new = object.__new__(Block)
    fields = new.__dict__
    fields.update(block.__dict__)
    fields.update(changes)
    return new


def block_key(ca_id: str, origin: str, start: int) -> str:
    """Table key of a block; zero-padded so keys of one space sort by serial."""
    return f"{ca_id}|{origin}|{start:018d}"


def malformed(ranges: Sequence[Range]) -> list[Range]:
    """Ranges whose start is after their end (BLK-001)."""
    return [r for r in ranges if r.start > r.end]


def overlapping_pairs(ranges: Sequence[Range]) -> list[Range]:
    """Ranges of one transaction that overlap another of the same transaction (BLK-002)."""
    ordered = sorted((r for r in ranges if r.start <= r.end), key=lambda r: (r.start, r.end))
    bad: dict[Range, None] = {}
    # Compare each range with the one reaching furthest so far, not just its neighbour:
    # in [1, 100], [10, 20], [30, 40] the last overlaps the first only.
    reach: Range | None = None
    for cur in ordered:
        if reach is not None and cur.start <= reach.end:
            bad[reach] = None
            bad[cur] = None
        if reach is None or cur.end > reach.end:
            reach = cur
    return sorted(bad, key=lambda r: (r.start, r.end))


def intersect(
    blocks: Iterable[Block], want: Range
) -> tuple[list[tuple[Block, Range]], list[Range]]:
    """Split ``want`` into the parts covered by ``blocks`` and the gaps no block covers.

    ``blocks`` must be non-overlapping; they may be in any order.
    """
    covered: list[tuple[Block, Range]] = []
    gaps: list[Range] = []
    cursor = want.start
    for b in sorted(blocks, key=lambda b: b.start):
        if b.end < want.start or b.start > want.end:
            continue
        lo, hi = max(b.start, want.start), min(b.end, want.end)
        if lo > cursor:
            gaps.append(Range(cursor, lo - 1))
        covered.append((b, Range(lo, hi)))
        cursor = hi + 1
    if cursor <= want.end:
        gaps.append(Range(cursor, want.end))
    return covered, gaps


def carve(block: Block, part: Range, **changes: Any) -> list[Block]:
    """Pieces of ``block`` after giving ``part`` (inside it) the attribute ``changes``.

    Returns one to three blocks that tile the original range exactly: the part before
    (unchanged), the changed part, and the part after (unchanged).
    """
    if part.start < block.start or part.end > block.end or part.start > part.end:
        raise ValueError(f"{part} is not inside block [{block.start}, {block.end}]")
    pieces: list[Block] = []
    if part.start > block.start:
        pieces.append(evolve(block, end=part.start - 1))
    pieces.append(evolve(block, start=part.start, end=part.end, **changes))
    if part.end < block.end:
        pieces.append(evolve(block, start=part.end + 1))
    return pieces


def merge_ranges(ranges: Iterable[Range]) -> list[Range]:
    """Sorted union of ranges, adjacent ones joined."""
    out: list[Range] = []
    for r in sorted(ranges, key=lambda r: r.start):
        if out and r.start <= out[-1].end + 1:
            out[-1] = Range(out[-1].start, max(out[-1].end, r.end))
        else:
            out.append(r)
    return out


def coalesce(pieces: Iterable[tuple[K, Range]]) -> list[tuple[K, Range]]:
    """Pieces of equal key joined where their serials touch or overlap.

    ``K`` says what must be equal for two pieces to join (their serial space, and any
    attribute that tells units apart); each key's ranges become its sorted, disjoint,
    non-adjacent union, and keys keep the order they first appear in. A backwards range
    (start after end) names no serial: it is kept as it is, after the merged ones of its key.
    """
    groups: dict[K, tuple[list[Range], list[Range]]] = {}
    for key, r in pieces:
        well, backwards = groups.setdefault(key, ([], []))
        (well if r.start <= r.end else backwards).append(r)
    return [
        (key, r)
        for key, (well, backwards) in groups.items()
        for r in (*merge_ranges(well), *backwards)
    ]


def serial_set(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Ranges of one serial space as the set of serials they name: adjacent ones joined."""
    return tuple(r for _, r in coalesce(((), r) for r in ranges))
