"""Everything the agents need, loaded once from the config: trust, keys, directory, signer."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.config import Config, LoadedConfig
from gateway.core.model import Directory
from gateway.core.steps import Signer
from gateway.core.trust import TopicOwner, Trust
from gateway.services.keys import gateway_signer, public_keys


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
        signer = gateway_signer(lc)
        return cls(
            config=cfg,
            trust=trust,
            public_keys=public_keys(trust),
            directory=directory_of(cfg),
            signer=signer,
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
