"""Secrets and stores are private from the first moment, whatever the umask.

Each test runs under a umask of 0, so a file created with the default mode would be 0666
and a folder 0777. Python's audit hooks show how each file came to be: ``os.open`` (event
``open`` without a mode string: the permission bits are given at creation) or the built-in
``open`` (a mode string such as ``"wb"``: created 0666 less the umask), and every
``os.chmod``. A secret must never be created by the built-in ``open`` nor chmod-ed after.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.note import LogKey
from gateway.audit.store import AuditStore
from gateway.cli.main import main
from gateway.http.pki import init_pki

_EVENTS: list[tuple[str, tuple[Any, ...]]] = []
_WATCH: list[str] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event in ("open", "os.chmod") and _WATCH and str(args[0]).startswith(_WATCH[0]):
        _EVENTS.append((event, args))


sys.addaudithook(_hook)  # hooks cannot be removed; this one only looks under _WATCH


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path`` with umask 0 and the file events under it recorded."""
    old = os.umask(0)
    _EVENTS.clear()
    _WATCH[:] = [str(tmp_path)]
    try:
        yield tmp_path
    finally:
        _WATCH.clear()
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def created_openly(paths: set[Path]) -> list[tuple[str, tuple[Any, ...]]]:
    """Events that created or rewrote one of ``paths`` with the default mode, or chmod-ed it."""
    names = {str(p) for p in paths}
    return [
        (event, args)
        for event, args in _EVENTS
        if str(args[0]) in names
        and (event == "os.chmod" or (isinstance(args[1], str) and set(args[1]) & set("wax+")))
    ]


def test_init_writes_keys_0600_from_the_start_in_a_0700_folder(watched: Path) -> None:
    root = watched / "gw"
    assert main(["init", str(root)]) == 0
    keys = root / "keys"
    secrets = set(keys.iterdir())
    assert "log.key" in {p.name for p in secrets} and len(secrets) > 3
    assert mode(keys) == 0o700
    assert {p.name: mode(p) for p in secrets} == {p.name: 0o600 for p in secrets}
    assert created_openly(secrets) == []


def test_pki_and_log_keys_replace_wider_files_with_0600_ones(watched: Path) -> None:
    pki = watched / "pki"
    init_pki(pki, ("auditor",))
    keys = set(pki.glob("*.key"))
    assert {p.name for p in keys} == {"ca.key", "server.key", "auditor.key"}
    assert mode(pki) == 0o700 and all(mode(k) == 0o600 for k in keys)
    log_key = watched / "log.key"
    log_key.write_text("old")
    for key in (*keys, log_key):
        key.chmod(0o644)  # left by an older tool, or copied in
    _EVENTS.clear()
    init_pki(pki, ("auditor",))  # a6gw pki init --force
    assert all(mode(k) == 0o600 for k in keys)
    LogKey.generate("a6gw.test/log").save(log_key, overwrite=True)
    assert mode(log_key) == 0o600
    assert created_openly({*keys, log_key}) == []


def test_the_audit_store_and_its_wal_and_shm_are_0600_in_a_0700_folder(watched: Path) -> None:
    path = watched / "data" / "audit.sqlite"
    store = AuditStore(path)
    with sqlite3.connect(str(path)) as db:  # a reader keeps the -wal and -shm files open
        db.execute("SELECT count(*) FROM entries").fetchall()
        files = [path, path.with_name("audit.sqlite-wal"), path.with_name("audit.sqlite-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    store.close()
    assert mode(path.parent) == 0o700
    assert created_openly({path}) == []


def test_the_nonce_store_is_0600(watched: Path) -> None:
    from gateway.http.nonces import open_nonces

    path = watched / "state" / "nonces.sqlite"
    store = open_nonces(str(path), 300)
    assert store.seen("k", "n") is False
    files = [path, path.with_name("nonces.sqlite-wal"), path.with_name("nonces.sqlite-shm")]
    assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert mode(path.parent) == 0o700
    store.close()
