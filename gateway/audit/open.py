"""Open the audit store a URL or path names: PostgreSQL for ``postgresql://``, else SQLite.

::

    open_store("postgresql://a6gw@db.internal:5432/audit")  # PostgresStore (shared log)
    open_store("postgres://a6gw@db.internal/audit")         # the same (libpq accepts both)
    open_store(".a6gw/audit.sqlite")                        # AuditStore (embedded SQLite)
    open_store(Path("/var/lib/a6gw/audit.sqlite"))          # the same, from a Path

Anything that is not a ``postgresql://`` or ``postgres://`` URL (scheme matched case-
insensitively) is taken as the path of a SQLite file, created with its parent directories
if missing (unless ``readonly``). Both stores implement
:class:`~gateway.audit.logstore.LogStore`.
"""

from __future__ import annotations

import os
from pathlib import Path

from gateway.audit.logstore import LogStore
from gateway.files import POSTGRES_SCHEMES, is_postgres_url

__all__ = ["POSTGRES_SCHEMES", "is_postgres_url", "open_store"]


def open_store(url_or_path: str | os.PathLike[str], *, readonly: bool = False) -> LogStore:
    """The audit store at ``url_or_path``: a PostgresStore for a PostgreSQL URL, else SQLite.

    ``readonly``: for commands that only read (export, summary, AEF, discrepancy lists): a
    missing SQLite file is an error rather than a new empty store, the file is opened with
    SQLite's ``mode=ro``, and a PostgreSQL session is read-only and creates no tables.

    :raises AuditError: (AUD-STORE) when the store cannot be opened (or, ``readonly``, does
        not exist).
    """
    if is_postgres_url(url_or_path):
        from gateway.audit.pgstore import PostgresStore  # psycopg only when it is needed

        return PostgresStore(str(url_or_path), readonly=readonly)
    from gateway.audit.store import AuditStore

    return AuditStore(Path(url_or_path), readonly=readonly)
