"""The SQLite store's search index: terms, decision times and serial ranges per entry.

Serial ranges are found with one index range scan per *length class* (the bit length of
``end - start``): a range of class ``c`` is shorter than ``2**c``, so it can only overlap
``[a, b]`` if it starts in ``[a - 2**c + 1, b]``. A query is then at most 65 short scans of
``(ca_id, origin, cls, start)``, whatever the size of the log.
"""

# S608: the statements here join only fixed SQL and placeholders; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from gateway.audit.search import Query, SerialRange, index_of_entry

SCHEMA = """
CREATE TABLE IF NOT EXISTS terms (
    field TEXT NOT NULL, value TEXT NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (field, value, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decided (idx INTEGER PRIMARY KEY, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS decided_at ON decided (at, idx);
CREATE TABLE IF NOT EXISTS serials (
    ca_id TEXT NOT NULL, origin TEXT NOT NULL, cls INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, idx INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS serials_by_start ON serials (ca_id, origin, cls, start);
CREATE INDEX IF NOT EXISTS serials_by_idx ON serials (idx);
"""


def length_class(r: SerialRange) -> int:
    return (r.end - r.start).bit_length()


def scan_params(r: SerialRange, cls: int, after: int) -> list[object]:
    """Parameters of the scan of length class ``cls`` for ranges overlapping ``r``."""
    return [r.ca_id, r.origin, cls, max(0, r.start - (1 << cls) + 1), r.end, r.start, after]


def index_rows(db: sqlite3.Connection, entries: Iterable[tuple[int, bytes]]) -> None:
    """Index the entries ``(leaf index, bytes)`` (inside the caller's transaction)."""
    terms, decided, serials = [], [], []
    for idx, body in entries:
        entry_terms, at, ranges = index_of_entry(body)
        terms += [(field, value, idx) for field, value in entry_terms]
        decided.append((idx, at))
        serials += [(r.ca_id, r.origin, length_class(r), r.start, r.end, idx) for r in ranges]
    db.executemany("INSERT OR IGNORE INTO terms (field, value, idx) VALUES (?, ?, ?)", terms)
    db.executemany("INSERT OR IGNORE INTO decided (idx, at) VALUES (?, ?)", decided)
    db.executemany(
        'INSERT INTO serials (ca_id, origin, cls, start, "end", idx) VALUES (?, ?, ?, ?, ?, ?)',
        serials,
    )


# Which criterion drives a search (scanned in leaf order); the others are checked per
# candidate with a correlated EXISTS on their table's index. Ids come first (a handful of
# rows), then serial ranges, then broader terms, then the decision period.
_DRIVE_FIRST = ("event", "transaction", "serials", "code", "ca", "type", "source", "outcome")


def plan(query: Query, after: int, limit: int, *, pg: bool = False) -> tuple[str, list[object]]:
    """The search statement and its parameters, for SQLite (``?``) or PostgreSQL (``%s``).

    One criterion drives the scan in leaf order, so ``LIMIT`` stops it after one page; each
    other criterion is a correlated ``EXISTS`` (an index lookup per candidate). Only fixed
    SQL and placeholders are joined here: every value is a parameter.
    """
    ph = "%s" if pg else "?"
    # criterion name -> (driving SELECT with "idx > ?", its params, EXISTS filter, its params)
    crit: dict[str, tuple[str, list[object], str, list[object]]] = {}
    for field, values in query.by_field().items():  # one field's values: any of them
        vals: list[object]
        if len(values) == 1:  # "= ?" keeps the index's order (PostgreSQL's ANY does not)
            any_of, vals = f"= {ph}", list(values)
        elif pg:
            any_of, vals = f"= ANY({ph})", [values]
        else:
            any_of, vals = f"IN ({','.join('?' * len(values))})", list(values)
        where = f"field = {ph} AND value {any_of}"
        crit[field] = (
            f"SELECT idx FROM terms WHERE {where} AND idx > {ph}",
            [field, *vals, after],
            f"EXISTS (SELECT 1 FROM terms t WHERE t.idx = d.idx AND t.field = {ph} "
            f"AND t.value {any_of})",
            [field, *vals],
        )
    if query.decided_from or query.decided_to:
        period: list[object] = [query.decided_from or "", query.decided_to or "\uffff"]
        crit["decided"] = (
            f"SELECT idx FROM decided WHERE at >= {ph} AND at < {ph} AND idx > {ph}",
            [*period, after],
            f"EXISTS (SELECT 1 FROM decided p WHERE p.idx = d.idx "
            f"AND p.at >= {ph} AND p.at < {ph})",
            period,
        )
    if query.serials is not None:
        r = query.serials
        scan = (
            f"SELECT idx FROM serials WHERE ca_id = {ph} AND origin = {ph} AND cls = {ph} "
            f'AND start BETWEEN {ph} AND {ph} AND "end" >= {ph} AND idx > {ph}'
        )
        scan_args: list[object] = []
        for cls in range(65):
            scan_args += scan_params(r, cls, after)
        crit["serials"] = (
            " UNION ".join([scan] * 65),
            scan_args,
            f"EXISTS (SELECT 1 FROM serials s WHERE s.idx = d.idx AND s.ca_id = {ph} "
            f'AND s.origin = {ph} AND s.start <= {ph} AND s."end" >= {ph})',
            [r.ca_id, r.origin, r.end, r.start],
        )
    order = sorted(crit, key=lambda n: _DRIVE_FIRST.index(n) if n in _DRIVE_FIRST else 99)
    drive_sql, params = crit[order[0]][0], list(crit[order[0]][1])
    filters = []
    for name in order[1:]:
        filters.append(crit[name][2])
        params += crit[name][3]
    where = f"WHERE {' AND '.join(filters)} " if filters else ""
    statement = f"SELECT d.idx FROM ({drive_sql}) AS d {where}ORDER BY d.idx LIMIT {ph}"
    return statement, [*params, limit]


def search(db: sqlite3.Connection, query: Query, after: int, limit: int) -> list[int]:
    """Leaf indices > ``after`` matching ``query``, ascending, at most ``limit``."""
    statement, params = plan(query, after, limit)
    return [int(idx) for (idx,) in db.execute(statement, params)]
