"""The offline config check: what each process reads before it starts, read the same way,
with no network; every problem named with its code, its file and a hint.

``a6gw config check`` runs it for every process; ``a6gw worker``, ``api`` and ``ingress``
run it for themselves (:func:`require`) and refuse to start, naming each broken file, before
they touch Kafka.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import gateway.services.configcheck.files as files
import gateway.services.configcheck.stores as stores
import gateway.services.configcheck.tls as tls
import gateway.services.configcheck.witnesses as witnesses
from gateway.config import LoadedConfig
from gateway.errors import ConfigError
from gateway.services.configcheck.report import Report
from gateway.transport.clients import ADMIN, GATEWAY_ROLES

#: The long-running processes whose needs the check knows.
PROCESSES = ("worker", "api", "ingress")


def check(
    path: Path,
    *,
    processes: Iterable[str] = PROCESSES,
    api_read_only: bool = False,
    now: datetime | None = None,
) -> tuple[Report, LoadedConfig | None]:
    """Check what ``processes`` need of the config at ``path``; the loaded config (None when
    it cannot be loaded: nothing else is checked then)."""
    wanted = set(processes)
    r = Report(str(path))
    lc = files.load(r, path)
    if lc is None:
        return r, None
    found = files.trust(r, lc)
    https = any(reg.transport == "https" for reg in lc.config.registries)
    if "worker" in wanted:
        files.signing_key(r, lc, found)
    if wanted & {"worker", "api"}:
        files.log_key(r, lc)
    if wanted & {"worker", "ingress"}:
        files.mac_key(r, lc)
    _kafka_files(r, lc, wanted, api_read_only=api_read_only)
    _tls_files(r, lc, wanted, https=https, now=now or datetime.now(UTC))
    if wanted & {"worker", "api"}:
        witnesses.keys(r, lc)
    if "worker" in wanted:
        witnesses.files(r, lc, now or datetime.now(UTC))
    if wanted & {"worker", "ingress"}:
        stores.data_dir(r, lc)
    if wanted & {"worker", "api"}:
        stores.audit_store(r, lc, creates="worker" in wanted)
    if "ingress" in wanted and https:
        stores.nonce_store(r, lc)
    return r, lc


def needed_roles(lc: LoadedConfig, processes: Iterable[str], *, api_read_only: bool) -> list[str]:
    """The Kafka roles whose credentials ``processes`` need to start."""
    https = any(reg.transport == "https" for reg in lc.config.registries)
    skip = {"api"} if api_read_only else set()
    skip |= set() if https else {"ingress"}
    return [p for p in PROCESSES if p in set(processes) - skip]


def _kafka_files(r: Report, lc: LoadedConfig, wanted: set[str], *, api_read_only: bool) -> None:
    kc = lc.config.kafka
    if kc.security_protocol == "SASL_SSL" and kc.ssl_ca_file is not None:
        tls.ca(r, lc.path(kc.ssl_ca_file), "Kafka CA (kafka.ssl_ca_file)")
    if kc.security_protocol == "PLAINTEXT":
        r.ok("Kafka without authentication (PLAINTEXT): no credentials needed")
        return
    required = needed_roles(lc, wanted, api_read_only=api_read_only)
    for role in required:
        files.credentials(r, lc, role, required=True)
    if wanted == set(PROCESSES):  # the command-line tools' roles: each only when used
        for role in (*(g for g in GATEWAY_ROLES if g not in PROCESSES), ADMIN):
            files.credentials(r, lc, role, required=False)


def _tls_files(
    r: Report, lc: LoadedConfig, wanted: set[str], *, https: bool, now: datetime
) -> None:
    api, conn = lc.config.api, lc.config.connectors
    if "api" in wanted:
        paths = (lc.path(api.cert_file), lc.path(api.key_file))
        tls.pair(r, paths, ("api.cert_file", "api.key_file"), now)
        tls.ca(r, lc.path(api.client_ca_file), "client CA (api.client_ca_file)", now)
    if not https:
        if wanted & {"worker", "ingress"}:
            r.ok("no registry with transport https: connector and ingress TLS not needed")
        return
    if wanted & {"worker", "ingress"}:
        tls.ca(r, lc.path(conn.ca_file), "partners' CA (connectors.ca_file)", now)
    if "worker" in wanted:
        paths = (lc.path(conn.cert_file), lc.path(conn.key_file))
        tls.pair(r, paths, ("connectors.cert_file", "connectors.key_file"), now)
    if "ingress" in wanted:
        paths = (lc.path(conn.ingress_cert_file), lc.path(conn.ingress_key_file))
        keys = ("connectors.ingress_cert_file", "connectors.ingress_key_file")
        tls.pair(r, paths, keys, now)


def require(
    path: Path, process: str, *, api_read_only: bool = False
) -> tuple[LoadedConfig, Report]:
    """The config for ``process`` if the offline check finds no error; its warnings are in
    the report.

    :raises ConfigError: (A6-CFG-CHECK) naming every problem and its file.
    """
    report, lc = check(path, processes=(process,), api_read_only=api_read_only)
    if lc is None or report.errors:
        lines = "\n".join(f"  {p.text()}" for p in report.errors)
        raise ConfigError(
            f"{process} does not start: the config check found {len(report.errors)} "
            f"problem(s) (run `a6gw config check --config {path}`):\n{lines}",
            code="A6-CFG-CHECK",
        )
    return lc, report
