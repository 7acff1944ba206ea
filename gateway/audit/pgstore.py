"""The audit store in PostgreSQL (for a log that several processes share), via psycopg 3.

Same tables and semantics as the SQLite :class:`~gateway.audit.store.AuditStore` (see
:class:`~gateway.audit.logstore.LogStore`): dense leaf indices assigned inside one
transaction per batch, entries deduplicated by id, the hashes of perfect subtrees at levels
>= 1 in ``nodes`` (level 0 is ``entries.leaf_hash``), input positions, writer epochs and
checkpoints.

Appends are serialized across processes by the writer row: every append transaction starts
with ``SELECT ... FOR UPDATE`` on it (and :meth:`PostgresStore.claim` updates it), so two
processes never interleave appends, and a claim waits for the append in flight and fences
every later one. The in-memory frontier is reloaded whenever the committed size is not the
one it was built for (another process appended meanwhile).

The connection runs in autocommit mode: a read is one statement; an append is one explicit
transaction. psycopg errors become ``AuditError`` (``AUD-STORE``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, LiteralString

import psycopg

from gateway.audit import pgindex
from gateway.audit.logstore import StoredCheckpoint, TreeReads
from gateway.audit.search import Query
from gateway.audit.tree import (
    Node,
)
from gateway.errors import AuditError

__all__ = ["PostgresStore"]

_SCHEMA_LOCK = 0x61366777  # pg_advisory_xact_lock key: "a6gw", creating the tables
_PAGE = 10_000  # entries read per query when iterating

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    idx       bigint PRIMARY KEY,
    entry_id  text   NOT NULL UNIQUE,
    body      bytea  NOT NULL,
    leaf_hash bytea  NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    level  integer NOT NULL,
    idx    bigint  NOT NULL,
    hash   bytea   NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS positions (
    topic      text    NOT NULL,
    partition  integer NOT NULL,
    last       bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS writer (
    one    integer PRIMARY KEY CHECK (one = 1),
    epoch  bigint  NOT NULL,
    owner  text    NOT NULL,
    since  double precision NOT NULL
);
INSERT INTO writer (one, epoch, owner, since) VALUES (1, 0, '', 0) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS checkpoints (
    size       bigint PRIMARY KEY,
    note       text   NOT NULL,
    stored_at  double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS cosignatures (
    size       bigint NOT NULL,
    witness    text   NOT NULL,
    line       text   NOT NULL,
    stored_at  double precision NOT NULL,
    PRIMARY KEY (size, witness)
);
"""

#: The layout of the tables (``store_meta``'s ``schema_version``); as in the SQLite store
#: (:data:`gateway.audit.store.SCHEMA_VERSION`), a store of the first release has none.
SCHEMA_VERSION = 1

_VERSION = """
CREATE TABLE IF NOT EXISTS store_meta (name text PRIMARY KEY, value text NOT NULL);
"""

_NODES = """
SELECT 0, idx, leaf_hash FROM entries WHERE idx = ANY(%s::bigint[])
UNION ALL
SELECT n.level, n.idx, n.hash
FROM nodes n JOIN unnest(%s::integer[], %s::bigint[]) AS w(level, idx)
  ON n.level = w.level AND n.idx = w.idx
"""


class PostgresStore(TreeReads):
    """Append-only entries and their RFC 9162 tree in one PostgreSQL database (see LogStore).

    ``dsn`` is a libpq connection string or URL (``postgresql://user@host:port/db``).

    :raises AuditError: (AUD-STORE) when the database cannot be reached or the tables
        cannot be created.
    """

    def __init__(self, dsn: str, *, readonly: bool = False) -> None:
        self.dsn = dsn
        self._frontier = None
        try:
            self._db: psycopg.Connection[tuple[Any, ...]] = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as exc:
            raise AuditError(
                f"cannot open audit store {safe_dsn(dsn)}: {exc}", code="AUD-STORE"
            ) from exc
        if readonly:  # a reader's session: no tables created, no row changed
            try:
                self._db.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
                self._db.execute("SELECT count(*) FROM entries")
            except psycopg.Error as exc:
                self._db.close()
                raise AuditError(
                    f"cannot read the audit store {safe_dsn(dsn)}: {exc}", code="AUD-STORE"
                ) from exc
            return
        try:
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                self._check_version()
                self._db.execute(_SCHEMA)
                self._db.execute(pgindex.SCHEMA)
        except psycopg.Error as exc:
            self._db.close()
            raise AuditError(f"cannot create the audit tables: {exc}", code="AUD-STORE") from exc
        except AuditError:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def _check_version(self) -> None:
        """Refuse tables of a newer layout (AUD-VERSION); mark unmarked ones version 1."""
        self._db.execute(_VERSION)
        row = self._db.execute(
            "SELECT value FROM store_meta WHERE name = 'schema_version'"
        ).fetchone()
        found = 0 if row is None else int(row[0])
        if found > SCHEMA_VERSION:
            raise AuditError(
                f"audit store {safe_dsn(self.dsn)} has layout version {found}, written by a newer "
                f"release; this release reads version {SCHEMA_VERSION} at most",
                code="AUD-VERSION",
            )
        if found < SCHEMA_VERSION:
            self._db.execute(
                "INSERT INTO store_meta (name, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (str(SCHEMA_VERSION),),
            )

    def _rows(self, query: LiteralString, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            cur = self._db.execute(query, params)
            return cur.fetchall() if cur.description is not None else []
        except psycopg.Error as exc:
            raise AuditError(f"audit store query failed: {exc}", code="AUD-STORE") from exc

    def _one(self, query: LiteralString, params: Sequence[object] = ()) -> tuple[Any, ...] | None:
        rows = self._rows(query, params)
        return rows[0] if rows else None

    # -- writing ---------------------------------------------------------------------

    def append(
        self,
        batch: Iterable[tuple[str, bytes]],
        *,
        position: tuple[str, int, int] | None = None,
        epoch: int | None = None,
    ) -> int:
        """Append entries not logged yet, in order; returns how many were appended.

        :raises AuditError: ``AUD-ENTRY`` when an entry contains 0x0A; ``AUD-FENCED`` when
            ``epoch`` is no longer the writer epoch; ``AUD-STORE`` when PostgreSQL fails.
        """
        items = list(batch)
        for entry_id, body in items:
            if b"\n" in body:
                raise AuditError(f"entry {entry_id} contains a newline", code="AUD-ENTRY")
        try:
            with self._db.transaction():
                return self._append_locked(items, position, epoch)
        except psycopg.Error as exc:
            self._frontier = None  # reload it from what is committed
            raise AuditError(f"audit append failed: {exc}", code="AUD-STORE") from exc
        except BaseException:
            self._frontier = None
            raise

    def _append_locked(
        self,
        items: list[tuple[str, bytes]],
        position: tuple[str, int, int] | None,
        epoch: int | None,
    ) -> int:
        cur = self._db.cursor()
        row = cur.execute("SELECT epoch FROM writer WHERE one = 1 FOR UPDATE").fetchone()
        current = 0 if row is None else int(row[0])
        if epoch is not None and epoch != current:
            raise AuditError(
                f"writer epoch {epoch} was fenced by epoch {current}; "
                "another sequencer owns the log",
                code="AUD-FENCED",
            )
        ids = list({entry_id: None for entry_id, _ in items})
        logged = cur.execute(
            "SELECT entry_id FROM entries WHERE entry_id = ANY(%s::text[])", (ids,)
        ).fetchall()
        known: set[str] = {str(r[0]) for r in logged}
        rows, nodes = self._plan_append(items, known.__contains__)
        if rows:
            with cur.copy(
                "COPY entries (idx, entry_id, body, leaf_hash) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "text", "bytea", "bytea"])
                for entry_row in rows:
                    copy.write_row(entry_row)
        if nodes:
            with cur.copy("COPY nodes (level, idx, hash) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "int8", "bytea"])
                for node_row in nodes:
                    copy.write_row(node_row)
        pgindex.index_rows(cur, ((idx, body) for idx, _, body, _ in rows))
        if position is not None:
            cur.execute(
                "INSERT INTO positions (topic, partition, last) VALUES (%s, %s, %s) "
                "ON CONFLICT (topic, partition) "
                "DO UPDATE SET last = GREATEST(positions.last, excluded.last)",
                position,
            )
        return len(rows)

    def claim(self, owner: str) -> int:
        """Become the log's writer with a new epoch; appends with older epochs now fail.

        The update waits for an append in flight (it holds the writer row) to commit.
        """
        row = self._one(
            "UPDATE writer SET epoch = epoch + 1, owner = %s, since = %s WHERE one = 1 "
            "RETURNING epoch",
            (owner, time.time()),
        )
        if row is None:
            raise AuditError("the audit store has no writer row", code="AUD-STORE")
        return int(row[0])

    def epoch(self) -> int:
        row = self._one("SELECT epoch FROM writer WHERE one = 1")
        return 0 if row is None else int(row[0])

    def save_checkpoint(self, size: int, note: str) -> None:
        self._rows(
            "INSERT INTO checkpoints (size, note, stored_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (size) DO UPDATE SET note = excluded.note, "
            "stored_at = excluded.stored_at",
            (size, note, time.time()),
        )

    def save_cosignature(self, size: int, witness: str, line: str) -> None:
        self._rows(
            "INSERT INTO cosignatures (size, witness, line, stored_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (size, witness) DO UPDATE SET line = excluded.line, "
            "stored_at = excluded.stored_at",
            (size, witness, line, time.time()),
        )

    # -- reading ---------------------------------------------------------------------

    def size(self) -> int:
        row = self._one("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")
        return 0 if row is None else int(row[0])

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bodies of entries ``[start, end)``, read in pages (no transaction held)."""
        end = self.size() if end is None else end
        lo = max(0, start)
        while lo < end:
            hi = min(end, lo + _PAGE)
            rows = self._rows(
                "SELECT body FROM entries WHERE idx >= %s AND idx < %s ORDER BY idx", (lo, hi)
            )
            for (body,) in rows:
                yield bytes(body)
            if len(rows) < hi - lo:  # indices are dense: nothing beyond
                return
            lo = hi

    def entry(self, index: int) -> bytes:
        """:raises AuditError: (AUD-NOT-FOUND) when there is no entry ``index``."""
        row = self._one("SELECT body FROM entries WHERE idx = %s", (index,))
        if row is None:
            raise AuditError(f"no entry {index} in the log", code="AUD-NOT-FOUND")
        return bytes(row[0])

    def index_of(self, entry_id: str) -> int | None:
        row = self._one("SELECT idx FROM entries WHERE entry_id = %s", (entry_id,))
        return None if row is None else int(row[0])

    def has(self, entry_id: str) -> bool:
        return self.index_of(entry_id) is not None

    def leaf_hashes(self, start: int = 0, end: int | None = None) -> list[bytes]:
        end = self.size() if end is None else end
        rows = self._rows(
            "SELECT leaf_hash FROM entries WHERE idx >= %s AND idx < %s ORDER BY idx",
            (start, end),
        )
        return [bytes(h) for (h,) in rows]

    def nodes(self, wanted: Iterable[Node]) -> Mapping[Node, bytes]:
        """The stored hashes of these perfect subtrees, in one query."""
        want = list(wanted)
        if not want:
            return {}
        leaves = [index for level, index in want if level == 0]
        inner = [(level, index) for level, index in want if level > 0]
        rows = self._rows(
            _NODES, (leaves, [level for level, _ in inner], [index for _, index in inner])
        )
        return {(int(level), int(idx)): bytes(h) for level, idx, h in rows}

    def position(self, topic: str, partition: int) -> int | None:
        """The last input offset appended from ``topic[partition]`` (None before the first)."""
        row = self._one(
            "SELECT last FROM positions WHERE topic = %s AND partition = %s", (topic, partition)
        )
        return None if row is None else int(row[0])

    def search(self, query: Query, after: int, limit: int) -> list[int]:
        return pgindex.search(self._db, query, after, limit)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._one("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
        return None if row is None else StoredCheckpoint(int(row[0]), str(row[1]))

    def checkpoints(self) -> list[StoredCheckpoint]:
        rows = self._rows("SELECT size, note FROM checkpoints ORDER BY size")
        return [StoredCheckpoint(int(size), str(note)) for size, note in rows]

    def _cosignature_rows(
        self, query: LiteralString, params: Sequence[object]
    ) -> list[tuple[Any, ...]]:
        if not self._has_cosignatures():
            return []
        return self._rows(query, params)

    def _has_cosignatures(self) -> bool:
        """Whether the table exists: a reader's session on tables that no writer of this
        release opened yet (they are created when one does) reads no cosignatures."""
        row = self._one("SELECT to_regclass('cosignatures') IS NOT NULL")
        return bool(row and row[0])

    def cosignature_lines(self, size: int) -> list[str]:
        rows = self._cosignature_rows(
            "SELECT line FROM cosignatures WHERE size = %s ORDER BY witness", (size,)
        )
        return [str(r[0]) for r in rows]

    def cosigned_checkpoints(
        self, witnesses: Sequence[str], at_least: int, limit: int = 16
    ) -> list[StoredCheckpoint]:
        rows = self._cosignature_rows(
            "SELECT c.size, c.note FROM checkpoints c WHERE c.size IN (SELECT size FROM "
            "cosignatures WHERE witness = ANY(%s) "
            "GROUP BY size HAVING count(*) >= %s) ORDER BY c.size DESC LIMIT %s",
            (list(witnesses), at_least, limit),
        )
        return [StoredCheckpoint(int(size), str(note)) for size, note in rows]

    def witness_size(self, witness: str) -> int | None:
        rows = self._cosignature_rows(
            "SELECT MAX(size) FROM cosignatures WHERE witness = %s", (witness,)
        )
        return None if not rows or rows[0][0] is None else int(rows[0][0])


def safe_dsn(dsn: str) -> str:
    """``dsn`` without its password, for error messages."""
    try:
        params = psycopg.conninfo.conninfo_to_dict(dsn)
    except psycopg.Error:
        return "(unparsable connection string)"
    params.pop("password", None)
    return psycopg.conninfo.make_conninfo("", **params)
