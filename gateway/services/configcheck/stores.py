"""Offline checks of the file stores: the data folder, the SQLite audit store and the SQLite
nonce store, each opened read-only (SQLite's ``mode=ro``), never created. A store that does
not exist yet is a warning: the process that writes it creates it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from gateway.audit.open import open_store
from gateway.config import LoadedConfig
from gateway.errors import GatewayError
from gateway.files import is_postgres_url
from gateway.services.configcheck.report import Report


def nonce_store_of(lc: LoadedConfig) -> str:
    """Where the ingress keeps nonces (as :func:`gateway.ingress.nonce_store_at`)."""
    configured = lc.config.connectors.nonce_store
    if configured:
        return configured if is_postgres_url(configured) else str(lc.path(Path(configured)))
    audit = lc.audit_store()
    return audit if is_postgres_url(audit) else str(lc.data_dir / "ingress-nonces.sqlite")


def _creatable(r: Report, path: Path, what: str) -> bool:
    """Whether ``path`` (missing) can be created: its nearest existing folder is writable."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        r.error(
            "A6-CFG-STORE",
            path,
            f"the {what} does not exist and cannot be created: {folder} is not a writable folder",
        )
        return False
    return True


def data_dir(r: Report, lc: LoadedConfig) -> None:
    path = lc.data_dir
    if path.exists() and not path.is_dir():
        r.error("A6-CFG-STORE", path, "gateway.data_dir is not a folder")
    elif path.exists() and not os.access(path, os.W_OK | os.X_OK):
        r.error("A6-CFG-STORE", path, "gateway.data_dir is not writable by this user")
    elif path.exists() or _creatable(r, path, "data folder (gateway.data_dir)"):
        r.ok(f"data folder {path}")


def audit_store(r: Report, lc: LoadedConfig, *, creates: bool = False) -> None:
    """The SQLite audit store opened read-only (a PostgreSQL one is checked ``--online``).
    Missing, it is a warning unless ``creates`` (the worker, who creates it, is checked)."""
    where = lc.audit_store()
    if is_postgres_url(where):
        r.ok("audit store is PostgreSQL (reached only with --online)")
        return
    path = Path(where)
    if not path.exists():
        hint = "a worker with this config creates it; is audit.store or gateway.data_dir right?"
        if _creatable(r, path, "audit store"):
            if creates:
                r.ok(f"audit store {path} (the worker creates it)")
            else:
                r.warn("A6-CFG-STORE", path, "no audit store yet", hint)
        return
    if creates and _no_tables(path):
        r.ok(f"audit store {path}: empty (the worker creates its tables)")
        return
    try:
        store = open_store(path, readonly=True)
    except GatewayError as exc:
        r.error("A6-CFG-STORE", path, str(exc.args[0]), "is audit.store a gateway audit store?")
        return
    try:
        size = store.size()
    finally:
        store.close()
    r.ok(f"audit store {path}: {size} entries")


def _no_tables(path: Path) -> bool:
    """Whether ``path`` is an SQLite database with no tables at all (an empty file, or one
    whose tables were never created): the worker creates them as for a new store."""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return bool(row[0] == 0)
        finally:
            db.close()
    except sqlite3.Error:
        return False


def nonce_store(r: Report, lc: LoadedConfig) -> None:
    """The ingress's SQLite nonce store, opened read-only (PostgreSQL: ``--online``)."""
    where = nonce_store_of(lc)
    if is_postgres_url(where):
        r.ok("nonce store is PostgreSQL (reached only with --online)")
        return
    path = Path(where)
    if not path.exists():
        if _creatable(r, path, "nonce store"):
            r.ok(f"nonce store {path} (the ingress creates it)")
        return
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            db.execute("SELECT count(*) FROM ingress_nonces").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        r.error("A6-CFG-STORE", path, f"not a nonce store: {exc}", "connectors.nonce_store")
        return
    r.ok(f"nonce store {path}")
