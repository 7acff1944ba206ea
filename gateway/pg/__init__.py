"""PostgreSQL helpers: a private local cluster for tests and development."""

from gateway.pg.local import LocalPostgres, find_bindir

__all__ = ["LocalPostgres", "find_bindir"]
