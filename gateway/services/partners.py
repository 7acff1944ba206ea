"""The gateway's HTTPS clients of its partner registries (signed, mutual TLS)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors.client import PartnerClient
from connectors.policy import CircuitBreaker, RetryBudget
from gateway.config import LoadedConfig
from gateway.http.tls import client_tls


def partner_clients(
    lc: LoadedConfig, signer_key_id: str, signer_key: Ed25519PrivateKey
) -> dict[str, PartnerClient]:
    """One signed, mutually authenticated client per registry configured for HTTPS."""
    cfg = lc.config
    conn = cfg.connectors
    https = [r for r in cfg.registries if r.transport == "https"]
    if not https:
        return {}
    tls = client_tls(
        str(lc.path(conn.ca_file)), str(lc.path(conn.cert_file)), str(lc.path(conn.key_file))
    )
    return {
        r.id: PartnerClient(
            r.id,
            str(r.endpoint),
            tls,
            key_id=signer_key_id,
            private_key=signer_key,
            timeout_s=conn.timeout_s,
            budget=RetryBudget(max_attempts=1000, max_elapsed_s=conn.retry_budget_s),
            breaker=CircuitBreaker(
                failure_threshold=5, reset_after_s=min(30.0, conn.retry_budget_s)
            ),
        )
        for r in https
    }
