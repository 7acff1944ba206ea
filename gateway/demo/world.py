"""A self-contained demo world: Parties, registries, keys, config and trust files.

Japan (JPN, registry JPN01), Mongolia (MNG, MNG01) and Indonesia (IDN, IDN01), with one JCM
cooperative approach per partnership. The demo plays every registry, authority and Joint
Committee secretariat, so it holds their private keys; a real deployment's trust file
holds only public keys.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.note import LogKey
from gateway.core.canonical import canonical_bytes
from gateway.core.signing import (
    load_private_key_pem,
    private_key_pem,
    public_key_b64,
    sign_envelope,
)
from gateway.files import private_dir, write_secret
from schemas.events import EVENT_TYPES

PARTIES = {"JPN": "Japan", "MNG": "Mongolia", "IDN": "Indonesia"}
REGISTRIES = {"JPN01": "JPN", "MNG01": "MNG", "IDN01": "IDN"}
CAS = {
    "CA0001": ("JCM Japan-Mongolia", ("JPN", "MNG"), "JC-JPN-MNG"),
    "CA0002": ("JCM Japan-Indonesia", ("JPN", "IDN"), "JC-JPN-IDN"),
}
# principal -> (key id, role)
SIGNERS = {
    "JPN01": ("JPN01-2026", "registry"),
    "MNG01": ("MNG01-2026", "registry"),
    "IDN01": ("IDN01-2026", "registry"),
    "JPN": ("JPN-DNA-2026", "authorizing-authority"),
    "MNG": ("MNG-DNA-2026", "authorizing-authority"),
    "IDN": ("IDN-DNA-2026", "authorizing-authority"),
    "JC-JPN-MNG": ("JC-JPN-MNG-2026", "jc-secretariat"),
    "JC-JPN-IDN": ("JC-JPN-IDN-2026", "jc-secretariat"),
    "a6gw-demo": ("a6gw-demo-2026", "gateway"),
    "ops-1": ("ops-1-2026", "operator"),  # the gateway's operator: discrepancy commands
    # Each Party's inventory agency (its principal is the Party: it publishes on the Party's
    # inventory topic): emissions covered by the NDC and the reported summary rows.
    "JPN-GHGI": ("JPN-GHGI-2026", "inventory-agency"),
    "MNG-GHGI": ("MNG-GHGI-2026", "inventory-agency"),
    "IDN-GHGI": ("IDN-GHGI-2026", "inventory-agency"),
}
#: Signers whose principal is not their name.
PRINCIPALS = {"JPN-GHGI": "JPN", "MNG-GHGI": "MNG", "IDN-GHGI": "IDN"}
#: How each demo Party applies corresponding adjustments (2/CMA.3 annex paras 7-8).
CA_METHODS = {
    "JPN": {"ca_method": "trajectory", "ca_year": "first-transfer"},
    "MNG": {"ca_method": "budget", "ca_year": "first-transfer"},
    "IDN": {"ca_method": "averaging", "ca_year": "vintage"},
}
GATEWAY_ID = "a6gw-demo"
LOG_ORIGIN = "a6gw.demo/audit"


@dataclass(frozen=True)
class World:
    root: Path
    config_path: Path
    keys: dict[str, Ed25519PrivateKey]

    def key_id(self, signer: str) -> str:
        return SIGNERS[signer][0]

    def principal(self, signer: str) -> str:
        """Who ``signer`` acts for (the envelope's source)."""
        return PRINCIPALS.get(signer, signer)


def _load_or_make(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return load_private_key_pem(path.read_bytes())
    key = Ed25519PrivateKey.generate()
    write_secret(path, private_key_pem(key), overwrite=False)
    return key


def write_mac_key(path: Path) -> None:
    """The secret of internal records' MACs (64 hex digits), created 0600; kept if present."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(32) + "\n")


def write_world(
    root: Path,
    *,
    bootstrap: str,
    partitions: int = 4,
    transfer_answer_s: int = 86_400,
    security_protocol: str | None = None,
) -> World:
    """Create (or reuse) keys and write ``config.yaml`` and ``trust.yaml`` under ``root``.

    ``transfer_answer_s`` is how long an acquiring registry has to answer a proposal; the
    demo shortens it so that its unanswered transfer times out while you watch.
    """
    keydir = root / "keys"
    private_dir(keydir)
    keys = {p: _load_or_make(keydir / f"{p}.pem") for p in SIGNERS}
    log_key_path = keydir / "log.key"
    if not log_key_path.exists():
        LogKey.generate(LOG_ORIGIN).save(log_key_path)
    write_mac_key(keydir / "internal.mac")
    config: dict[str, Any] = {
        "gateway": {
            "id": GATEWAY_ID,
            "data_dir": "data",
            "trust_file": "trust.yaml",
            "signing_key_id": SIGNERS[GATEWAY_ID][0],
            "signing_key_file": f"keys/{GATEWAY_ID}.pem",
            "log_origin": LOG_ORIGIN,
            "log_key_file": "keys/log.key",
            "mac_key_file": "keys/internal.mac",
        },
        "kafka": {
            "bootstrap": bootstrap,
            "partitions": partitions,
            **({"security_protocol": security_protocol} if security_protocol else {}),
        },
        "timeouts": {
            "transfer_answer_s": transfer_answer_s,
            "check_interval_s": 1.0,
            "stall_s": 10.0,
        },
        "parties": [
            {"code": c, "name": n, "ndc_period": [2021, 2030], **CA_METHODS[c]}
            for c, n in PARTIES.items()
        ],
        "registries": [{"id": r, "party": p, "transport": "kafka"} for r, p in REGISTRIES.items()],
        "cooperative_approaches": [
            {"id": ca, "title": t, "parties": list(ps), "joint_committee": jc}
            for ca, (t, ps, jc) in CAS.items()
        ],
    }
    trust = {
        "keys": [
            {
                "key_id": kid,
                "public_key": public_key_b64(keys[p].public_key()),
                "principal": PRINCIPALS.get(p, p),
                "role": role,
                "valid_from": "2026-01-01T00:00:00Z",
                "valid_to": "2031-01-01T00:00:00Z",
                "status": "active",
            }
            for p, (kid, role) in SIGNERS.items()
        ],
        "event_roles": {t: list(et.roles) for t, et in EVENT_TYPES.items()},
    }
    config_path = root / "config.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (root / "trust.yaml").write_text(yaml.safe_dump(trust, sort_keys=False), encoding="utf-8")
    return World(root, config_path, keys)


def now_utc() -> str:
    t = datetime.now(UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def signed_event(
    key: Ed25519PrivateKey,
    *,
    key_id: str,
    source: str,
    name: str,
    event_id: str,
    data: dict[str, Any],
    time: str | None = None,
) -> bytes:
    """The wire bytes of a signed event, as a registry would publish it."""
    env = {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": f"a6gw.{name}.v1",
        "time": time or now_utc(),
        "datacontenttype": "application/json",
        "a6keyid": key_id,
        "data": data,
    }
    return canonical_bytes(sign_envelope(env, key))
