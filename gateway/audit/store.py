"""The audit store: entries in log order with dense leaf indices (SQLite, the embedded default).

The sequencer appends batches of ``(entry_id, bytes)``; an entry id already logged is
skipped, so redeliveries never grow the log. Kafka offsets are not leaf indices: the index
is assigned here, densely, inside one transaction per batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.errors import AuditError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    idx       INTEGER PRIMARY KEY,
    entry_id  TEXT    NOT NULL UNIQUE,
    body      BLOB    NOT NULL,
    leaf_hash BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS positions (
    topic      TEXT    NOT NULL,
    partition  INTEGER NOT NULL,
    last       INTEGER NOT NULL,
    PRIMARY KEY (topic, partition)
);
"""


class AuditStore:
    """Append-only entries and their RFC 9162 leaf hashes in one SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            self._db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise AuditError(f"cannot open audit store {path}: {exc}", code="AUD-STORE") from exc

    def close(self) -> None:
        self._db.close()

    def append(
        self, batch: Iterable[tuple[str, bytes]], *, position: tuple[str, int, int] | None = None
    ) -> int:
        """Append entries not logged yet, in order; returns how many were appended.

        ``position`` (topic, partition, offset) records the last input record the batch
        came from, in the same transaction, so the store knows exactly what it has consumed.

        :raises AuditError: when an entry contains 0x0A (it could not be one bundle line).
        """
        items = list(batch)
        for entry_id, body in items:
            if b"\n" in body:
                raise AuditError(f"entry {entry_id} contains a newline", code="AUD-ENTRY")
        try:
            self._db.execute("BEGIN IMMEDIATE")
            size = self.size()
            added = 0
            for entry_id, body in items:
                cur = self._db.execute(
                    "INSERT OR IGNORE INTO entries (idx, entry_id, body, leaf_hash) "
                    "VALUES (?, ?, ?, ?)",
                    (size + added, entry_id, body, leaf_hash(body)),
                )
                added += cur.rowcount
            if position is not None:
                self._db.execute(
                    "INSERT INTO positions (topic, partition, last) VALUES (?, ?, ?) "
                    "ON CONFLICT (topic, partition) DO UPDATE SET last = MAX(last, excluded.last)",
                    position,
                )
            self._db.execute("COMMIT")
            return added
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise AuditError(f"audit append failed: {exc}", code="AUD-STORE") from exc

    def position(self, topic: str, partition: int) -> int | None:
        """The last input offset appended from ``topic[partition]`` (None before the first)."""
        row = self._db.execute(
            "SELECT last FROM positions WHERE topic = ? AND partition = ?", (topic, partition)
        ).fetchone()
        return None if row is None else int(row[0])

    def size(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM entries").fetchone()
        return int(row[0])

    def entries(self, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        end = self.size() if end is None else end
        for (body,) in self._db.execute(
            "SELECT body FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
        ):
            yield bytes(body)

    def leaf_hashes(self, size: int | None = None) -> list[bytes]:
        size = self.size() if size is None else size
        rows = self._db.execute("SELECT leaf_hash FROM entries WHERE idx < ? ORDER BY idx", (size,))
        return [bytes(h) for (h,) in rows]

    def root(self, size: int | None = None) -> bytes:
        return root_from_leaf_hashes(self.leaf_hashes(size))

    def has(self, entry_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM entries WHERE entry_id = ?", (entry_id,)).fetchone()
        return row is not None
