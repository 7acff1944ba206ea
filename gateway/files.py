"""Files that hold secrets or state: created private from the first moment.

A private key, a token or an audit store is never world-readable, not even for the moment
between creating it and a ``chmod``: each is created by ``os.open`` with ``O_CREAT`` and
its final mode, so the umask can only narrow it.

- :func:`write_secret`: a key or credential file, mode 0600; written to a new temporary
  file in the same folder (``O_CREAT | O_EXCL``, 0600) and renamed over the target, so an
  existing file of a wider mode is replaced rather than rewritten in place;
- :func:`create_private`: an empty file (a SQLite store) created 0600 if missing; SQLite
  gives its ``-wal`` and ``-shm`` files the mode of the database file;
- :func:`private_dir`: a state folder, created 0700 (its missing parents get the default);
- :func:`is_postgres_url`: whether a store's location is a PostgreSQL database rather than
  a file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "POSTGRES_SCHEMES",
    "create_private",
    "is_postgres_url",
    "private_dir",
    "write_secret",
]

FILE_MODE = 0o600
DIR_MODE = 0o700
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(url_or_path: str | os.PathLike[str]) -> bool:
    """True if ``url_or_path`` is a ``postgresql://`` or ``postgres://`` URL."""
    return isinstance(url_or_path, str) and url_or_path.lower().startswith(POSTGRES_SCHEMES)


def private_dir(path: Path) -> Path:
    """``path`` as a folder, created with mode 0700 when missing (parents as usual)."""
    if not path.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):  # made meanwhile by another process
            path.mkdir(mode=DIR_MODE)
    return path


def create_private(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (it is then left as it is).

    An existing file is not opened at all: closing any descriptor of a SQLite database
    releases every POSIX lock this process holds on it, the locks of its open connections
    included (SQLite then fails with "disk I/O error").
    """
    if path.exists():
        return path
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):  # made meanwhile by another process
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
    return path


def write_secret(path: Path, data: bytes, *, overwrite: bool = True) -> Path:
    """Write ``data`` to ``path`` with mode 0600 from the first byte.

    :raises FileExistsError: when ``path`` exists and not ``overwrite``.
    :raises OSError: when the folder cannot be written.
    """
    if not overwrite and path.exists():
        raise FileExistsError(f"{path} exists")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if overwrite:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if another process created it meanwhile
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
