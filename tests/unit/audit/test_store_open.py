"""Opening the SQLite store while another connection switches it to WAL mode."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from gateway.audit.store import _write_ahead


class _Db:
    """Answers "database is locked" to the first ``locked`` mode switches."""

    def __init__(self, locked: int, message: str = "database is locked") -> None:
        self.locked = locked
        self.message = message
        self.calls = 0

    def execute(self, sql: str) -> Any:
        self.calls += 1
        if self.calls <= self.locked:
            raise sqlite3.OperationalError(self.message)
        return None


def test_a_locked_mode_switch_is_asked_again() -> None:
    db = _Db(locked=3)
    _write_ahead(db, pause_s=0)  # type: ignore[arg-type]
    assert db.calls == 4


def test_a_lock_that_does_not_end_is_raised() -> None:
    db = _Db(locked=10)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _write_ahead(db, tries=5, pause_s=0)  # type: ignore[arg-type]
    assert db.calls == 5


def test_other_errors_are_not_retried() -> None:
    db = _Db(locked=1, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        _write_ahead(db, pause_s=0)  # type: ignore[arg-type]
    assert db.calls == 1
