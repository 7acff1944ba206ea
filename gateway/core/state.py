"""Ledger state: tables of JSON records, the indexes every check reads, and the effects that
change them.

The pure core never writes state: it returns :class:`Put` effects. The edge applies them to
a :class:`LedgerState` (and, if it passes backing mappings, to those: faust tables or
dicts). Each put carries the version (the ledger input offset) of the decision that made it,
so re-applying an old decision's effects on a redelivery never rolls newer state back.

No read scans a table: :meth:`LedgerState.apply` keeps an index for every question a check
asks (blocks by serial, units held per account, authorizations by approach and Party, units
pending first transfer per authorization, open transfers by deadline), and
:meth:`LedgerState.rebuild_index` derives them all again from the tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sortedcontainers import SortedDict

from gateway.core.blocks import Block, Range
from gateway.core.canonical import sorted_json
from gateway.core.decision_time import iso_ms
from gateway.core.frozen import quick_init
from gateway.core.intervals import Intervals

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
VERSION = "_v"
SNAPSHOT_FORMAT = "a6gw.ledger-state.v1"


@quick_init
@dataclass(frozen=True)
class Put:
    """Set ``table[key] = value`` (value is a JSON-ready dict)."""

    table: TableName
    key: str
    value: dict[str, Any]
    #: a ``blocks`` put's block, when its maker has it (``value`` is its record): the index
    #: takes it as it is instead of reading the record back
    block: Block | None = field(default=None, compare=False, repr=False)


def block_put(block: Block) -> Put:
    """The put that stores ``block`` (its record, under its key)."""
    return Put("blocks", block.key, block.to_record(), block)


def newer_or_equal(existing: Mapping[str, Any] | None, version: int) -> bool:
    """True when a put of ``version`` may overwrite ``existing``."""
    return existing is None or int(existing.get(VERSION, -1)) <= version


#: where an authorization is indexed: its (approach, Party), its order, and its coverage's
#: serial spans (originating registry, first, last)
_AuthSlot = tuple[tuple[str, str], tuple[int, str], list[tuple[str, int, int]]]


class LedgerState:
    """The ledger's working state: its tables and the indexes derived from them.

    ``tables`` may back some tables with given mappings (faust tables in the worker, dicts in
    tests); the others are plain dicts. Either way the state is what the tables hold, and
    :meth:`rebuild_index` re-derives every index from them. Every read is a lookup or a
    range read of an index (O(log n) plus what it returns).
    """

    def __init__(self, tables: Mapping[TableName, MutableMapping[str, Any]] | None = None):
        self.tables: dict[TableName, MutableMapping[str, Any]] = {
            name: (tables[name] if tables and name in tables else {}) for name in TABLES
        }
        # blocks of each serial space (approach, origin) by first serial
        self._index: dict[tuple[str, str], SortedDict] = {}
        # units each account holds (state "held") per serial space
        self._held: dict[tuple[str, str, str, str], int] = {}
        # non-revoked authorizations of each (approach, Party), highest version first, then
        # by key (so the order never depends on the order the tables were written or read)
        self._auths: dict[tuple[str, str], SortedDict] = {}
        self._auth_slot: dict[str, _AuthSlot] = {}
        # their coverage's serial spans by (approach, Party, originating registry), each
        # tagged with its authorization's order: what covers a block is found in O(log n)
        self._cover: dict[tuple[str, str, str], Intervals] = {}
        # units proposed for first transfer under (approach, authorization) by open transfers
        self._ft_pending: dict[tuple[str, str], int] = {}
        self._tx_ft: dict[str, list[tuple[tuple[str, str], int]]] = {}
        # open (proposed) transfers with a deadline, by (deadline, key)
        self._deadlines: SortedDict = SortedDict()
        self._tx_deadline: dict[str, str] = {}
        self.rebuild_index()

    # ---- writes -------------------------------------------------------------------------
    def apply(self, effects: Iterable[Put], version: int) -> None:
        """Apply effects with version guarding; re-applying the same effects is a no-op."""
        for eff in effects:
            table = self.tables[eff.table]
            existing = table.get(eff.key)  # newer_or_equal(existing, version), inlined
            if existing is not None and int(existing.get(VERSION, -1)) > version:
                continue
            value = dict(eff.value)
            value[VERSION] = version
            table[eff.key] = value
            if eff.block is not None:
                self._index_block(eff.block)  # == _block_of(eff.value)
            else:
                self._index_put(eff.table, eff.key, eff.value)

    def rebuild_index(self) -> None:
        """Derive every index again from the tables (after they recover or are restored)."""
        self._index.clear()
        self._held.clear()
        self._auths.clear()
        self._auth_slot.clear()
        self._cover.clear()
        self._ft_pending.clear()
        self._tx_ft.clear()
        self._deadlines.clear()
        self._tx_deadline.clear()
        # Blocks in bulk: each space's serial index is sorted once (keys are unique: one
        # record per first serial), not grown one insertion at a time.
        spaces: dict[tuple[str, str], dict[int, Block]] = {}
        held = self._held
        for rec in self.tables["blocks"].values():
            block = _block_of(rec)
            where = (block.ca_id, block.origin)
            space = spaces.get(where)
            if space is None:
                space = spaces[where] = {}
            space[block.start] = block
            if block.state == "held":
                who = (block.ca_id, block.origin, block.registry, block.account)
                held[who] = held.get(who, 0) + block.quantity
        self._index = {where: SortedDict(space) for where, space in spaces.items()}
        for table in ("authorizations", "transfers"):
            for key, rec in self.tables[table].items():
                self._index_put(table, str(key), rec)

    def _index_put(self, table: TableName, key: str, rec: Mapping[str, Any]) -> None:
        if table == "blocks":
            self._index_block(_block_of(rec))
        elif table == "authorizations":
            self._index_auth(key, _strip(rec))
        elif table == "transfers":
            self._index_transfer(key, rec)

    def _index_block(self, block: Block) -> None:
        space = self._index.get((block.ca_id, block.origin))
        if space is None:
            space = self._index[(block.ca_id, block.origin)] = SortedDict()
        # Blocks are keyed by first serial and a split's pieces tile the old block, so the
        # block a put replaces is the one stored under the same first serial.
        old = space.get(block.start)
        for b, sign in ((old, -1), (block, 1)):
            if b is not None and b.state == "held":
                key = (b.ca_id, b.origin, b.registry, b.account)
                self._held[key] = self._held.get(key, 0) + sign * b.quantity
        space[block.start] = block

    def _index_auth(self, key: str, auth: dict[str, Any]) -> None:
        slot = self._auth_slot.pop(key, None)
        if slot is not None:
            (ca_id, party), order, spans = slot
            group = self._auths[(ca_id, party)]
            del group[order]
            if not group:
                del self._auths[(ca_id, party)]
            for origin, start, end in spans:
                cover = self._cover[(ca_id, party, origin)]
                cover.discard(start, end, order)
                if not len(cover):
                    del self._cover[(ca_id, party, origin)]
        if auth.get("status") == "revoked":
            return
        where = (str(auth["ca_id"]), str(auth["authorizing_party"]))
        order = (-int(auth["version"]), key)
        group = self._auths.get(where)
        if group is None:
            group = self._auths[where] = SortedDict()
        group[order] = auth
        spans = [
            (str(c["originating_registry"]), int(c["serial_start"]), int(c["serial_end"]))
            for c in auth.get("coverage", ())
        ]
        for origin, start, end in spans:
            index = self._cover.get((*where, origin))
            if index is None:
                index = self._cover[(*where, origin)] = Intervals()
            index.add(start, end, order)
        self._auth_slot[key] = (where, order, spans)

    def _index_transfer(self, key: str, tx: Mapping[str, Any]) -> None:
        for where, qty in self._tx_ft.pop(key, ()):
            left = self._ft_pending[where] - qty
            if left:
                self._ft_pending[where] = left
            else:
                del self._ft_pending[where]
        deadline = self._tx_deadline.pop(key, None)
        if deadline is not None:
            del self._deadlines[(deadline, key)]
        if tx.get("status") != "proposed":
            return
        parts = [
            (
                (str(tx["ca_id"]), str(r["authorization_id"])),
                int(r["serial_end"]) - int(r["serial_start"]) + 1,
            )
            for r in tx.get("first_transfer") or ()
        ]
        if parts:
            self._tx_ft[key] = parts
            for where, qty in parts:
                self._ft_pending[where] = self._ft_pending.get(where, 0) + qty
        if tx.get("deadline") is not None:
            self._tx_deadline[key] = tx["deadline"]
            self._deadlines[(tx["deadline"], key)] = None

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
                if first.end >= want.end:
                    return [first]  # it covers want: no other block starts inside it
                out.append(first)
        if pos == len(space) or space.peekitem(pos)[0] > want.end:
            return out  # no block starts inside want (the common case: one look, no range)
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

    def authorizations(self, ca_id: str, party: str | None) -> list[dict[str, Any]]:
        """The non-revoked authorizations ``party`` gave in ``ca_id``: highest version first,
        then by id. Shared records: do not change them."""
        group = self._auths.get((ca_id, party)) if party is not None else None
        return list(group.values()) if group else []

    def authorizations_over(
        self, ca_id: str, party: str | None, origin: str, first: int, last: int
    ) -> list[dict[str, Any]]:
        """:meth:`authorizations` whose coverage of ``origin``'s serials shares a serial
        with ``[first, last]``, in the same order; O(log n), not a scan of the Party's
        authorizations. Shared records: do not change them."""
        if party is None or (cover := self._cover.get((ca_id, party, origin))) is None:
            return []
        group = self._auths[(ca_id, party)]
        return [group[order] for order in sorted(cover.overlapping(first, last))]

    def pending_first_transfer(self, ca_id: str, authorization_id: str) -> int:
        """Units that open (proposed) transfers of ``ca_id`` would first transfer under
        ``authorization_id`` if accepted."""
        return self._ft_pending.get((ca_id, authorization_id), 0)

    def overdue(self, now_ms: int) -> list[dict[str, Any]]:
        """Open (proposed) transfers whose deadline is before ``now_ms``, earliest first."""
        now = iso_ms(now_ms)
        keys = [k for _, k in self._deadlines.irange(maximum=(now, ""), inclusive=(True, False))]
        return [tx for k in keys if (tx := self.get("transfers", k)) is not None]

    def copy(self) -> LedgerState:
        """An independent state with the same tables and indexes, in plain dicts (records and
        blocks are never changed in place, so they are shared)."""
        other = LedgerState.__new__(LedgerState)
        other.tables = {name: dict(self.tables[name].items()) for name in TABLES}
        other._index = {where: space.copy() for where, space in self._index.items()}
        other._held = dict(self._held)
        other._auths = {where: group.copy() for where, group in self._auths.items()}
        other._auth_slot = dict(self._auth_slot)
        other._cover = {where: cover.copy() for where, cover in self._cover.items()}
        other._ft_pending = dict(self._ft_pending)
        other._tx_ft = dict(self._tx_ft)
        other._deadlines = self._deadlines.copy()
        other._tx_deadline = dict(self._tx_deadline)
        return other

    # ---- snapshots ----------------------------------------------------------------------
    def snapshot(self) -> bytes:
        """Every table (records with their versions) as deterministic JSON bytes: equal
        states give equal bytes. The indexes are derived again by :meth:`restore`."""
        return b"".join(snapshot_chunks(self.tables))

    @classmethod
    def restore(cls, data: bytes) -> LedgerState:
        """The state a :meth:`snapshot` holds, with every index derived again.

        :raises ValueError: when ``data`` is not a snapshot of this format.
        """
        return cls(snapshot_tables(data))


def snapshot_chunks(
    tables: Mapping[TableName, Mapping[str, Any]], per: int = 2_000
) -> Iterator[bytes]:
    """:meth:`LedgerState.snapshot` of ``tables`` in pieces of at most ``per`` records, so
    a caller can write a large state without holding the process for the whole of it.

    The pieces joined are ``json.dumps(doc, sort_keys=True)`` of ``{"format": ...,
    "tables": ...}`` (compact, UTF-8), whatever ``per`` is.
    """
    yield b'{"format":' + _dumps(SNAPSHOT_FORMAT) + b',"tables":{'
    for i, name in enumerate(sorted(TABLES)):
        table = tables[name]
        yield (b"," if i else b"") + _dumps(name) + b":{"
        keys = sorted(table.keys())
        for start in range(0, len(keys), per):
            piece = _dumps({k: table[k] for k in keys[start : start + per]})
            yield (b"," if start else b"") + piece[1:-1]  # the records, without the braces
        yield b"}"
    yield b"}}"


def snapshot_tables(data: bytes) -> dict[TableName, dict[str, Any]]:
    """The tables a :meth:`LedgerState.snapshot` holds.

    :raises ValueError: when ``data`` is not a snapshot of this format.
    """
    doc = json.loads(data)
    if not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT:
        raise ValueError("not a ledger state snapshot")
    tables = doc.get("tables")
    if not isinstance(tables, dict) or set(tables) != set(TABLES):
        raise ValueError("a ledger state snapshot holds every table")
    if not all(isinstance(tables[name], dict) for name in TABLES):
        raise ValueError("a ledger state snapshot's tables are objects")
    return {name: tables[name] for name in TABLES}


def _dumps(value: Any) -> bytes:
    try:
        return sorted_json(value)  # no float in a state: the bytes below, at a tenth the cost
    except TypeError:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")


def _strip(rec: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(rec)
    out.pop(VERSION, None)
    return out


def _block_of(rec: Mapping[str, Any]) -> Block:
    """:meth:`Block.from_record` of a stored record (its version left out)."""
    return Block(
        rec["ca_id"],
        rec["origin"],
        int(rec["start"]),
        int(rec["end"]),
        rec["vintage"],
        rec["unit_type"],
        rec["registry"],
        rec["account"],
        rec.get("state", "held"),
        rec.get("first_transferred", False),
        rec.get("reserved_by"),
        rec.get("authorization_id"),
    )
