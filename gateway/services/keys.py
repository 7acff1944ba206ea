"""The gateway's own keys and its partners' public keys, loaded from the config's files.

The worker (:class:`gateway.worker.context.WorkerContext`) and the use cases that sign or
authenticate outside it (a reconciliation's snapshot request and its signed pages, a pull
from an HTTPS partner) load them with the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.config import Config, LoadedConfig
from gateway.core.signing import load_private_key_pem, load_public_key_b64
from gateway.core.steps import Signer
from gateway.core.trust import TopicOwner, Trust
from gateway.errors import ConfigError


def load_signing_key(lc: LoadedConfig) -> Ed25519PrivateKey:
    """The gateway's Ed25519 signing key (``gateway.signing_key_file``).

    :raises ConfigError: (A6-CFG-002) the file cannot be read.
    """
    key_path = lc.path(lc.config.gateway.signing_key_file)
    try:
        return load_private_key_pem(key_path.read_bytes())
    except OSError as exc:
        raise ConfigError(
            f"cannot read the gateway signing key {key_path}: {exc.strerror}", code="A6-CFG-002"
        ) from exc


def gateway_signer(lc: LoadedConfig) -> Signer:
    """The gateway's identity for the messages it sends: its id, key id and signing key."""
    cfg = lc.config
    key = load_signing_key(lc)
    return Signer(source=cfg.gateway.id, key_id=cfg.gateway.signing_key_id, key=key)


def public_keys(trust: Trust) -> dict[str, Ed25519PublicKey]:
    """The trust file's public keys by key id."""
    return {k.key_id: load_public_key_b64(k.public_key) for k in trust.keys}


@dataclass(frozen=True)
class TrustedKeys:
    """What authenticating a partner's event needs: the trust file, its keys, the config."""

    config: Config
    trust: Trust
    public_keys: dict[str, Ed25519PublicKey]

    @classmethod
    def load(cls, lc: LoadedConfig) -> TrustedKeys:
        trust = lc.load_trust()
        return cls(config=lc.config, trust=trust, public_keys=public_keys(trust))

    def joint_committees(self, owner: TopicOwner) -> set[str]:
        return self.config.joint_committees_of(owner.party)
