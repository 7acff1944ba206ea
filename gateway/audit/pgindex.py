"""The PostgreSQL store's search index: the same tables and queries as ``sqlindex``.

See :mod:`gateway.audit.sqlindex` for the serial-range scheme (one index range scan per
length class). Statements are composed with ``psycopg.sql``; every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import sql

from gateway.audit.search import Query, index_of_entry
from gateway.audit.sqlindex import length_class, plan
from gateway.errors import AuditError

SCHEMA = """
CREATE TABLE IF NOT EXISTS terms (
    field text NOT NULL, value text NOT NULL, idx bigint NOT NULL,
    PRIMARY KEY (field, value, idx)
);
CREATE TABLE IF NOT EXISTS decided (idx bigint PRIMARY KEY, at text NOT NULL);
CREATE INDEX IF NOT EXISTS decided_at ON decided (at, idx);
CREATE TABLE IF NOT EXISTS serials (
    ca_id text NOT NULL, origin text NOT NULL, cls integer NOT NULL,
    start bigint NOT NULL, "end" bigint NOT NULL, idx bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS serials_by_start ON serials (ca_id, origin, cls, start);
CREATE INDEX IF NOT EXISTS serials_by_idx ON serials (idx);
"""


def index_rows(cur: psycopg.Cursor[Any], entries: Iterable[tuple[int, bytes]]) -> None:
    """Index the entries ``(leaf index, bytes)`` inside the caller's transaction."""
    terms, decided, serials = [], [], []
    for idx, body in entries:
        entry_terms, at, ranges = index_of_entry(body)
        terms += [(field, value, idx) for field, value in entry_terms]
        decided.append((idx, at))
        serials += [(r.ca_id, r.origin, length_class(r), r.start, r.end, idx) for r in ranges]
    for table, columns, rows in (
        ("terms", ("field", "value", "idx"), terms),
        ("decided", ("idx", "at"), decided),
        ("serials", ("ca_id", "origin", "cls", "start", "end", "idx"), serials),
    ):
        if rows:
            stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
            )
            with cur.copy(stmt) as copy:
                for row in rows:
                    copy.write_row(row)


def search(db: psycopg.Connection[Any], query: Query, after: int, limit: int) -> list[int]:
    """Leaf indices > ``after`` matching ``query``, ascending, at most ``limit``."""
    statement, params = plan(query, after, limit, pg=True)
    try:
        # ``plan`` joins only fixed SQL and placeholders; the values are parameters.
        rows = db.execute(sql.SQL(statement), params).fetchall()
    except psycopg.Error as exc:
        raise AuditError(f"audit search failed: {exc}", code="AUD-STORE") from exc
    return [int(idx) for (idx,) in rows]
