"""Helpers shared by the core unit tests: a demo world, signed envelopes, a ledger book.

Imported by the test modules of this folder (pytest puts the folder on ``sys.path``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.config import LoadedConfig, TopicOwner, Trust, load_config
from gateway.core.canonical import canonical_bytes
from gateway.core.ingest import RawInput, authenticate
from gateway.core.ledger import evaluate
from gateway.core.model import Directory, Evaluation, Event
from gateway.core.signing import load_private_key_pem, load_public_key_b64, sign_envelope
from gateway.core.state import LedgerState
from gateway.core.steps import AUDIT_TOPIC, LEDGER_TOPIC, Signer, ingest_step, ledger_step
from gateway.demo.world import CAS, REGISTRIES, SIGNERS, World, write_world
from schemas.events import EVENT_TYPES

TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z, the day the demo keys become valid
TIME = "2026-01-01T00:00:00.000Z"
DIRECTORY = Directory(
    registry_party=dict(REGISTRIES),
    ca_parties={ca: parties for ca, (_title, parties, _jc) in CAS.items()},
)


def envelope(
    principal: str,
    name: str,
    data: dict[str, Any],
    *,
    event_id: str = "ev-1",
    source: str | None = None,
    key_id: str | None = None,
    time: str = TIME,
) -> dict[str, Any]:
    """An unsigned envelope as ``principal`` would build it."""
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source or principal,
        "type": f"a6gw.{name}.v1",
        "time": time,
        "datacontenttype": "application/json",
        "a6keyid": key_id or SIGNERS[principal][0],
        "data": data,
    }


@dataclass
class Kit:
    """The demo world loaded once: keys, config, trust, directory, the gateway signer."""

    world: World
    lc: LoadedConfig
    trust: Trust
    public_keys: dict[str, Ed25519PublicKey]
    signer: Signer

    @classmethod
    def make(cls, root: Path) -> Kit:
        world = write_world(root, bootstrap="127.0.0.1:1")
        lc = load_config(world.config_path)
        trust = lc.load_trust()
        gw = lc.config.gateway
        key = load_private_key_pem(lc.path(gw.signing_key_file).read_bytes())
        return cls(
            world=world,
            lc=lc,
            trust=trust,
            public_keys={k.key_id: load_public_key_b64(k.public_key) for k in trust.keys},
            signer=Signer(source=gw.id, key_id=gw.signing_key_id, key=key),
        )

    @property
    def max_bytes(self) -> int:
        return self.lc.config.limits.max_message_bytes

    def owner(self, topic: str) -> TopicOwner:
        return self.lc.config.input_topics()[topic]

    def sign(self, env: dict[str, Any], principal: str | None = None) -> bytes:
        return signed(env, self.world.keys[principal or env["source"]])

    def event_bytes(self, principal: str, name: str, data: dict[str, Any], **kw: Any) -> bytes:
        return self.sign(envelope(principal, name, data, **kw), principal)

    def authenticate(
        self,
        topic: str,
        value: bytes,
        *,
        trust: Trust | None = None,
        keys: dict[str, Ed25519PublicKey] | None = None,
        ts: int = TS,
    ) -> Event:
        owner = self.owner(topic)
        raw = RawInput(topic, 0, 0, b"ev-1", value, ts)
        return authenticate(
            raw,
            owner,
            trust or self.trust,
            self.public_keys if keys is None else keys,
            self.lc.config.joint_committees_of(owner.party),
            max_bytes=self.max_bytes,
        )


def signed(env: dict[str, Any], key: Ed25519PrivateKey) -> bytes:
    """Wire bytes of ``env`` signed with ``key``."""
    return canonical_bytes(sign_envelope(env, key))


def make_event(principal: str, name: str, data: dict[str, Any], *, event_id: str = "ev") -> Event:
    """An authenticated event built directly (the ledger never looks at the signature)."""
    et = EVENT_TYPES[f"a6gw.{name}.v1"]
    return Event(
        source=principal,
        id=event_id,
        type=et.type,
        name=et.name,
        kind=et.kind,
        time=TIME,
        payload=et.model.model_validate_json(json.dumps(data)),
        sha256="0" * 64,
        signer_principal=principal,
        signer_role=SIGNERS[principal][1],
    )


def rng(start: int, end: int) -> dict[str, str]:
    return {"serial_start": str(start), "serial_end": str(end)}


@dataclass
class Book:
    """A ledger driven by plain payloads: evaluate, then apply the effects at a new version."""

    state: LedgerState = field(default_factory=LedgerState)
    version: int = 0

    def do(self, principal: str, name: str, data: dict[str, Any]) -> Evaluation:
        out = evaluate(make_event(principal, name, data), self.state, DIRECTORY)
        self.state.apply(out.effects, self.version)
        self.version += 1
        return out

    # ---- payload builders with the demo's defaults -------------------------------------
    def decide(
        self, decision_id: str = "D1", ca: str = "CA0001", quantity: int = 0, **alloc: int
    ) -> Evaluation:
        alloc = alloc or {"MNG01": 1_000_000, "JPN01": 1_000_000}
        jc = CAS[ca][2]
        return self.do(
            jc,
            "jcm.issuance.decided",
            {
                "decision_id": decision_id,
                "ca_id": ca,
                "project_id": "MN003",
                "monitoring_period": {"start": "2025-01-01", "end": "2025-06-30"},
                "vintage": 2025,
                "quantity": str(quantity or sum(alloc.values())),
                "allocation": [{"registry_id": r, "quantity": str(q)} for r, q in alloc.items()],
            },
        )

    def issue(
        self,
        registry: str,
        blocks: list[tuple[int, int, str]],
        *,
        ca: str = "CA0001",
        decision_id: str = "D1",
        signer: str | None = None,
        vintage: int = 2025,
    ) -> Evaluation:
        return self.do(
            signer or registry,
            "issuance",
            {
                "transaction_id": f"ISS-{self.version}",
                "ca_id": ca,
                "registry_id": registry,
                "decision_id": decision_id,
                "vintage": vintage,
                "unit_type": "JCM",
                "blocks": [rng(s, e) | {"account_id": a} for s, e, a in blocks],
            },
        )

    def authorize(
        self,
        party: str,
        coverage: list[tuple[str, int, int]],
        *,
        auth_id: str = "AUTH-1",
        version: int = 1,
        status: str = "granted",
        ca: str = "CA0001",
        definition: str = "First international transfer",
        signer: str | None = None,
    ) -> Evaluation:
        return self.do(
            signer or party,
            "authorization",
            {
                "authorization_id": auth_id,
                "version": version,
                "status": status,
                "ca_id": ca,
                "authorizing_party": party,
                "date": "2025-09-01",
                "purposes": "NDC",
                "first_transfer_definition": definition,
                "coverage": [rng(s, e) | {"originating_registry": o} for o, s, e in coverage],
            },
        )

    def transfer(
        self,
        src: tuple[str, str],
        dst: tuple[str, str],
        ranges: list[tuple[int, int]],
        *,
        tx: str = "TX-1",
        origin: str = "MNG01",
        ca: str = "CA0001",
        signer: str | None = None,
    ) -> Evaluation:
        return self.do(
            signer or src[0],
            "transfer",
            {
                "transaction_id": tx,
                "ca_id": ca,
                "originating_registry": origin,
                "transferring": {"registry_id": src[0], "account_id": src[1]},
                "acquiring": {"registry_id": dst[0], "account_id": dst[1]},
                "blocks": [rng(s, e) for s, e in ranges],
            },
        )

    def answer(
        self,
        signer: str,
        tx: str = "TX-1",
        answer: str = "accepted",
        ca: str = "CA0001",
        origin: str = "MNG01",
    ) -> Evaluation:
        data: dict[str, Any] = {
            "transaction_id": tx,
            "ca_id": ca,
            "originating_registry": origin,
            "answer": answer,
        }
        if answer == "rejected":
            data["reason_code"] = 5902
        return self.do(signer, "transfer.answer", data)

    def terminal(
        self,
        kind: str,
        registry: str,
        account: str,
        ranges: list[tuple[int, int]],
        *,
        origin: str = "MNG01",
        ca: str = "CA0001",
        signer: str | None = None,
    ) -> Evaluation:
        data: dict[str, Any] = {
            "transaction_id": f"T-{self.version}",
            "ca_id": ca,
            "originating_registry": origin,
            "registry_id": registry,
            "account_id": account,
            "blocks": [rng(s, e) for s, e in ranges],
        }
        if kind == "retirement":
            data |= {"retirement_account_id": "RET", "using_party": "JPN", "ndc_year": 2025}
        else:
            data |= {"cancellation_account_id": "CAN", "subtype": "Other cancellations"}
        return self.do(signer or registry, kind, data)

    def holdings(self) -> dict[tuple[str, str, str], list[tuple[int, int]]]:
        """``(registry, account, state) -> sorted ranges`` over every block."""
        out: dict[tuple[str, str, str], list[tuple[int, int]]] = {}
        for b in self.state.blocks():
            out.setdefault((b.registry, b.account, b.state), []).append((b.start, b.end))
        return {k: sorted(v) for k, v in out.items()}


def codes(evaluation: Evaluation) -> list[str]:
    return sorted(f.code for f in evaluation.findings)


def ranges_of(evaluation: Evaluation, code: str) -> list[tuple[int, int]]:
    (finding,) = [f for f in evaluation.findings if f.code == code]
    return sorted((r.start, r.end) for r in finding.ranges)


class Pipe:
    """Stage A, the ledger hop and stage B in memory; records what each publish emitted."""

    def __init__(self, kit: Kit) -> None:
        self.kit = kit
        self.seen: dict[str, Any] = {}
        self.state = LedgerState()
        self.offsets: dict[str, int] = {}
        self.audit: dict[str, bytes] = {}

    def publish(
        self, topic: str, key: bytes | None, value: bytes, *, offset: int | None = None
    ) -> list[tuple[str, str, bytes]]:
        off = self.offsets.get(topic, 0) if offset is None else offset
        self.offsets[topic] = max(self.offsets.get(topic, 0), off + 1)
        raw = RawInput(topic, 0, off, key, value, TS + off)
        k = self.kit
        owner = k.owner(topic)
        res = ingest_step(
            raw,
            owner,
            k.trust,
            k.public_keys,
            k.lc.config.joint_committees_of(owner.party),
            self.seen,
            k.signer,
            max_bytes=k.max_bytes,
        )
        if res.seen_put:
            self.seen[res.seen_put[0]] = res.seen_put[1]
        sent: list[tuple[str, str, bytes]] = []
        for o in res.outputs:
            self._route(o.topic, o.key, o.value, sent)
        return sent

    def _route(
        self, topic: str, key: str, value: bytes, sent: list[tuple[str, str, bytes]]
    ) -> None:
        if topic != LEDGER_TOPIC:
            sent.append((topic, key, value))
            if topic == AUDIT_TOPIC:
                self.audit.setdefault(key, value)
            return
        off = self.offsets.get(topic, 0)
        self.offsets[topic] = off + 1
        res = ledger_step(json.loads(value), self.state, DIRECTORY, self.kit.signer, version=off)
        if res.decision_put:
            self.state.apply([res.decision_put], res.version)
        self.state.apply(res.effects, res.version)
        for o in res.outputs:
            self._route(o.topic, o.key, o.value, sent)


def fresh_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
