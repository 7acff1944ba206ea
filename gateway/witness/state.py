"""The witness's durable state: per log origin, the latest checkpoint it cosigned.

One SQLite file (created 0600), WAL journal, ``synchronous=FULL``: a commit is on disk
before :meth:`WitnessState.advance` returns, so the witness never answers with a
cosignature it could forget (tlog-witness §add-checkpoint: "MUST persist the new checkpoint
before responding").

The check and the update are one transaction begun with ``BEGIN IMMEDIATE``: it takes the
database's write lock before reading the latest checkpoint, so two requests, in this
process or in another one sharing the file, cannot both pass the check against the same
latest size; the second sees the first's update and gets a 409. That closes the race the
spec describes (a cosignature for N returned after one for N+K, rolling back K leaves).
Sizes are stored as decimal text: a checkpoint size is a uint64, SQLite integers are
signed.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway.audit.note import Checkpoint
from gateway.audit.rfc6962 import EMPTY_ROOT
from gateway.errors import AuditError
from gateway.files import create_private
from gateway.witness.protocol import Latest

__all__ = ["Stored", "WitnessState"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS latest (
    origin TEXT PRIMARY KEY,
    size TEXT NOT NULL,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    updated_at INTEGER NOT NULL
)
"""


@dataclass(frozen=True)
class Stored:
    """What the witness holds for one origin: size, root and the cosigned note (the
    log's signature and the witness's cosignature)."""

    size: int
    root: bytes
    note: str


class WitnessState:
    """The latest cosigned checkpoint of each origin, in a SQLite file.

    Use from one thread (the server runs it in a single worker thread).

    :raises AuditError: (AUD-STORE) when the file cannot be opened.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            create_private(self.path)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise AuditError(
                f"cannot open the witness state {path}: {exc}", code="AUD-STORE"
            ) from exc

    def close(self) -> None:
        self._db.close()

    def _rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def get(self, origin: str) -> Stored | None:
        """The latest checkpoint cosigned for ``origin``, or None."""
        row = self._db.execute(
            "SELECT size, root, note FROM latest WHERE origin = ?", (origin,)
        ).fetchone()
        return None if row is None else Stored(int(row[0]), bytes(row[1]), str(row[2]))

    def advance(
        self,
        checkpoint: Checkpoint,
        check: Callable[[Latest], None],
        cosign: Callable[[], str],
    ) -> str:
        """Atomically: ``check(latest)``, then record ``checkpoint`` and the note
        ``cosign()`` returns (its signed note with the cosignature), and return that note.

        ``check`` raises to refuse; nothing is then written. The stored size never goes
        down: a checkpoint smaller than the stored one is refused here too, whatever
        ``check`` says.

        :raises AuditError: (AUD-STORE) when the database fails; whatever ``check`` raises.
        """
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise AuditError(f"witness state {self.path}: {exc}", code="AUD-STORE") from exc
        try:
            stored = self.get(checkpoint.origin)
            latest = Latest(0, EMPTY_ROOT) if stored is None else Latest(stored.size, stored.root)
            check(latest)
            if checkpoint.size < latest.size:  # defence in depth: never roll back
                raise AuditError(
                    f"refusing to roll {checkpoint.origin} back from {latest.size} "
                    f"to {checkpoint.size}",
                    code="AUD-STORE",
                )
            note = cosign()
            self._db.execute(
                "INSERT INTO latest (origin, size, root, note, updated_at) VALUES (?,?,?,?,?) "
                "ON CONFLICT(origin) DO UPDATE SET size = excluded.size, root = excluded.root, "
                "note = excluded.note, updated_at = excluded.updated_at",
                (checkpoint.origin, str(checkpoint.size), checkpoint.root, note, int(time.time())),
            )
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise AuditError(f"witness state {self.path}: {exc}", code="AUD-STORE") from exc
        except BaseException:
            self._rollback()
            raise
        return note
