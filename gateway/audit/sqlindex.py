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


def plan(query: Query, after: int, limit: int, *, pg: bool = False) -> tuple[str, list[object]]:
    """The search statement and its parameters, for SQLite (``?``) or PostgreSQL (``%s``).

    Only fixed SQL and placeholders are joined here: every value is a parameter.
    """
    ph = "%s" if pg else "?"
    parts: list[str] = []
    params: list[object] = []
    for field, values in query.by_field().items():  # one field's values: any of them
        any_of = f"= ANY({ph})" if pg else f"IN ({','.join('?' * len(values))})"
        parts.append(f"SELECT idx FROM terms WHERE field = {ph} AND value {any_of} AND idx > {ph}")
        params += [field, values, after] if pg else [field, *values, after]
    if query.decided_from or query.decided_to:
        parts.append(f"SELECT idx FROM decided WHERE at >= {ph} AND at < {ph} AND idx > {ph}")
        params += [query.decided_from or "", query.decided_to or "\uffff", after]
    if query.serials is not None:
        scan = (
            f"SELECT idx FROM serials WHERE ca_id = {ph} AND origin = {ph} AND cls = {ph} "
            f'AND start BETWEEN {ph} AND {ph} AND "end" >= {ph} AND idx > {ph}'
        )
        parts.append(" UNION ".join([scan] * 65))
        for cls in range(65):
            params += scan_params(query.serials, cls, after)
    if len(parts) == 1:
        body = parts[0]  # one criterion: the index streams in idx order, LIMIT stops it early
    else:
        body = " INTERSECT ".join(f"SELECT idx FROM ({p}) AS p{n}" for n, p in enumerate(parts))
    return f"SELECT idx FROM ({body}) AS found ORDER BY idx LIMIT {ph}", [*params, limit]


def search(db: sqlite3.Connection, query: Query, after: int, limit: int) -> list[int]:
    """Leaf indices > ``after`` matching ``query``, ascending, at most ``limit``."""
    statement, params = plan(query, after, limit)
    return [int(idx) for (idx,) in db.execute(statement, params)]
