"""The PostgreSQL audit store's layout version, on the real server: a database of release 1
(no marker) opens and is marked; one marked by a newer release is refused by name. (The
SQLite store's: ``tests/unit/test_release_1.py``.)"""

from __future__ import annotations

import psycopg
import pytest

from gateway.audit.pgstore import SCHEMA_VERSION, PostgresStore
from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import AuditError

pytestmark = pytest.mark.postgres


def _version(dsn: str) -> str | None:
    with psycopg.connect(dsn) as db:
        row = db.execute("SELECT value FROM store_meta WHERE name = 'schema_version'").fetchone()
    return None if row is None else str(row[0])


def test_a_release_1_database_opens_and_is_marked(postgres_database: str) -> None:
    store = PostgresStore(postgres_database)
    store.append([("e0", b'{"n":0}'), ("e1", b'{"n":1}')], position=(AUDIT_TOPIC, 0, 1))
    root = store.root()
    store.close()
    with psycopg.connect(postgres_database, autocommit=True) as db:
        db.execute("DROP TABLE store_meta")  # as release 1 left its databases
    store = PostgresStore(postgres_database)
    assert (store.size(), store.root()) == (2, root)
    store.close()
    assert _version(postgres_database) == str(SCHEMA_VERSION)


def test_a_database_of_a_newer_layout_is_refused(postgres_database: str) -> None:
    PostgresStore(postgres_database).close()
    with psycopg.connect(postgres_database, autocommit=True) as db:
        db.execute(
            "UPDATE store_meta SET value = %s WHERE name = 'schema_version'",
            (str(SCHEMA_VERSION + 1),),
        )
    with pytest.raises(AuditError, match="written by a newer release") as exc:
        PostgresStore(postgres_database)
    assert exc.value.code == "AUD-VERSION"
    assert _version(postgres_database) == str(SCHEMA_VERSION + 1)  # left as it was
