"""The ``witnesses`` section: each witness's pinned key, and the TLS files the collector uses
to reach it (its server's CA; a client certificate and key for mutual TLS, both or neither)."""

from __future__ import annotations

from datetime import datetime

import gateway.services.configcheck.tls as tls
from gateway.config import LoadedConfig
from gateway.errors import ConfigError
from gateway.services.configcheck.report import Report


def keys(r: Report, lc: LoadedConfig) -> None:
    """Every witness's cosignature key loads and names its witness."""
    cfg = lc.config
    if not cfg.witnesses:
        return
    try:
        lc.witness_keys()
    except ConfigError as exc:
        r.error(exc.code, lc.base, str(exc.args[0]), "a6gw witness keygen prints the key line")
        return
    r.ok(f"{len(cfg.witnesses)} witness keys; readers need {cfg.witness_quorum} cosignatures")


def files(r: Report, lc: LoadedConfig, now: datetime) -> None:
    """The TLS files the collector reaches each witness with."""
    conn = lc.config.connectors
    for n, w in enumerate(lc.config.witnesses):
        where = f"witnesses.{n}"
        ca = lc.path(w.ca_file or conn.ca_file)
        tls.ca(r, ca, f"CA of witness {w.name} ({where}.ca_file)", now)
        if (w.client_cert is None) != (w.client_key is None):
            r.error("A6-CFG-TLS", lc.base, f"{where}: client_cert and client_key go together")
        elif w.client_cert is not None and w.client_key is not None:
            paths = (lc.path(w.client_cert), lc.path(w.client_key))
            tls.pair(r, paths, (f"{where}.client_cert", f"{where}.client_key"), now)
