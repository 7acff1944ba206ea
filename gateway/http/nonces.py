"""The ingress's nonce store: durable, shared by every ingress replica, atomic per nonce.

An RFC 9421 request carries a nonce; the ingress accepts each ``(key id, nonce)`` once. The
store outlives a restart and is shared by replicas behind one URL, so a request replayed
after a restart or at another replica is refused (REG-REPLAY). It is the kind of store the
gateway already runs: a SQLite file by default (created 0600), PostgreSQL for deployments
(the audit store's database when ``audit.store`` is a ``postgresql://`` URL).

:meth:`seen` is one statement, an upsert that inserts the pair or takes over a row that has
expired, and returns a row only then: the check and the insert are one atomic step, so of
two replicas racing on one nonce exactly one is told "not seen". A nonce expires
``2 * window_s`` after it was recorded (a request older than ``window_s`` is refused as
stale anyway); expired rows are deleted now and then.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from gateway.errors import GatewayError
from gateway.files import create_private, is_postgres_url

__all__ = ["NonceStore", "PostgresNonces", "SqliteNonces", "open_nonces"]

_PURGE_EVERY = 512  # calls between deletions of expired rows
_SCHEMA_LOCK = 0x6136676E  # pg_advisory_xact_lock key while creating the table ("a6gn")
_TABLE = """
CREATE TABLE IF NOT EXISTS ingress_nonces (
    keyid    TEXT NOT NULL,
    nonce    TEXT NOT NULL,
    seen_at  {real} NOT NULL,
    PRIMARY KEY (keyid, nonce)
);
CREATE INDEX IF NOT EXISTS ingress_nonces_at ON ingress_nonces (seen_at);
"""
_UPSERT = (
    "INSERT INTO ingress_nonces (keyid, nonce, seen_at) VALUES ({p}, {p}, {p}) "
    "ON CONFLICT (keyid, nonce) DO UPDATE SET seen_at = excluded.seen_at "
    "WHERE ingress_nonces.seen_at < {p} RETURNING 1"
)
_PURGE = "DELETE FROM ingress_nonces WHERE seen_at < {p}"


class NonceStore(Protocol):
    def seen(self, keyid: str, nonce: str) -> bool:
        """True if the pair was recorded within the window; else record it and say False."""

    def close(self) -> None: ...


def _error(what: str, exc: Exception) -> GatewayError:
    return GatewayError(f"the nonce store failed ({what}): {exc}", code="INGRESS-STORE")


class _Base:
    def __init__(self, window_s: int, clock: Callable[[], float]) -> None:
        self.window_s, self.clock = window_s, clock
        self._lock = threading.Lock()
        self._calls = 0

    def _run(self, sql: str, params: tuple[object, ...]) -> bool:
        raise NotImplementedError

    def seen(self, keyid: str, nonce: str) -> bool:
        now = self.clock()
        horizon = now - 2 * self.window_s
        with self._lock:
            self._calls += 1
            if self._calls % _PURGE_EVERY == 1:
                self._run("purge", (horizon,))
            return not self._run("upsert", (keyid, nonce, now, horizon))


class SqliteNonces(_Base):
    """The nonce store in a SQLite file (WAL; several processes on one machine share it)."""

    def __init__(self, path: Path, window_s: int, clock: Callable[[], float] = time.time):
        super().__init__(window_s, clock)
        try:
            create_private(path)
            self._db = sqlite3.connect(
                str(path), timeout=30, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL: a recorded nonce survives the process (a restart, a crash); an
            # OS crash may lose the last ones. FULL costs an fsync per request (3.5 ms here
            # against 0.13 ms).
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_TABLE.format(real="REAL"))
        except (OSError, sqlite3.Error) as exc:
            raise _error(f"opening {path}", exc) from exc
        self._sql = {"upsert": _UPSERT.format(p="?"), "purge": _PURGE.format(p="?")}

    def _run(self, sql: str, params: tuple[object, ...]) -> bool:
        try:
            return bool(self._db.execute(self._sql[sql], params).fetchall())
        except sqlite3.Error as exc:
            raise _error(sql, exc) from exc

    def close(self) -> None:
        self._db.close()


class PostgresNonces(_Base):
    """The nonce store in PostgreSQL (one table, ``ingress_nonces``, next to the log's)."""

    def __init__(self, url: str, window_s: int, clock: Callable[[], float] = time.time) -> None:
        import psycopg  # only when it is needed

        super().__init__(window_s, clock)
        self._psycopg = psycopg
        try:
            self._db = psycopg.connect(url, autocommit=True)
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                for stmt in _TABLE.format(real="double precision").split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
        except psycopg.Error as exc:
            raise _error("connecting", exc) from exc
        self._sql = {"upsert": _UPSERT.format(p="%s"), "purge": _PURGE.format(p="%s")}

    def _run(self, sql: str, params: tuple[object, ...]) -> bool:
        try:
            cur = self._db.execute(self._sql[sql], params)
            return cur.description is not None and bool(cur.fetchall())
        except self._psycopg.Error as exc:
            raise _error(sql, exc) from exc

    def close(self) -> None:
        self._db.close()


def open_nonces(
    url_or_path: str | os.PathLike[str], window_s: int, clock: Callable[[], float] = time.time
) -> NonceStore:
    """The nonce store at a ``postgresql://`` URL, else in the SQLite file at the path.

    :raises GatewayError: (INGRESS-STORE) when it cannot be opened.
    """
    if is_postgres_url(url_or_path):
        return PostgresNonces(str(url_or_path), window_s, clock)
    return SqliteNonces(Path(url_or_path), window_s, clock)
