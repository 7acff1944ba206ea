"""The audit store in SQLite (the embedded default): entries, tree nodes, positions, epochs.

The sequencer appends batches of ``(entry_id, bytes)``; an entry id already logged is
skipped, so redeliveries never grow the log. Kafka offsets are not leaf indices: the index
is assigned here, densely, inside one transaction per batch, together with the hashes of
the perfect subtrees the batch completes and the input position it was consumed up to.
Proofs and roots are read from those nodes (:mod:`gateway.audit.tree`), O(log n) per query.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.audit import sqlindex
from gateway.audit.logstore import StoredCheckpoint, TreeReads
from gateway.audit.search import Query
from gateway.audit.tree import (
    Node,
)
from gateway.errors import AuditError
from gateway.files import create_private

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    idx       INTEGER PRIMARY KEY,
    entry_id  TEXT    NOT NULL UNIQUE,
    body      BLOB    NOT NULL,
    leaf_hash BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS positions (
    topic      TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    last       INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
CREATE TABLE IF NOT EXISTS writer (
    one    INTEGER PRIMARY KEY CHECK (one = 1),
    epoch  INTEGER NOT NULL,
    owner  TEXT    NOT NULL,
    since  REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    size       INTEGER PRIMARY KEY,
    note       TEXT    NOT NULL,
    stored_at  REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS cosignatures (
    size       INTEGER NOT NULL,
    witness    TEXT    NOT NULL,
    line       TEXT    NOT NULL,
    stored_at  REAL    NOT NULL,
    PRIMARY KEY (size, witness)
);
"""


#: The layout of the store's tables, kept in ``PRAGMA user_version``. Stores of the first
#: release have none (0) and are that layout: they are marked 1 when opened. A store of a
#: newer layout is refused (AUD-VERSION): an older release must not write into it. Stores of
#: version 1 must stay readable: ``tests/fixtures/release-1/``.
SCHEMA_VERSION = 1


def _check_version(db: sqlite3.Connection, path: Path) -> None:
    """Refuse a store of a newer layout; mark an unmarked one (release 1) as version 1.

    :raises AuditError: (AUD-VERSION) the store's layout is newer than this release's.
    """
    found = int(db.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        db.close()
        raise AuditError(
            f"audit store {path} has layout version {found}, written by a newer release; this "
            f"release reads version {SCHEMA_VERSION} at most: run the newer release",
            code="AUD-VERSION",
        )
    if found < SCHEMA_VERSION:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _write_ahead(db: sqlite3.Connection, *, tries: int = 100, pause_s: float = 0.05) -> None:
    """Put the file in WAL mode. SQLite answers "database is locked" at once, without its
    busy timeout, to a connection that asks while another one switches the mode (two
    processes opening a new store together): ask again, a few seconds at most."""
    for attempt in range(tries):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == tries - 1:
                raise
            time.sleep(pause_s)


def _open_readonly(path: Path) -> sqlite3.Connection:
    """A connection that reads an existing store and never creates or changes one.

    SQLite's ``mode=ro`` URI (sqlite.org/uri.html) opens the file read-only and fails on a
    missing file instead of creating it; a store of another kind fails on its first query.
    """
    if not path.is_file():
        what = "is not a file" if path.exists() else "does not exist"
        raise AuditError(
            f"no audit store at {path}: it {what} (a worker with this config creates it; "
            "is audit.store or gateway.data_dir right?)",
            code="AUD-STORE",
        )
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
        db.execute("SELECT count(*) FROM entries").fetchone()
    except sqlite3.Error as exc:
        raise AuditError(f"cannot read the audit store {path}: {exc}", code="AUD-STORE") from exc
    return db


class AuditStore(TreeReads):
    """Append-only entries and their RFC 9162 tree in one SQLite file (see LogStore)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self._frontier = None
        if readonly:
            self._db = _open_readonly(path)
            return
        try:
            # 0600 from creation in a 0700 folder; SQLite gives -wal and -shm the same mode
            if str(path) != ":memory:":
                create_private(path)
            self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            _write_ahead(self._db)
            self._db.execute("PRAGMA synchronous=FULL")
            _check_version(self._db, path)
            self._db.executescript(_SCHEMA + sqlindex.SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(f"cannot open audit store {path}: {exc}", code="AUD-STORE") from exc

    def close(self) -> None:
        self._db.close()

    # -- writing ---------------------------------------------------------------------

    def append(
        self,
        batch: Iterable[tuple[str, bytes]],
        *,
        position: tuple[str, int, int] | None = None,
        epoch: int | None = None,
    ) -> int:
        """Append entries not logged yet, in order; returns how many were appended.

        :raises AuditError: ``AUD-ENTRY`` when an entry contains 0x0A (it could not be one
            bundle line); ``AUD-FENCED`` when ``epoch`` is no longer the writer epoch;
            ``AUD-STORE`` when SQLite fails.
        """
        items = list(batch)
        for entry_id, body in items:
            if b"\n" in body:
                raise AuditError(f"entry {entry_id} contains a newline", code="AUD-ENTRY")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                added = self._append_locked(items, position, epoch)
            except BaseException:
                self._db.execute("ROLLBACK")
                self._frontier = None  # reload it from what is committed
                raise
            self._db.execute("COMMIT")
            return added
        except sqlite3.Error as exc:
            raise AuditError(f"audit append failed: {exc}", code="AUD-STORE") from exc

    def _append_locked(
        self,
        items: list[tuple[str, bytes]],
        position: tuple[str, int, int] | None,
        epoch: int | None,
    ) -> int:
        if epoch is not None and epoch != self.epoch():
            raise AuditError(
                f"writer epoch {epoch} was fenced by epoch {self.epoch()}; "
                "another sequencer owns the log",
                code="AUD-FENCED",
            )
        known: set[str] = set()
        ids = list({entry_id: None for entry_id, _ in items})
        for lo in range(0, len(ids), 500):  # one query per 500 ids, not one per entry
            chunk = ids[lo : lo + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT entry_id FROM entries WHERE entry_id IN ({marks})"  # noqa: S608
            known.update(str(r[0]) for r in self._db.execute(sql, chunk))
        rows, nodes = self._plan_append(items, known.__contains__)
        self._db.executemany(
            "INSERT INTO entries (idx, entry_id, body, leaf_hash) VALUES (?, ?, ?, ?)", rows
        )
        self._db.executemany("INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
        sqlindex.index_rows(self._db, ((idx, body) for idx, _, body, _ in rows))
        if position is not None:
            self._db.execute(
                "INSERT INTO positions (topic, partition, last) VALUES (?, ?, ?) "
                "ON CONFLICT (topic, partition) DO UPDATE SET last = MAX(last, excluded.last)",
                position,
            )
        return len(rows)

    def claim(self, owner: str) -> int:
        """Become the log's writer with a new epoch; appends with older epochs now fail."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            epoch = self.epoch() + 1
            self._db.execute(
                "INSERT INTO writer (one, epoch, owner, since) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (one) DO UPDATE SET epoch = excluded.epoch, "
                "owner = excluded.owner, since = excluded.since",
                (epoch, owner, time.time()),
            )
            self._db.execute("COMMIT")
            return epoch
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise AuditError(f"cannot claim the audit log: {exc}", code="AUD-STORE") from exc

    def epoch(self) -> int:
        row = self._db.execute("SELECT epoch FROM writer WHERE one = 1").fetchone()
        return 0 if row is None else int(row[0])

    def save_checkpoint(self, size: int, note: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO checkpoints (size, note, stored_at) VALUES (?, ?, ?)",
            (size, note, time.time()),
        )

    def save_cosignature(self, size: int, witness: str, line: str) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO cosignatures (size, witness, line, stored_at) "
            "VALUES (?, ?, ?, ?)",
            (size, witness, line, time.time()),
        )

    # -- reading ---------------------------------------------------------------------

    def size(self) -> int:
        row = self._db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()
        return int(row[0])

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self.size() if end is None else end
        for (body,) in self._db.execute(
            "SELECT body FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
        ):
            yield bytes(body)

    def entry(self, index: int) -> bytes:
        """:raises AuditError: (AUD-NOT-FOUND) when there is no entry ``index``."""
        row = self._db.execute("SELECT body FROM entries WHERE idx = ?", (index,)).fetchone()
        if row is None:
            raise AuditError(f"no entry {index} in the log", code="AUD-NOT-FOUND")
        return bytes(row[0])

    def index_of(self, entry_id: str) -> int | None:
        row = self._db.execute("SELECT idx FROM entries WHERE entry_id = ?", (entry_id,))
        found = row.fetchone()
        return None if found is None else int(found[0])

    def has(self, entry_id: str) -> bool:
        return self.index_of(entry_id) is not None

    def leaf_hashes(self, start: int = 0, end: int | None = None) -> list[bytes]:
        end = self.size() if end is None else end
        rows = self._db.execute(
            "SELECT leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
        )
        return [bytes(h) for (h,) in rows]

    def nodes(self, wanted: Iterable[Node]) -> Mapping[Node, bytes]:
        want = list(wanted)
        got: dict[Node, bytes] = {}
        leaves = [index for level, index in want if level == 0]
        inner = [(level, index) for level, index in want if level > 0]
        for chunk in _chunks(leaves, 500):
            marks = ",".join("?" * len(chunk))
            for idx, h in self._db.execute(
                f"SELECT idx, leaf_hash FROM entries WHERE idx IN ({marks})",  # noqa: S608
                chunk,
            ):
                got[(0, int(idx))] = bytes(h)
        for chunk in _chunks(inner, 250):
            where = " OR ".join("(level = ? AND idx = ?)" for _ in chunk)
            params = [v for node in chunk for v in node]
            for level, idx, h in self._db.execute(
                f"SELECT level, idx, hash FROM nodes WHERE {where}",  # noqa: S608 - placeholders
                params,
            ):
                got[(int(level), int(idx))] = bytes(h)
        return got

    def position(self, topic: str, partition: int) -> int | None:
        """The last input offset appended from ``topic[partition]`` (None before the first)."""
        row = self._db.execute(
            "SELECT last FROM positions WHERE topic = ? AND partition = ?", (topic, partition)
        ).fetchone()
        return None if row is None else int(row[0])

    def search(self, query: Query, after: int, limit: int) -> list[int]:
        return sqlindex.search(self._db, query, after, limit)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        row = self._db.execute(
            "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"
        ).fetchone()
        return None if row is None else StoredCheckpoint(int(row[0]), str(row[1]))

    def checkpoints(self) -> list[StoredCheckpoint]:
        rows = self._db.execute("SELECT size, note FROM checkpoints ORDER BY size")
        return [StoredCheckpoint(int(size), str(note)) for size, note in rows]

    def _cosignature_rows(self, query: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
        try:
            return self._db.execute(query, params).fetchall()
        except sqlite3.OperationalError as exc:  # a store no writer of this release opened
            if "no such table" in str(exc):
                return []
            raise AuditError(f"audit store query failed: {exc}", code="AUD-STORE") from exc

    def cosignature_lines(self, size: int) -> list[str]:
        rows = self._cosignature_rows(
            "SELECT line FROM cosignatures WHERE size = ? ORDER BY witness", (size,)
        )
        return [str(r[0]) for r in rows]

    def cosigned_checkpoints(
        self, witnesses: Sequence[str], at_least: int, limit: int = 16
    ) -> list[StoredCheckpoint]:
        rows = self._cosignature_rows(
            "SELECT c.size, c.note FROM checkpoints c WHERE c.size IN (SELECT size FROM "
            "cosignatures WHERE witness IN (SELECT value FROM json_each(?)) "
            "GROUP BY size HAVING count(*) >= ?) ORDER BY c.size DESC LIMIT ?",
            (json.dumps(list(witnesses)), at_least, limit),
        )
        return [StoredCheckpoint(int(size), str(note)) for size, note in rows]

    def witness_size(self, witness: str) -> int | None:
        rows = self._cosignature_rows(
            "SELECT MAX(size) FROM cosignatures WHERE witness = ?", (witness,)
        )
        return None if not rows or rows[0][0] is None else int(rows[0][0])


def _chunks(items: list[int] | list[Node], n: int) -> Iterator[list]:  # type: ignore[type-arg]
    for i in range(0, len(items), n):
        yield items[i : i + n]
