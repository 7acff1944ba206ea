"""Ledger state as plain tables of JSON records, and the effects that change it.

The pure core never writes state: it returns :class:`Put` effects. The edge applies them to
durable tables (faust, changelog-backed) and to a :class:`LedgerState` mirror used for reads.
Each put carries the version (the ledger input offset) of the decision that made it, so
re-applying an old decision's effects on a redelivery never rolls newer state back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from sortedcontainers import SortedDict

from gateway.core.blocks import Block, Range

TableName = Literal[
    "blocks",
    "decisions",
    "jc_decisions",
    "authorizations",
    "transfers",
    "accounts",
    "openings",
    "transactions",
]
TABLES: tuple[TableName, ...] = (
    "blocks",
    "decisions",
    "jc_decisions",
    "authorizations",
    "transfers",
    "accounts",
    "openings",
    "transactions",
)
# Read by every partition: kept in faust global tables.
GLOBAL_TABLES: frozenset[TableName] = frozenset({"accounts", "authorizations"})
VERSION = "_v"


@dataclass(frozen=True)
class Put:
    """Set ``table[key] = value`` (value is a JSON-ready dict)."""

    table: TableName
    key: str
    value: dict[str, Any]


def newer_or_equal(existing: Mapping[str, Any] | None, version: int) -> bool:
    """True when a put of ``version`` may overwrite ``existing``."""
    return existing is None or int(existing.get(VERSION, -1)) <= version


class LedgerState:
    """Read side of the ledger: the tables plus a per-serial-space index of blocks.

    ``tables`` may be plain dicts (tests) or faust tables (the worker); either way the
    state is what those mappings hold, and :meth:`rebuild_index` re-derives the index.
    """

    def __init__(self, tables: Mapping[TableName, MutableMapping[str, Any]] | None = None):
        self.tables: dict[TableName, MutableMapping[str, Any]] = {
            name: (tables[name] if tables and name in tables else {}) for name in TABLES
        }
        self._index: dict[tuple[str, str], SortedDict] = {}
        # Units each account holds (state "held") per serial space, derived like the index.
        self._held: dict[tuple[str, str, str, str], int] = {}
        self.rebuild_index()

    # ---- writes -------------------------------------------------------------------------
    def apply(self, effects: Iterable[Put], version: int) -> None:
        """Apply effects with version guarding; re-applying the same effects is a no-op."""
        for eff in effects:
            table = self.tables[eff.table]
            if not newer_or_equal(table.get(eff.key), version):
                continue
            value = dict(eff.value)
            value[VERSION] = version
            table[eff.key] = value
            if eff.table == "blocks":
                self._index_block(Block.from_record(_strip(value)))

    def rebuild_index(self) -> None:
        self._index.clear()
        self._held.clear()
        for rec in self.tables["blocks"].values():
            self._index_block(Block.from_record(_strip(rec)))

    def _index_block(self, block: Block) -> None:
        space = self._index.setdefault((block.ca_id, block.origin), SortedDict())
        # Blocks are keyed by first serial and a split's pieces tile the old block, so the
        # block a put replaces is the one stored under the same first serial.
        old = space.get(block.start)
        for b, sign in ((old, -1), (block, 1)):
            if b is not None and b.state == "held":
                key = (b.ca_id, b.origin, b.registry, b.account)
                self._held[key] = self._held.get(key, 0) + sign * b.quantity
        space[block.start] = block

    # ---- reads --------------------------------------------------------------------------
    def overlapping(self, ca_id: str, origin: str, want: Range) -> list[Block]:
        """Blocks of the serial space ``(ca_id, origin)`` that overlap ``want``, by serial."""
        space = self._index.get((ca_id, origin))
        if not space:
            return []
        out: list[Block] = []
        # The block holding want.start starts at or before it; later ones start inside want.
        pos = space.bisect_right(want.start)
        if pos > 0:
            first: Block = space.peekitem(pos - 1)[1]
            if first.end >= want.start:
                out.append(first)
        for start in space.irange(want.start + 1 if out else want.start, want.end):
            out.append(space[start])
        return out

    def blocks(self) -> Iterator[Block]:
        for space in self._index.values():
            yield from space.values()

    def held(self, ca_id: str, origin: str, registry: str, account: str) -> int:
        """Units ``registry/account`` holds (not reserved, not terminal) in one serial space."""
        return self._held.get((ca_id, origin, registry, account), 0)

    def space(self, ca_id: str, origin: str) -> Iterator[Block]:
        """Every block of one serial space, by serial."""
        yield from self._index.get((ca_id, origin), {}).values()

    def get(self, table: TableName, key: str) -> dict[str, Any] | None:
        rec = self.tables[table].get(key)
        return _strip(rec) if rec is not None else None

    def values(self, table: TableName, prefix: str) -> list[dict[str, Any]]:
        return [_strip(v) for k, v in self.tables[table].items() if str(k).startswith(prefix)]


def _strip(rec: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if k != VERSION}
