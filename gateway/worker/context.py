"""Everything the agents need, loaded once from the config: trust, keys, directory, signer."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.config import Config, LoadedConfig
from gateway.core.model import Directory
from gateway.core.signing import load_private_key_pem, load_public_key_b64
from gateway.core.steps import Signer
from gateway.core.trust import TopicOwner, Trust
from gateway.errors import ConfigError


@dataclass(frozen=True)
class WorkerContext:
    config: Config
    trust: Trust
    public_keys: dict[str, Ed25519PublicKey]
    directory: Directory
    signer: Signer

    @classmethod
    def load(cls, lc: LoadedConfig) -> WorkerContext:
        cfg = lc.config
        trust = lc.load_trust()
        key_path = lc.path(cfg.gateway.signing_key_file)
        try:
            key = load_private_key_pem(key_path.read_bytes())
        except OSError as exc:
            raise ConfigError(
                f"cannot read the gateway signing key {key_path}: {exc.strerror}", code="A6-CFG-002"
            ) from exc
        return cls(
            config=cfg,
            trust=trust,
            public_keys={k.key_id: load_public_key_b64(k.public_key) for k in trust.keys},
            directory=directory_of(cfg),
            signer=Signer(source=cfg.gateway.id, key_id=cfg.gateway.signing_key_id, key=key),
        )

    def joint_committees(self, owner: TopicOwner) -> set[str]:
        return self.config.joint_committees_of(owner.party)


def directory_of(cfg: Config) -> Directory:
    return Directory(
        registry_party={r.id: r.party for r in cfg.registries},
        ca_parties={ca.id: tuple(ca.parties) for ca in cfg.cooperative_approaches},
        ca_unit_types={ca.id: tuple(ca.unit_types) for ca in cfg.cooperative_approaches},
        ndc_period={p.code: p.ndc_period for p in cfg.parties if p.ndc_period},
        transfer_answer_s=cfg.timeouts.transfer_answer_s,
    )
