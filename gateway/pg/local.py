"""A private PostgreSQL cluster for tests and local use, run from the installed server binaries.

Everything lives under one root directory::

    <root>/.a6gw-postgres   marker: this directory belongs to a LocalPostgres
    <root>/data/            the cluster (initdb), with a6gw.conf (port, addresses, settings)
    <root>/run/             the Unix socket directory
    <root>/postgres.log     the server's output

The server listens on 127.0.0.1 only, with ``trust`` authentication for the superuser
``postgres`` (on 127.0.0.1 and on the socket inside ``root``): it is a throwaway cluster, not
a deployment. The binaries come from ``$A6GW_PG_BINDIR``, ``pg_config --bindir``,
``/usr/lib/postgresql/<newest>/bin`` or ``initdb`` on PATH (Debian: the ``postgresql``
package).

PostgreSQL refuses to run as root. When this process is root, ``initdb`` and ``pg_ctl`` run
as the ``postgres`` system user (created by Debian's ``postgresql`` package) through
``runuser -u postgres --`` (``su`` when runuser is missing), and ``root`` is chowned to that
user, so every parent directory of ``root`` must be searchable by it (``/tmp`` is).

Errors are ``AuditError`` with the codes ``PG-BIN`` (no server binaries), ``PG-USER`` (root
without a usable ``postgres`` user), ``PG-CONFIG`` (the root directory cannot be used),
``PG-INIT`` (initdb failed), ``PG-START``, ``PG-STOP`` and ``PG-DB`` (database commands).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

from gateway.errors import AuditError

__all__ = ["DEFAULT_PORT", "HOST", "LocalPostgres", "find_bindir"]

DEFAULT_PORT = 15432
HOST = "127.0.0.1"
SUPERUSER = "postgres"
RUN_AS = "postgres"  # the system user the server runs as when we are root
MARKER = ".a6gw-postgres"
_SOCKET_PATH_MAX = 107  # sizeof(sun_path) - 1 on Linux
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_INSTALL = "install Debian's 'postgresql' package (apt-get install postgresql)"


def _has_server(bindir: Path) -> bool:
    return all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres"))


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def find_bindir() -> Path:
    """The directory of the PostgreSQL server binaries (initdb, pg_ctl, postgres).

    :raises AuditError: (PG-BIN) when there are none.
    """
    candidates: list[Path] = []
    if env := os.environ.get("A6GW_PG_BINDIR"):
        candidates.append(Path(env))
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    candidates.extend(debian)
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if _has_server(bindir):
            return bindir
    raise AuditError(
        f"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; {_INSTALL}, "
        "or point A6GW_PG_BINDIR at their directory",
        code="PG-BIN",
    )


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:])


class LocalPostgres:
    """initdb, start, stop and inspect one private PostgreSQL cluster under ``root``.

    ``settings`` are extra ``postgresql.conf`` parameters (e.g. ``{"fsync": "off"}`` for
    tests). :meth:`start` is idempotent and returns :attr:`dsn`, the URL of ``database``.
    """

    def __init__(
        self,
        root: Path,
        port: int = DEFAULT_PORT,
        *,
        database: str = "a6gw",
        settings: Mapping[str, str] | None = None,
    ) -> None:
        if not 1 <= port <= 65535:
            raise AuditError(f"PostgreSQL port {port} is out of range", code="PG-CONFIG")
        self.root = Path(root).expanduser().absolute()
        self.port = port
        self.database = _checked_name(database)
        self.settings = dict(settings or {})
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_path = self.root / "postgres.log"

    @property
    def dsn(self) -> str:
        """``postgresql://postgres@127.0.0.1:<port>/<database>``."""
        return self.dsn_for(self.database)

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{_checked_name(database)}"

    # -- running the tools (as the postgres user when we are root) -------------------

    def _owner(self) -> pwd.struct_passwd | None:
        """The user the cluster runs as: None for ourselves, ``postgres`` when we are root."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(RUN_AS)
        except KeyError as exc:
            raise AuditError(
                f"PostgreSQL cannot run as root and there is no '{RUN_AS}' system user to "
                f"run it as; {_INSTALL}, or run as a non-root user",
                code="PG-USER",
            ) from exc

    def _command(self, cmd: list[str]) -> list[str]:
        if self._owner() is None:
            return cmd
        if runuser := shutil.which("runuser"):
            return [runuser, "-u", RUN_AS, "--", *cmd]
        if su := shutil.which("su"):
            return [su, RUN_AS, "-s", "/bin/sh", "-c", shlex.join(cmd)]
        raise AuditError(f"neither runuser nor su found to run as '{RUN_AS}'", code="PG-USER")

    def _run(self, cmd: list[str], code: str, what: str, timeout: float) -> str:
        try:
            res = subprocess.run(
                self._command(cmd),
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AuditError(f"{what} failed: {exc}", code=code) from exc
        if res.returncode != 0:
            tail = "\n".join((res.stdout + res.stderr).splitlines()[-30:])
            raise AuditError(f"{what} failed (exit {res.returncode}):\n{tail}", code=code)
        return res.stdout

    def _chown(self, path: Path) -> None:
        owner = self._owner()
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)

    # -- the cluster -----------------------------------------------------------------

    def _prepare_root(self) -> None:
        marker = self.root / MARKER
        sock = self.socket_dir / f".s.PGSQL.{self.port}"
        if len(str(sock)) > _SOCKET_PATH_MAX:
            msg = f"socket path {sock} is longer than {_SOCKET_PATH_MAX} bytes; use a shorter root"
            raise AuditError(msg, code="PG-CONFIG")
        try:
            if self.root.exists() and not marker.exists() and any(self.root.iterdir()):
                raise OSError("not empty and not an a6gw PostgreSQL root")
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.socket_dir.mkdir(mode=0o700, exist_ok=True)
            marker.touch()
            for path in (self.root, self.socket_dir, marker):
                self._chown(path)
        except OSError as exc:
            raise AuditError(f"cannot use {self.root}: {exc}", code="PG-CONFIG") from exc
        if self._owner() is not None:  # can the postgres user reach and write root?
            probe = ["test", "-w", str(self.root), "-a", "-x", str(self.root)]
            try:
                ok = subprocess.run(self._command(probe), check=False, timeout=30).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
            if not ok:
                raise AuditError(
                    f"the '{RUN_AS}' user cannot reach {self.root}; every parent directory "
                    "must be searchable by it (chmod o+x), or choose a root under /tmp",
                    code="PG-CONFIG",
                )

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> bool:
        """initdb the cluster (once); False if it already exists."""
        self._prepare_root()
        if self.initialized():
            return False
        bindir = find_bindir()
        cmd = [str(bindir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER]
        cmd += ["-A", "trust", "-E", "UTF8", "--locale=C"]
        self._run(cmd, "PG-INIT", f"initdb {self.data_dir}", timeout=300)
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        try:
            (self.data_dir / "pg_hba.conf").write_text(hba)
            with (self.data_dir / "postgresql.conf").open("a") as conf:
                conf.write("\n# added by gateway/pg/local.py\ninclude_if_exists = 'a6gw.conf'\n")
        except OSError as exc:
            raise AuditError(f"cannot configure {self.data_dir}: {exc}", code="PG-INIT") from exc
        return True

    def _write_settings(self) -> None:
        values = {
            "listen_addresses": HOST,
            "port": str(self.port),
            "unix_socket_directories": str(self.socket_dir),
            **self.settings,
        }
        quoted = {k: "'" + v.replace("'", "''") + "'" for k, v in values.items()}
        text = "".join(f"{k} = {v}\n" for k, v in quoted.items())
        path = self.data_dir / "a6gw.conf"
        try:
            path.write_text("# written by gateway/pg/local.py on every start\n" + text)
            self._chown(path)
        except OSError as exc:
            raise AuditError(f"cannot write {path}: {exc}", code="PG-CONFIG") from exc

    def pid(self) -> int | None:
        """The postmaster's pid if it is running on this data dir."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
            os.kill(pid, 0)
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if str(self.data_dir).encode() in cmdline.split(b"\0") else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _port_free(self) -> bool:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((HOST, self.port))
            except OSError:
                return False
        return True

    def start(self, timeout: float = 60.0) -> str:
        """initdb if needed, start the server, create the database; returns :attr:`dsn`."""
        if not self.is_running():
            if not self._port_free():
                raise AuditError(f"{HOST}:{self.port} is already in use", code="PG-START")
            self.init()
            self._write_settings()
            pg_ctl = str(find_bindir() / "pg_ctl")
            cmd = [pg_ctl, "-D", str(self.data_dir), "-l", str(self.log_path)]
            cmd += ["-w", "-t", str(int(timeout)), "start"]
            try:
                self._run(cmd, "PG-START", f"starting PostgreSQL on port {self.port}", timeout + 10)
            except AuditError as exc:
                raise AuditError(
                    f"{exc.args[0]}\n--- {self.log_path} ---\n{_tail(self.log_path)}",
                    code="PG-START",
                ) from exc
        self.create_database(self.database, exist_ok=True)
        return self.dsn

    def stop(self, timeout: float = 60.0) -> bool:
        """Stop the server (fast shutdown); False if it was not running."""
        if not self.is_running():
            return False
        pg_ctl = str(find_bindir() / "pg_ctl")
        cmd = [pg_ctl, "-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(int(timeout))]
        self._run([*cmd, "stop"], "PG-STOP", "stopping PostgreSQL", timeout + 10)
        return True

    def wipe(self) -> None:
        """Stop the server and delete ``root`` (only if it is a LocalPostgres root)."""
        self.stop()
        try:
            if not (self.root / MARKER).exists() and any(self.root.iterdir()):
                raise OSError("refusing: not an a6gw PostgreSQL root")
            shutil.rmtree(self.root)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise AuditError(f"cannot wipe {self.root}: {exc}", code="PG-CONFIG") from exc

    # -- databases -------------------------------------------------------------------

    def _admin(self, statement: sql.Composed, what: str) -> None:
        try:
            with psycopg.connect(self.dsn_for("postgres"), autocommit=True) as conn:
                conn.execute(statement)
        except psycopg.Error as exc:
            raise AuditError(f"{what} failed: {exc}", code="PG-DB") from exc

    def create_database(self, name: str, *, exist_ok: bool = False) -> str:
        """Create database ``name`` (lowercase identifier); returns its DSN."""
        try:
            self._admin(
                sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_checked_name(name))),
                f"creating database {name}",
            )
        except AuditError as exc:
            if not (exist_ok and isinstance(exc.__cause__, psycopg.errors.DuplicateDatabase)):
                raise
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` if it exists, disconnecting its sessions."""
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._admin(statement.format(sql.Identifier(_checked_name(name))), f"dropping {name}")


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise AuditError(f"not a plain database name: {name!r}", code="PG-CONFIG")
    return name
