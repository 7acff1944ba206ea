"""A reader's PostgreSQL audit store (``open_store(url, readonly=True)``) creates no table
and changes no row: on an empty database it fails with AUD-STORE and leaves it empty; on a
store a writer filled it reads the entries, and an append is refused by the session."""

from __future__ import annotations

import psycopg
import pytest

from gateway.audit.open import open_store
from gateway.errors import AuditError


def tables(url: str) -> list[str]:
    with psycopg.connect(url) as db:
        rows = db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def test_a_reader_creates_no_table_and_writes_nothing(postgres_database: str) -> None:
    with pytest.raises(AuditError, match="AUD-STORE"):
        open_store(postgres_database, readonly=True)
    assert tables(postgres_database) == []

    writer = open_store(postgres_database)
    writer.append([("e1", b'{"a":1}'), ("e2", b'{"a":2}')])
    reader = open_store(postgres_database, readonly=True)
    try:
        assert list(reader.entries()) == [b'{"a":1}', b'{"a":2}']
        with pytest.raises(AuditError, match="read-only"):
            reader.append([("e3", b"{}")])
    finally:
        reader.close()
        writer.close()
    check = open_store(postgres_database, readonly=True)
    try:
        assert check.size() == 2
    finally:
        check.close()
