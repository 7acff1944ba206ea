"""Helpers shared by the core unit tests: a demo world, signed envelopes, the pipeline.

Imported as ``tests.unit.core.a6kit`` by the core tests. The
ledger book (``Book`` and its helpers) lives in ``a6book`` and is re-exported here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gateway.config import LoadedConfig, load_config
from gateway.core.canonical import canonical_bytes
from gateway.core.ingest import LOG_APPEND_TIME, RawInput, authenticate
from gateway.core.model import Event
from gateway.core.signing import load_private_key_pem, load_public_key_b64, sign_envelope
from gateway.core.state import LedgerState
from gateway.core.steps import Handoff, Signer, ingest_step, ledger_step, parse_forwarded
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC, input_topic
from gateway.core.trust import TopicOwner, Trust
from gateway.demo.world import REGISTRIES, SIGNERS, World, write_world
from tests import records_check
from tests.unit.core.a6book import (
    DIRECTORY,
    TIME,
    Book,
    accounts_of,
    codes,
    make_event,
    merge,
    only,
    ranges_of,
    rng,
)

__all__ = [
    "DIRECTORY",
    "TIME",
    "TS",
    "Book",
    "Kit",
    "Pipe",
    "codes",
    "envelope",
    "fresh_key",
    "make_event",
    "merge",
    "only",
    "ranges_of",
    "rng",
    "signed",
]

TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z (TIME), the day the demo keys become valid


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


class Pipe:
    """Stage A, the ledger hop and stage B in memory; records what each publish emitted.

    ``max_age_s`` and ``skew_s`` turn on stage A's freshness check (MSG-005) as the worker
    does with ``limits.max_proposal_age_s`` and ``limits.max_clock_skew_s``.
    """

    def __init__(self, kit: Kit, *, max_age_s: int | None = None, skew_s: int = 300) -> None:
        self.kit = kit
        self.seen: dict[str, Any] = {}
        self.state = LedgerState()
        self.offsets: dict[str, int] = {}
        self.audit: dict[str, bytes] = {}
        self.handoff = Handoff()
        self.max_age_s = max_age_s
        self.skew_s = skew_s

    def publish(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        *,
        offset: int | None = None,
        ts: int | None = None,
        ts_type: int = LOG_APPEND_TIME,
        now: int | None = None,
        headers: tuple[tuple[str, bytes], ...] = (),
    ) -> list[tuple[str, str, bytes]]:
        """Publish at ``offset`` (next by default), stamped ``ts`` (``TS + offset``) of
        ``ts_type`` (the broker's append time by default); stage A reads it at ``now``
        (by default ``ts``)."""
        off = self.offsets.get(topic, 0) if offset is None else offset
        self.offsets[topic] = max(self.offsets.get(topic, 0), off + 1)
        stamp = TS + off if ts is None else ts
        raw = RawInput(topic, 0, off, key, value, stamp, ts_type, headers)
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
            max_age_s=self.max_age_s,
            skew_s=self.skew_s,
            now_ms=now,
        )
        if res.seen_put:
            self.seen[res.seen_put[0]] = res.seen_put[1]
        if res.forwarded is not None:
            self.handoff.put(res.forwarded)
        sent: list[tuple[str, str, bytes]] = []
        for o in res.outputs:
            self._route(o.topic, o.key, o.value, sent)
        return sent

    def open_accounts(self) -> None:
        """Open, through the pipeline, the accounts a :class:`Book` opens in each registry."""
        for registry in REGISTRIES:
            for account, kind in accounts_of(registry):
                data = {
                    "registry_id": registry,
                    "account_id": account,
                    "account_type": kind,
                    "holder": "someone",
                }
                eid = f"acc-{registry}-{account}"
                value = self.kit.event_bytes(registry, "account.opened", data, event_id=eid)
                self.publish(input_topic(registry), eid.encode(), value)
                assert self.state.get("accounts", f"{registry}|{account}") is not None

    def _route(
        self, topic: str, key: str, value: bytes, sent: list[tuple[str, str, bytes]]
    ) -> None:
        if topic != LEDGER_TOPIC:
            records_check.check(topic, value)  # dead letters and notices fit their schemas
            sent.append((topic, key, value))
            if topic == AUDIT_TOPIC:
                self.audit.setdefault(key, value)
            return
        off = self.offsets.get(topic, 0)
        self.offsets[topic] = off + 1
        kept = self.handoff.take(value)
        record = json.loads(value)
        res = ledger_step(record, self.state, DIRECTORY, self.kit.signer, version=off)
        if kept is not None:
            # what ingest kept of the record reads and decides as its bytes do (the worker's
            # shortcut when one process runs both steps: gateway.core.forwarded.Handoff)
            assert kept.record == record and kept.event.data_json == record["data"]
            assert kept.event == parse_forwarded(record)
            signer = self.kit.signer
            again = ledger_step(
                kept.record, self.state, DIRECTORY, signer, version=off, event=kept.event
            )
            assert again == res
        if res.decision_put:
            self.state.apply([res.decision_put], res.version)
        self.state.apply(res.effects, res.version)
        for o in res.outputs:
            self._route(o.topic, o.key, o.value, sent)


def fresh_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()
