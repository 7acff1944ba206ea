"""Benchmark of the pure check path on one core: no Kafka, no faust, no disk.

Builds a demo world (keys, config, trust) in a temporary folder, generates a realistic
pre-signed workload, and measures each stage best-of-R with ``time.process_time`` (the CPU
time this process used, so other processes on a shared machine inflate the figures less;
``--clock wall`` uses ``time.perf_counter``):

- baseline: ``json.loads`` + ``Envelope.model_validate`` of every message (the irreducible
  parse every stage pays at least once);
- ed25519: signature verification alone, on pre-computed signing inputs;
- ingest: ``ingest_step`` (authentication incl. signature, dedup, forward record);
- ledger: ``json.loads`` of the forwarded record + ``ledger_step`` + applying its effects
  to a ``LedgerState``;
- pipeline: ingest then ledger, in memory, end to end (the ledger takes each forwarded
  record as ingest kept it, as a worker does when it runs both for the record:
  ``gateway.core.forwarded.Handoff``; the outputs are checked equal to the two stages run
  apart, the ledger reading the bytes back);
- scaling: the ledger over a slice of the forwarded records, on states built directly (not
  through steps) with 10^3, 10^5 and 10^6 blocks in one serial space, with 0, 10^4 and
  10^5 open (proposed, unanswered) transfers in the busiest cooperative approach, and with
  0, 10^3 and 10^4 authorizations its host Party granted there (over serials the workload
  never reaches: what covers a block is looked up, not walked through); it prints
  the cost per input of each and the flatness ratio of each series (largest ÷ smallest; the
  checks answer in O(log n), so 1.00 is flat), and what ``LedgerState.overdue`` (the
  timeouts timer's question) costs with the most open transfers.

The workload: Joint Committee decisions with a large allocation, accounts opened, then a
steady mix of small issuances into several accounts, authorizations (one per tranche of
serials), intra-registry transfers, cross-registry transfers and their answers, and
retirements; about 10% invalid inputs (double issuance, overdrawn transfer, bad signature,
malformed JSON). Signing is done up front and is not measured.

A warm-up run of the whole pipeline checks every event's decision against what the
generator expected (outcome, codes, actions) and every timed run must reproduce its outputs
byte for byte; any difference ends the run with a non-zero exit status.

    python -m tests.bench.bench_checks [--events N] [--repeat R] [--json FILE] [--profile]
        [--scale-blocks 1000,100000,1000000] [--scale-transfers 0,10000,100000]
        [--scale-authorizations 0,1000,10000]
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import gc
import hashlib
import io
import json
import os
import platform
import pstats
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from gateway.config import load_config
from gateway.core import ed25519
from gateway.core.blocks import Block, block_key
from gateway.core.ingest import RawInput
from gateway.core.signing import signing_input
from gateway.core.state import VERSION, LedgerState
from gateway.core.steps import Output, ingest_step, ledger_step
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC, input_topic
from gateway.demo.world import World, signed_event, write_world
from gateway.worker.context import WorkerContext
from schemas.envelope import SIGNATURE_ATTRIBUTE, Envelope

DEFAULT_EVENTS = 3_000
DEFAULT_REPEAT = 3
DEFAULT_SCALE_EVENTS = 1_000
DEFAULT_SCALE_REPEAT = 5
SCALE_BLOCKS = (1_000, 100_000, 1_000_000)
SCALE_TRANSFERS = (0, 10_000, 100_000)
SCALE_AUTHORIZATIONS = (0, 1_000, 10_000)
FLAT = 1.2  # the "flat (±20%)"
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
CLOCK = [CLOCKS["cpu"]]  # what the timed runs read (set from --clock)
T0_MS = 1_772_323_200_000  # 2026-03-01T00:00:00Z, inside the demo keys' validity
VINTAGE = 2025
TRANCHE = 20_000  # serials covered by one authorization
# Pre-populated blocks live far above the workload's serials, in its busiest serial space.
SCALE_SPACE = ("CA0001", "MNG01")
SCALE_BASE = 10**15

# ---- the demo world's accounts --------------------------------------------------------------

PARTY = {"JPN01": "JPN", "MNG01": "MNG", "IDN01": "IDN"}
HOLDING = {
    "MNG01": ("MN-PP-1", "MN-PP-2", "MN-PP-3", "MN-GOV-1"),
    "JPN01": ("JP-PP-1", "JP-PP-2", "JP-GOV-1", "JP-GOV-2"),
    "IDN01": ("ID-PP-1", "ID-PP-2", "ID-GOV-1"),
}
RETIREMENT = {"MNG01": "MN-RET-1", "JPN01": "JP-RET-1", "IDN01": "ID-RET-1"}
# (cooperative approach, originating registry): the serial spaces the workload issues in
SPACES = (("CA0001", "MNG01"), ("CA0001", "JPN01"), ("CA0002", "IDN01"), ("CA0002", "JPN01"))
DECISIONS = {
    "CA0001": ("MN003-2025-1", "MN003", "JC-JPN-MNG", {"MNG01": 6 * 10**11, "JPN01": 4 * 10**11}),
    "CA0002": ("ID028-2025-1", "ID028", "JC-JPN-IDN", {"IDN01": 6 * 10**11, "JPN01": 4 * 10**11}),
}
# host registry -> cooperative approach whose units it transfers to Japan
CROSS = {"MNG01": "CA0001", "IDN01": "CA0002"}


def progress(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def iso(ms: int) -> str:
    t = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


# ---- workload ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """What the generator expects the gateway to decide for one input.

    Valid inputs must match exactly (outcome, no codes) and carry ``action``; invalid ones
    must have the outcome and at least the ``codes`` (a new check may add its own code).
    """

    outcome: str
    codes: frozenset[str] = frozenset()
    action: str | None = None
    valid: bool = True


@dataclass(frozen=True)
class Item:
    label: str
    raw: RawInput
    expect: Expect


@dataclass
class Lot:
    """A range of units as the generator tracks it (the gateway may split it further)."""

    ca: str
    origin: str
    start: int
    end: int
    returned: bool = False  # came back from a rejected cross-registry transfer

    @property
    def qty(self) -> int:
        return self.end - self.start + 1


@dataclass
class Pending:
    tx_id: str
    ca: str
    origin: str
    src: tuple[str, str]
    dst: tuple[str, str]
    lots: list[Lot]


@dataclass
class Generator:
    world: World
    rng: random.Random
    items: list[Item] = field(default_factory=list)
    holdings: dict[tuple[str, str, str, str], list[Lot]] = field(default_factory=dict)
    next_serial: dict[tuple[str, str], int] = field(default_factory=dict)
    authorized_to: dict[tuple[str, str], int] = field(default_factory=dict)
    pending: list[Pending] = field(default_factory=list)
    offsets: Counter[str] = field(default_factory=Counter)
    seq: int = 0
    rogue: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    # -- emitting --------------------------------------------------------------------------
    def _raw(self, topic: str, key: bytes, value: bytes) -> RawInput:
        off = self.offsets[topic]
        self.offsets[topic] += 1
        # one input every 2 ms, event time = record time (no clock skew, nothing stale)
        return RawInput(topic, 0, off, key, value, T0_MS + 2 * len(self.items))

    def _sign(
        self, signer: str, name: str, data: dict[str, Any], *, rogue: bool = False
    ) -> tuple[str, bytes]:
        self.seq += 1
        event_id = f"{signer}-{self.seq:08d}"
        key = self.rogue if rogue else self.world.keys[signer]
        value = signed_event(
            key,
            key_id=self.world.key_id(signer),
            source=signer,
            name=name,
            event_id=event_id,
            data=data,
            time=iso(T0_MS + 2 * len(self.items)),
        )
        return event_id, value

    def emit(
        self,
        label: str,
        topic_registry: str,
        signer: str,
        name: str,
        data: dict[str, Any],
        expect: Expect,
    ) -> None:
        event_id, value = self._sign(signer, name, data)
        raw = self._raw(input_topic(topic_registry), event_id.encode(), value)
        self.items.append(Item(label, raw, expect))

    # -- holdings --------------------------------------------------------------------------
    def _add(self, registry: str, account: str, lot: Lot) -> None:
        self.holdings.setdefault((registry, account, lot.ca, lot.origin), []).append(lot)

    def _take(self, key: tuple[str, str, str, str], k: int, *, cross: bool = False) -> list[Lot]:
        """Remove up to ``k`` lots from a holding, sometimes splitting one (a partial move)."""
        lots = self.holdings[key]
        out: list[Lot] = []
        for _ in range(k):
            candidates = [i for i, lot in enumerate(lots) if not (cross and lot.returned)]
            if not candidates:
                break
            i = self.rng.choice(candidates)
            lot = lots[i]
            if lot.qty >= 4 and self.rng.random() < 0.4:
                cut = lot.start + lot.qty // 2 - 1
                out.append(replace(lot, end=cut))
                lots[i] = replace(lot, start=cut + 1)
            else:
                out.append(lots.pop(i))
        return out

    def _holding(
        self, registries: Iterable[str], *, cross: bool = False, origin_is: str | None = None
    ) -> tuple[str, str, str, str] | None:
        regs = set(registries)
        keys = [
            k
            for k, lots in self.holdings.items()
            if k[0] in regs
            and (origin_is is None or k[3] == origin_is)
            and any(not (cross and lot.returned) for lot in lots)
        ]
        return self.rng.choice(keys) if keys else None

    # -- valid events ----------------------------------------------------------------------
    def setup(self) -> None:
        for registry, accounts in HOLDING.items():
            for account in accounts:
                kind = "government-holding" if "-GOV-" in account else "participant-holding"
                self.emit(
                    "account.opened",
                    registry,
                    registry,
                    "account.opened",
                    {
                        "registry_id": registry,
                        "account_id": account,
                        "account_type": kind,
                        "holder": f"holder of {account}",
                    },
                    Expect("recorded"),
                )
            self.emit(
                "account.opened",
                registry,
                registry,
                "account.opened",
                {
                    "registry_id": registry,
                    "account_id": RETIREMENT[registry],
                    "account_type": "retirement",
                    "holder": f"Government of {PARTY[registry]}",
                },
                Expect("recorded"),
            )
        for ca, (decision_id, project, jc, alloc) in DECISIONS.items():
            host = next(r for r in alloc if r != "JPN01")
            self.emit(
                "jcm.issuance.decided",
                host,
                jc,
                "jcm.issuance.decided",
                {
                    "decision_id": decision_id,
                    "ca_id": ca,
                    "project_id": project,
                    "monitoring_period": {"start": "2025-01-01", "end": "2025-12-31"},
                    "vintage": VINTAGE,
                    "quantity": str(sum(alloc.values())),
                    "allocation": [
                        {"registry_id": r, "quantity": str(q)} for r, q in alloc.items()
                    ],
                },
                Expect("recorded"),
            )
        for space in SPACES:
            self.next_serial[space] = 1
            self.authorized_to[space] = 0

    def _authorize_up_to(self, space: tuple[str, str], last: int) -> None:
        """The host Party authorizes the next tranches before their units are issued."""
        ca, origin = space
        if origin not in CROSS:  # Japan's own units never leave Japan here
            return
        while self.authorized_to[space] < last:
            lo = self.authorized_to[space] + 1
            hi = lo + TRANCHE - 1
            n = hi // TRANCHE
            self.emit(
                "authorization",
                origin,
                PARTY[origin],
                "authorization",
                # room for units that come back from a rejected transfer
                granted((ca, origin), f"{origin}-AUTH-{n}", lo, hi, 2 * TRANCHE),
                Expect("recorded", action="Authorization"),
            )
            self.authorized_to[space] = hi

    def issuance(self) -> None:
        space = self.rng.choice(SPACES)
        ca, origin = space
        start = self.next_serial[space]
        blocks = []
        lots = []
        for _ in range(self.rng.randint(1, 3)):
            size = self.rng.randint(10, 100)
            account = self.rng.choice(HOLDING[origin])
            blocks.append(
                {
                    "serial_start": str(start),
                    "serial_end": str(start + size - 1),
                    "account_id": account,
                }
            )
            lots.append((account, Lot(ca, origin, start, start + size - 1)))
            start += size
        self._authorize_up_to(space, start - 1)
        self.next_serial[space] = start
        self.emit(
            "issuance",
            origin,
            origin,
            "issuance",
            {
                "transaction_id": f"{origin}-ISS-{self.seq + 1}",
                "ca_id": ca,
                "registry_id": origin,
                "decision_id": DECISIONS[ca][0],
                "vintage": VINTAGE,
                "unit_type": "JCM",
                "blocks": blocks,
            },
            Expect("accepted", action="Issuance"),
        )
        for account, lot in lots:
            self._add(origin, account, lot)

    def intra_transfer(self) -> bool:
        key = self._holding(HOLDING)
        if key is None:
            return False
        registry, src, ca, origin = key
        dst = self.rng.choice([a for a in HOLDING[registry] if a != src])
        lots = self._take(key, self.rng.randint(1, 3))
        self.emit(
            "transfer.intra",
            registry,
            registry,
            "transfer",
            {
                "transaction_id": f"{registry}-TX-{self.seq + 1}",
                "ca_id": ca,
                "originating_registry": origin,
                "transferring": {"registry_id": registry, "account_id": src},
                "acquiring": {"registry_id": registry, "account_id": dst},
                "blocks": [
                    {"serial_start": str(lot.start), "serial_end": str(lot.end)} for lot in lots
                ],
            },
            Expect("accepted", action="Transfer"),
        )
        for lot in lots:
            self._add(registry, dst, lot)
        return True

    def cross_transfer(self) -> bool:
        host = self.rng.choice(list(CROSS))
        key = self._holding([host], cross=True, origin_is=host)
        if key is None:
            return False
        registry, src, ca, origin = key
        dst = self.rng.choice(HOLDING["JPN01"])
        lots = self._take(key, self.rng.randint(1, 2), cross=True)
        tx_id = f"{registry}-XTX-{self.seq + 1}"
        self.emit(
            "transfer.cross",
            registry,
            registry,
            "transfer",
            {
                "transaction_id": tx_id,
                "ca_id": ca,
                "originating_registry": origin,
                "transferring": {"registry_id": registry, "account_id": src},
                "acquiring": {"registry_id": "JPN01", "account_id": dst},
                "blocks": [
                    {"serial_start": str(lot.start), "serial_end": str(lot.end)} for lot in lots
                ],
            },
            Expect("accepted", action="First transfer"),
        )
        self.pending.append(Pending(tx_id, ca, origin, (registry, src), ("JPN01", dst), lots))
        return True

    def answer(self) -> bool:
        if not self.pending:
            return False
        tx = self.pending.pop(self.rng.randrange(len(self.pending)))
        accepted = self.rng.random() < 0.9
        data: dict[str, Any] = {
            "transaction_id": tx.tx_id,
            "ca_id": tx.ca,
            "originating_registry": tx.origin,
            "answer": "accepted" if accepted else "rejected",
        }
        if not accepted:
            data["reason_code"] = 5906
        self.emit(
            "transfer.answer",
            "JPN01",
            "JPN01",
            "transfer.answer",
            data,
            Expect("recorded", action="Acquisition" if accepted else None),
        )
        for lot in tx.lots:
            if accepted:
                self._add(*tx.dst, lot)
            else:
                self._add(*tx.src, replace(lot, returned=True))
        return True

    def retirement(self) -> bool:
        key = self._holding(HOLDING)
        if key is None:
            return False
        registry, account, ca, origin = key
        lots = self._take(key, self.rng.randint(1, 2))
        self.emit(
            "retirement",
            registry,
            registry,
            "retirement",
            {
                "transaction_id": f"{registry}-RET-{self.seq + 1}",
                "ca_id": ca,
                "originating_registry": origin,
                "registry_id": registry,
                "account_id": account,
                "retirement_account_id": RETIREMENT[registry],
                "using_party": PARTY[registry],
                "ndc_year": 2026,
                "blocks": [
                    {"serial_start": str(lot.start), "serial_end": str(lot.end)} for lot in lots
                ],
            },
            Expect("accepted", action="Use"),
        )
        return True

    # -- invalid events --------------------------------------------------------------------
    def double_issuance(self) -> bool:
        space = self.rng.choice(SPACES)
        ca, origin = space
        top = self.next_serial[space] - 1
        if top < 1:
            return False
        lo = self.rng.randint(1, top)
        hi = min(top, lo + self.rng.randint(0, 50))
        self.emit(
            "bad:double-issuance",
            origin,
            origin,
            "issuance",
            {
                "transaction_id": f"{origin}-ISS-{self.seq + 1}",
                "ca_id": ca,
                "registry_id": origin,
                "decision_id": DECISIONS[ca][0],
                "vintage": VINTAGE,
                "unit_type": "JCM",
                "blocks": [
                    {
                        "serial_start": str(lo),
                        "serial_end": str(hi),
                        "account_id": self.rng.choice(HOLDING[origin]),
                    }
                ],
            },
            Expect("rejected", frozenset({"BLK-004"}), valid=False),
        )
        return True

    def overdrawn(self) -> bool:
        """A transfer of units the transferring account does not hold (BLK-003)."""
        key = self._holding(HOLDING)
        if key is None:
            return False
        registry, holder, ca, origin = key
        src = self.rng.choice([a for a in HOLDING[registry] if a != holder])
        dst = self.rng.choice([a for a in HOLDING[registry] if a != src])
        if self.rng.random() < 0.5:
            lot = self.rng.choice(self.holdings[key])  # held by another account
            lo, hi = lot.start, lot.end
        else:  # never issued yet
            lo = self.next_serial[(ca, origin)] + 1_000_000
            hi = lo + self.rng.randint(10, 100)
        self.emit(
            "bad:overdrawn",
            registry,
            registry,
            "transfer",
            {
                "transaction_id": f"{registry}-TX-{self.seq + 1}",
                "ca_id": ca,
                "originating_registry": origin,
                "transferring": {"registry_id": registry, "account_id": src},
                "acquiring": {"registry_id": registry, "account_id": dst},
                "blocks": [{"serial_start": str(lo), "serial_end": str(hi)}],
            },
            Expect("rejected", frozenset({"BLK-003"}), valid=False),
        )
        return True

    def _any_issuance_data(self) -> tuple[str, dict[str, Any]]:
        ca, origin = self.rng.choice(SPACES)
        lo = self.next_serial[(ca, origin)]
        return origin, {
            "transaction_id": f"{origin}-ISS-{self.seq + 1}",
            "ca_id": ca,
            "registry_id": origin,
            "decision_id": DECISIONS[ca][0],
            "vintage": VINTAGE,
            "unit_type": "JCM",
            "blocks": [
                {
                    "serial_start": str(lo),
                    "serial_end": str(lo + 49),
                    "account_id": HOLDING[origin][0],
                }
            ],
        }

    def bad_signature(self) -> bool:
        registry, data = self._any_issuance_data()
        event_id, value = self._sign(registry, "issuance", data, rogue=True)
        raw = self._raw(input_topic(registry), event_id.encode(), value)
        self.items.append(
            Item("bad:signature", raw, Expect("dead-lettered", frozenset({"MSG-003"}), valid=False))
        )
        return True

    def malformed_json(self) -> bool:
        registry, data = self._any_issuance_data()
        event_id, value = self._sign(registry, "issuance", data)
        cut = self.rng.randint(len(value) // 4, len(value) - 2)
        raw = self._raw(input_topic(registry), event_id.encode(), value[:cut])
        self.items.append(
            Item("bad:json", raw, Expect("dead-lettered", frozenset({"MSG-001"}), valid=False))
        )
        return True

    # -- the mix ---------------------------------------------------------------------------
    def generate(self, n: int) -> list[Item]:
        self.setup()
        for _ in range(30):  # something to move from the start
            self.issuance()
        valid: list[tuple[float, Callable[[], Any]]] = [
            (0.30, self.issuance),
            (0.22, self.intra_transfer),
            (0.14, self.cross_transfer),
            (0.14, self.answer),
            (0.10, self.retirement),
        ]
        invalid: list[Callable[[], bool]] = [
            self.double_issuance,
            self.overdrawn,
            self.bad_signature,
            self.malformed_json,
        ]
        weights = [w for w, _ in valid]
        while len(self.items) < n:
            if self.rng.random() < 0.10:
                self.rng.choice(invalid)()
                continue
            op = self.rng.choices([f for _, f in valid], weights)[0]
            if op() is False:
                self.issuance()
        # answer what is still pending, so every transfer completes
        while self.pending:
            self.answer()
        return self.items


# ---- stages ----------------------------------------------------------------------------------


@dataclass
class Ctx:
    wc: WorkerContext
    owners: dict[str, Any]
    jcs: dict[str, set[str]]
    max_bytes: int


@dataclass
class RunOut:
    outputs: list[Output]
    marks: list[int]  # len(outputs) after each input
    per_item: list[float] = field(default_factory=list)

    def digest(self) -> str:
        h = hashlib.sha256()
        for o in sorted(self.outputs, key=lambda o: (o.topic, o.key, o.value)):
            h.update(f"{o.topic}\n{o.key}\n{len(o.value)}\n".encode())
            h.update(o.value)
        return h.hexdigest()


def apply_ledger(res: Any, state: LedgerState) -> None:
    if res.decision_put is not None:
        state.apply([res.decision_put], res.version)
    state.apply(res.effects, res.version)


def run_ingest(raws: Sequence[RawInput], c: Ctx) -> tuple[float, RunOut]:
    seen: dict[str, Any] = {}
    out: list[Output] = []
    marks: list[int] = []
    trust, pks, signer, owners, jcs = c.wc.trust, c.wc.public_keys, c.wc.signer, c.owners, c.jcs
    t0 = CLOCK[0]()
    for raw in raws:
        res = ingest_step(
            raw, owners[raw.topic], trust, pks, jcs[raw.topic], seen, signer, max_bytes=c.max_bytes
        )
        if res.seen_put is not None:
            seen[res.seen_put[0]] = res.seen_put[1]
        out.extend(res.outputs)
        marks.append(len(out))
    return CLOCK[0]() - t0, RunOut(out, marks)


def run_ledger(records: Sequence[bytes], c: Ctx, state: LedgerState) -> tuple[float, RunOut]:
    out: list[Output] = []
    marks: list[int] = []
    per: list[float] = []
    directory, signer = c.wc.directory, c.wc.signer
    clock = CLOCK[0]
    t0 = prev = clock()
    for version, value in enumerate(records):
        res = ledger_step(json.loads(value), state, directory, signer, version=version)
        apply_ledger(res, state)
        out.extend(res.outputs)
        marks.append(len(out))
        now = clock()
        per.append(now - prev)
        prev = now
    return prev - t0, RunOut(out, marks, per)


def run_pipeline(raws: Sequence[RawInput], c: Ctx) -> tuple[float, RunOut]:
    seen: dict[str, Any] = {}
    state = LedgerState()
    out: list[Output] = []
    marks: list[int] = []
    per: list[float] = []
    trust, pks, signer, owners, jcs = c.wc.trust, c.wc.public_keys, c.wc.signer, c.owners, c.jcs
    directory = c.wc.directory
    version = 0
    clock = CLOCK[0]
    t0 = prev = clock()
    for raw in raws:
        res = ingest_step(
            raw, owners[raw.topic], trust, pks, jcs[raw.topic], seen, signer, max_bytes=c.max_bytes
        )
        if res.seen_put is not None:
            seen[res.seen_put[0]] = res.seen_put[1]
        fwd = res.forwarded
        for o in res.outputs:
            out.append(o)
            if o.topic == LEDGER_TOPIC:
                # in one process the ledger takes what ingest forwarded as ingest kept it (the
                # worker's Handoff); the ledger stage above reads the bytes back
                if fwd is not None and fwd.value is o.value:
                    record, event = fwd.record, fwd.event
                else:
                    record, event = json.loads(o.value), None
                lr = ledger_step(record, state, directory, signer, version=version, event=event)
                version += 1
                apply_ledger(lr, state)
                out.extend(lr.outputs)
        marks.append(len(out))
        now = clock()
        per.append(now - prev)
        prev = now
    return prev - t0, RunOut(out, marks, per)


def run_baseline(values: Sequence[bytes]) -> tuple[float, int]:
    bad = 0
    validate = Envelope.model_validate
    t0 = CLOCK[0]()
    for v in values:
        try:
            validate(json.loads(v))
        except (ValueError, ValidationError):  # JSONDecodeError is a ValueError
            bad += 1
    return CLOCK[0]() - t0, bad


def run_ed25519(jobs: Sequence[tuple[Any, bytes, bytes]]) -> tuple[float, int]:
    bad = 0
    t0 = CLOCK[0]()
    for key, sig, msg in jobs:
        if not ed25519.verify(key, sig, msg):  # what ingest_step uses
            bad += 1
    return CLOCK[0]() - t0, bad


def verify_jobs(raws: Sequence[RawInput], c: Ctx) -> list[tuple[Any, bytes, bytes]]:
    """(public key, signature, signed bytes) of every message that parses (not timed)."""
    jobs = []
    for raw in raws:
        try:
            obj = json.loads(raw.value)
        except ValueError:
            continue
        key = c.wc.public_keys.get(obj.get("a6keyid", ""))
        if key is None or not isinstance(obj.get(SIGNATURE_ATTRIBUTE), str):
            continue
        jobs.append((key, base64.b64decode(obj[SIGNATURE_ATTRIBUTE]), signing_input(obj)))
    return jobs


def prepopulated(n: int) -> dict[str, dict[str, Any]]:
    """``n`` held blocks of 10 units in one serial space, as blocks-table records."""
    ca, origin = SCALE_SPACE
    template = Block(
        ca_id=ca,
        origin=origin,
        start=SCALE_BASE,
        end=SCALE_BASE + 9,
        vintage=VINTAGE,
        unit_type="JCM",
        registry=origin,
        account="MN-PP-3",
    )
    template_rec = template.to_record() | {VERSION: 0}
    table = {}
    for i in range(n):
        start = SCALE_BASE + 10 * i
        table[block_key(ca, origin, start)] = template_rec | {
            "start": str(start),
            "end": str(start + 9),
        }
    return table


def open_transfers(n: int) -> dict[str, dict[str, Any]]:
    """``n`` proposed, unanswered transfers in the busy approach, as transfers-table records.

    Each would first transfer 10 units under an authorization of its own (none the workload
    uses, so no decision changes); their deadlines lie far ahead. Only the records are built:
    they are what a check or the timer would have scanned.
    """
    ca, origin = SCALE_SPACE
    table = {}
    for i in range(n):
        tx_id = f"SCALE-TX-{i:07d}"
        lo, hi = str(2 * SCALE_BASE + 10 * i), str(2 * SCALE_BASE + 10 * i + 9)
        table[f"{ca}|{tx_id}"] = {
            "transaction_id": tx_id,
            "status": "proposed",
            "ca_id": ca,
            "origin": origin,
            "transferring": {"registry_id": origin, "account_id": "MN-PP-3"},
            "acquiring": {"registry_id": "JPN01", "account_id": "JP-PP-1"},
            "ranges": [{"serial_start": lo, "serial_end": hi}],
            "first_transfer": [
                {"serial_start": lo, "serial_end": hi, "authorization_id": f"SCALE-AUTH-{i}"}
            ],
            "proposed_by": f"scale-{i}",
            "deadline": iso(T0_MS + 10**12 + i),
            VERSION: 0,
        }
    return table


def granted_authorizations(n: int) -> dict[str, dict[str, Any]]:
    """``n`` granted authorizations of the busy serial space's host Party, as
    authorizations-table records, each covering 10 serials the workload never reaches (so no
    decision changes): what a check that walked through them would have scanned."""
    ca, origin = SCALE_SPACE
    table = {}
    for i in range(n):
        auth_id = f"SCALE-AUTH-GRANTED-{i:07d}"
        lo = 3 * SCALE_BASE + 10 * i
        record = granted(SCALE_SPACE, auth_id, lo, lo + 9, 10)
        table[f"{ca}|{auth_id}"] = record | {"first_transferred_qty": "0", VERSION: 0}
    return table


def granted(space: tuple[str, str], auth_id: str, lo: int, hi: int, qty: int) -> dict[str, Any]:
    """An authorization's data: the host Party of ``space`` grants ``qty`` units of its
    serials ``lo`` to ``hi`` for NDC use, first transferred when they leave the country."""
    ca, origin = space
    return {
        "authorization_id": auth_id,
        "version": 1,
        "status": "granted",
        "ca_id": ca,
        "authorizing_party": PARTY[origin],
        "date": "2026-01-15",
        "purposes": "NDC",
        "first_transfer_definition": "First international transfer",
        "authorized_quantity": str(qty),
        "coverage": [
            {"originating_registry": origin, "serial_start": str(lo), "serial_end": str(hi)}
        ],
    }


@dataclass(frozen=True)
class Size:
    """A pre-built state for the scaling slice."""

    blocks: int
    transfers: int
    authorizations: int = 0

    @property
    def stage(self) -> str:
        if self.authorizations:
            return f"ledger @ {short(self.blocks)} blk, {short(self.authorizations)} auth"
        return f"ledger @ {short(self.blocks)} blk, {short(self.transfers)} open tx"


def short(n: int) -> str:
    for unit, div in (("M", 10**6), ("k", 10**3)):
        if n >= div and n % div == 0:
            return f"{n // div}{unit}"
    return str(n)


def scale_sizes(
    blocks: Sequence[int], transfers: Sequence[int], authorizations: Sequence[int] = ()
) -> list[Size]:
    """The blocks series (no open transfers), then the open-transfers series and the
    authorizations series (fewest blocks)."""
    least = min(blocks)
    out = [Size(b, 0) for b in sorted(set(blocks))]
    out += [Size(least, t) for t in sorted(set(transfers)) if t]
    return out + [Size(least, 0, a) for a in sorted(set(authorizations)) if a]


# ---- verification ----------------------------------------------------------------------------


class Mismatch(Exception):
    pass


def check_outcomes(items: Sequence[Item], run: RunOut) -> Counter[tuple[str, str, str]]:
    """Compare each input's audit entry with the generator's expectation; count by code."""
    counts: Counter[tuple[str, str, str]] = Counter()
    problems: list[str] = []
    prev = 0
    for item, mark in zip(items, run.marks, strict=True):
        audit = [o for o in run.outputs[prev:mark] if o.topic == AUDIT_TOPIC]
        prev = mark
        name = f"{item.label} {(item.raw.key or b'').decode(errors='replace')}"
        if len(audit) != 1:
            problems.append(f"{name}: {len(audit)} audit entries")
            continue
        entry = json.loads(audit[0].value)
        codes = frozenset(r["code"] for r in entry["results"])
        actions = entry.get("actions", [])
        exp = item.expect
        ok = entry["outcome"] == exp.outcome and (
            codes == exp.codes if exp.valid else exp.codes <= codes
        )
        if exp.action is not None and exp.action not in actions:
            ok = False
        if not ok:
            problems.append(
                f"{name}: got {entry['outcome']}"
                f" {sorted(codes)} {actions}, expected {exp.outcome} {sorted(exp.codes)}"
                f" {exp.action or ''}; results: {entry['results']}"
            )
        counts[(item.label, entry["outcome"], ",".join(sorted(codes)) or "-")] += 1
    if problems:
        shown = "\n  ".join(problems[:15])
        raise Mismatch(f"{len(problems)} of {len(items)} decisions differ:\n  {shown}")
    return counts


# ---- measuring -------------------------------------------------------------------------------


@dataclass
class Figure:
    stage: str
    events: int
    times: list[float]
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def us(self) -> float:
        return self.best / self.events * 1e6

    @property
    def rate(self) -> float:
        return self.events / self.best


def best_of(
    repeat: int,
    name: str,
    fn: Callable[[], tuple[float, Any]],
    check: Callable[[Any], None] | None = None,
) -> list[float]:
    times = []
    for i in range(repeat):
        gc.collect()
        secs, result = fn()
        if check is not None:
            check(result)
        times.append(secs)
        progress(f"{name}: run {i + 1}/{repeat} {secs:.2f} s")
    return times


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import cryptography
    import nacl
    import pydantic
    from cryptography.hazmat.backends.openssl.backend import backend

    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "cryptography": cryptography.__version__,
        "openssl": backend.openssl_version_text(),
        "pynacl": nacl.__version__,
        "pydantic": pydantic.VERSION,
    }


def by_label(labels: Sequence[str], per_item: Sequence[float]) -> dict[str, tuple[int, float]]:
    out: dict[str, tuple[int, float]] = {}
    for label, secs in zip(labels, per_item, strict=True):
        k, t = out.get(label, (0, 0.0))
        out[label] = (k + 1, t + secs)
    return out


@dataclass
class Results:
    figs: list[Figure]
    scale: list[Figure]
    sizes: list[Size]
    overdue_us: dict[int, float]
    blocks_seen: dict[str, tuple[int, int]]
    counts: Counter[tuple[str, str, str]]
    pipe_by_label: dict[str, tuple[int, float]]
    scale_by_label: dict[str, dict[str, tuple[int, float]]]

    @property
    def base(self) -> Figure:
        return self.figs[0]

    def fig(self, stage: str) -> Figure:
        return next(f for f in self.figs if f.stage == stage)


def measure(
    items: Sequence[Item],
    c: Ctx,
    repeat: int,
    scale_events: int,
    sizes: Sequence[Size],
    scale_repeat: int,
) -> Results:
    """Run every stage best-of-``repeat``; raise :class:`Mismatch` on any wrong decision."""
    raws = [it.raw for it in items]
    n = len(raws)
    progress(f"warm-up pipeline run over {n} inputs, checking every decision")
    _, ref = run_pipeline(raws, c)
    counts = check_outcomes(items, ref)
    # the forwarded records, and which input kind each came from
    forwarded: list[bytes] = []
    fwd_labels: list[str] = []
    prev = 0
    for it, mark in zip(items, ref.marks, strict=True):
        for o in ref.outputs[prev:mark]:
            if o.topic == LEDGER_TOPIC:
                forwarded.append(o.value)
                fwd_labels.append(it.label)
        prev = mark

    figs: list[Figure] = []
    values = [r.value for r in raws]
    figs.append(Figure(STAGES[0], n, best_of(repeat, "baseline", lambda: run_baseline(values))))
    jobs = verify_jobs(raws, c)
    figs.append(Figure(STAGES[1], len(jobs), best_of(repeat, "ed25519", lambda: run_ed25519(jobs))))

    firsts: dict[str, RunOut] = {}

    def consistent(what: str) -> Callable[[RunOut], None]:
        def check(run: RunOut) -> None:
            first = firsts.setdefault(what, run)
            if run is not first and run.digest() != first.digest():
                raise Mismatch(f"{what}: a timed run's outputs differ from its first run's")

        return check

    figs.append(
        Figure(
            STAGES[2],
            n,
            best_of(repeat, "ingest", lambda: run_ingest(raws, c), consistent("ingest")),
        )
    )
    figs.append(
        Figure(
            STAGES[3],
            len(forwarded),
            best_of(
                repeat,
                "ledger",
                lambda: run_ledger(forwarded, c, LedgerState()),
                consistent("ledger"),
            ),
        )
    )
    both = firsts["ingest"].outputs + firsts["ledger"].outputs
    if RunOut(both, []).digest() != ref.digest():
        raise Mismatch("ingest and ledger run apart differ from the checked pipeline run")
    pipe_runs: list[RunOut] = []

    def pipe_check(run: RunOut) -> None:
        if run.digest() != ref.digest():
            raise Mismatch("pipeline: a timed run's outputs differ from the checked run")
        pipe_runs.append(run)

    pipe_times = best_of(repeat, "pipeline", lambda: run_pipeline(raws, c), pipe_check)
    figs.append(Figure(STAGES[4], n, pipe_times))
    best_pipe = pipe_runs[pipe_times.index(min(pipe_times))]
    pipe_by_label = by_label([it.label for it in items], best_pipe.per_item)

    sl = forwarded[:scale_events]
    led = firsts["ledger"]
    slice_ref = RunOut(led.outputs[: led.marks[len(sl) - 1]], []).digest()
    scale, overdue_us, blocks_seen, scale_by_label = measure_scaling(
        sl, fwd_labels[: len(sl)], slice_ref, c, scale_repeat, sizes
    )
    return Results(
        figs, scale, list(sizes), overdue_us, blocks_seen, counts, pipe_by_label, scale_by_label
    )


def measure_scaling(
    sl: Sequence[bytes],
    labels: Sequence[str],
    slice_ref: str,
    c: Ctx,
    repeat: int,
    sizes: Sequence[Size],
) -> tuple[
    list[Figure],
    dict[int, float],
    dict[str, tuple[int, int]],
    dict[str, dict[str, tuple[int, float]]],
]:
    """The same slice of forwarded records over each pre-built state, best of ``repeat``.

    Each state is built once, directly from table records (not through steps; not timed),
    and each run gets a copy of it. The sizes take turns within each round, each round
    starting one further along, so a change in the machine's load hits them alike.
    """
    overdue_us: dict[int, float] = {}
    blocks_seen: dict[str, tuple[int, int]] = {}
    built: dict[Size, LedgerState] = {}
    for size in sizes:
        t0 = time.perf_counter()
        built[size] = LedgerState(
            {
                "blocks": prepopulated(size.blocks),
                "transfers": open_transfers(size.transfers),
                "authorizations": granted_authorizations(size.authorizations),
            }
        )
        progress(f"{size.stage}: state built in {time.perf_counter() - t0:.1f} s (not measured)")
        if size.transfers not in overdue_us:
            n = 1_000
            t1 = time.perf_counter()
            for _ in range(n):
                built[size].overdue(T0_MS)
            overdue_us[size.transfers] = (time.perf_counter() - t1) / n * 1e6
    times: dict[Size, list[float]] = {size: [] for size in sizes}
    best: dict[Size, RunOut] = {}
    for i in range(repeat):
        for size in [*sizes[i % len(sizes) :], *sizes[: i % len(sizes)]]:
            state = built[size].copy()
            before = len(state.tables["blocks"])
            gc.collect()
            secs, run = run_ledger(sl, c, state)
            if run.digest() != slice_ref:
                raise Mismatch(f"{size.stage}: outputs differ from the empty-state run")
            if not times[size] or secs < min(times[size]):
                best[size] = run
            times[size].append(secs)
            blocks_seen[size.stage] = (before, len(state.tables["blocks"]))
            progress(f"{size.stage}: run {i + 1}/{repeat} {secs:.2f} s")
            del state
    figs = [Figure(size.stage, len(sl), times[size]) for size in sizes]
    scale_by_label = {size.stage: by_label(labels, best[size].per_item) for size in sizes}
    return figs, overdue_us, blocks_seen, scale_by_label


STAGES = (
    "baseline: json.loads + Envelope",
    "ed25519 verify alone",
    "ingest_step",
    "ledger_step + apply",
    "pipeline: ingest → ledger",
)


def series(r: Results) -> dict[str, list[tuple[Size, Figure]]]:
    """The blocks, open-transfers and authorizations series of the scaling runs, smallest
    first (each series but the first starts from the fewest blocks and nothing else)."""
    least = min(z.blocks for z in r.sizes)
    pairs = list(zip(r.sizes, r.scale, strict=True))
    return {
        "blocks": [(z, f) for z, f in pairs if z.transfers == z.authorizations == 0],
        "open transfers": [(z, f) for z, f in pairs if z.blocks == least and z.authorizations == 0],
        "authorizations": [(z, f) for z, f in pairs if z.blocks == least and z.transfers == 0],
    }


def flatness(figs: Sequence[Figure]) -> dict[str, float]:
    """Largest-state ÷ smallest-state cost per input, and the widest spread (max ÷ min)."""
    us = [f.us for f in figs]
    return {"largest_vs_smallest": us[-1] / us[0], "max_vs_min": max(us) / min(us)}


def scale_growth(
    small: dict[str, tuple[int, float]], large: dict[str, tuple[int, float]]
) -> dict[str, Any]:
    """Large-vs-small time ratios of the scaling slice: valid inputs, invalid ones, each kind."""

    def total(per: dict[str, tuple[int, float]], valid: bool) -> float:
        return sum(t for k, (_, t) in per.items() if k.startswith("bad:") != valid)

    def ratio(a: float, b: float) -> float:
        return a / b if b else float("nan")

    return {
        "valid": ratio(total(large, True), total(small, True)),
        "invalid": ratio(total(large, False), total(small, False)),
        "kinds": {k: ratio(large[k][1], small[k][1]) for k in small if k in large},
    }


def print_scaling(r: Results) -> None:
    w = sys.stdout.write
    small = r.scale[0]
    w(
        f"\nScaling: the ledger over the first {small.events} forwarded records, on states built"
        f" directly (blocks in {'/'.join(SCALE_SPACE)}, open transfers and authorizations in"
        f" {SCALE_SPACE[0]}),"
        f" best of {len(small.times)} rounds:\n"
    )
    for f in r.scale:
        b0, b1 = r.blocks_seen[f.stage]
        w(
            f"  {f.stage:<36}{f.rate:>8,.0f} events/s {f.us:>8.1f} µs/event"
            f"   (blocks {b0:,} → {b1:,})\n"
        )
    for name, runs in series(r).items():
        if len(runs) < 2:
            continue
        (z0, f0), (z1, f1) = runs[0], runs[-1]
        flat = flatness([f for _, f in runs])
        lo, hi = {
            "blocks": (z0.blocks, z1.blocks),
            "open transfers": (z0.transfers, z1.transfers),
            "authorizations": (z0.authorizations, z1.authorizations),
        }[name]
        verdict = "flat" if flat["max_vs_min"] <= FLAT else "NOT FLAT"
        w(
            f"  {name} {lo:,} → {hi:,}: {f0.us:.0f} → {f1.us:.0f} µs per input,"
            f" {flat['largest_vs_smallest']:.2f}× (max ÷ min {flat['max_vs_min']:.2f}×:"
            f" {verdict} within ±{FLAT - 1:.0%})\n"
        )
        growth = scale_growth(r.scale_by_label[f0.stage], r.scale_by_label[f1.stage])
        w(
            f"    valid inputs only: {growth['valid']:.2f}×;"
            f" invalid only: {growth['invalid']:.2f}×\n"
        )
        # a kind with a handful of inputs is too noisy to say
        seen = r.scale_by_label[f0.stage]
        grows = {k: g for k, g in growth["kinds"].items() if g > 2 and seen[k][0] >= 20}
        if grows:
            w(
                "    GROWS WITH THE STATE (O(n) path): "
                + ", ".join(
                    f"{k} {g:.1f}×" for k, g in sorted(grows.items(), key=lambda kv: -kv[1])
                )
                + "\n"
            )
    for n, us in sorted(r.overdue_us.items()):
        w(f"  LedgerState.overdue (the timer's question) with {n:,} open transfers: {us:.1f} µs\n")


def print_report(r: Results, info: dict[str, Any], repeat: int) -> None:
    w = sys.stdout.write
    base = r.base
    w(f"\nPure check path on one core (no Kafka), best of {repeat} run(s) per stage\n")
    w(
        f"{'stage':<34}{'events':>8}{'seconds':>10}{'events/s':>11}{'µs/event':>11}"
        f"{'× baseline':>12}\n"
    )
    w("-" * 86 + "\n")
    for f in [*r.figs, *r.scale]:
        w(
            f"{f.stage:<34}{f.events:>8}{f.best:>10.3f}{f.rate:>11,.0f}{f.us:>11.1f}"
            f"{f.us / base.us:>11.1f}×\n"
        )
    w("-" * 86 + "\n")
    ed, ing, led, pipe = (r.fig(s) for s in STAGES[1:])
    w(
        f"pipeline costs {pipe.us / base.us:.1f}× the baseline parse "
        f"({pipe.us:.0f} vs {base.us:.1f} µs/event)\n"
    )
    w(
        f"ed25519 verify is {ed.us / ing.us:.0%} of ingest_step and {ed.us / pipe.us:.0%} of the"
        " pipeline, per event\n"
    )
    w(f"ledger µs per forwarded record: {led.us:.0f}; ingest µs per input: {ing.us:.0f}\n")
    print_scaling(r)
    w(
        "\nµs/event by input kind (pipeline: whole run, ingest included; ledger@: the scaling"
        " slice)\n"
    )
    heads = [f"{short(z.blocks)}/{short(z.transfers)}/{short(z.authorizations)}" for z in r.sizes]
    w("  (ledger@ columns: blocks / open transfers / authorizations)\n")
    w(f"  {'kind':<24}{'n':>6}{'pipeline':>10}" + "".join(f"{h:>12}" for h in heads) + "\n")
    for label, (n, secs) in sorted(r.pipe_by_label.items(), key=lambda kv: -kv[1][1] / kv[1][0]):
        w(f"  {label:<24}{n:>6}{secs / n * 1e6:>10.1f}")
        for per in r.scale_by_label.values():
            k, t = per.get(label, (0, 0.0))
            w(f"{t / k * 1e6:>12.1f}" if k else f"{'-':>12}")
        w("\n")
    w("\nDecisions, each checked against the generator's expectation:\n")
    for (label, outcome, codes), n in sorted(r.counts.items()):
        w(f"  {label:<24}{outcome:<15}{codes:<26}{n:>7}\n")
    w("\n" + "\n".join(f"{k:<14}{v}" for k, v in info.items()) + "\n")


def report_json(
    r: Results, info: dict[str, Any], args: argparse.Namespace, n: int
) -> dict[str, Any]:
    def fig(f: Figure) -> dict[str, Any]:
        return {
            "stage": f.stage,
            "events": f.events,
            "seconds": f.best,
            "runs": f.times,
            "events_per_s": f.rate,
            "us_per_event": f.us,
            "x_baseline": f.us / r.base.us,
        }

    def kinds(per: dict[str, tuple[int, float]]) -> dict[str, Any]:
        return {k: {"events": m, "us_per_event": s / m * 1e6} for k, (m, s) in per.items()}

    return {
        "events": n,
        "repeat": args.repeat,
        "seed": args.seed,
        "machine": info,
        "stages": [fig(f) for f in r.figs],
        "scaling": {
            "space": "/".join(SCALE_SPACE),
            "stages": [
                fig(f)
                | {
                    "blocks": r.blocks_seen[f.stage],
                    "prebuilt_blocks": z.blocks,
                    "open_transfers": z.transfers,
                    "authorizations": z.authorizations,
                }
                for z, f in zip(r.sizes, r.scale, strict=True)
            ],
            "flatness": {
                name: flatness([f for _, f in runs])
                | {
                    "detail": scale_growth(
                        r.scale_by_label[runs[0][1].stage], r.scale_by_label[runs[-1][1].stage]
                    )
                }
                for name, runs in series(r).items()
                if len(runs) > 1
            },
            "overdue_us_by_open_transfers": r.overdue_us,
            "us_by_kind": {s: kinds(per) for s, per in r.scale_by_label.items()},
        },
        "pipeline_us_by_kind": kinds(r.pipe_by_label),
        "decisions": [
            {"kind": k, "outcome": o, "codes": cds, "count": m}
            for (k, o, cds), m in sorted(r.counts.items())
        ],
    }


def sizes_arg(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(x.replace("_", "")) for x in text.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of counts: {text!r}") from None
    if not out or min(out) < 0:
        raise argparse.ArgumentTypeError(f"not a list of counts: {text!r}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tests.bench.bench_checks",
        description=(
            "Benchmark the pure check path on one core, no Kafka: the baseline parse"
            " (json.loads + Envelope), Ed25519 verification alone, ingest_step, ledger_step"
            " + state apply, the in-memory pipeline, and the ledger on states built with"
            " 10^3 to 10^6 blocks and 0 to 10^5 open transfers. The workload is generated"
            " and signed up front (not measured); every decision is checked against what"
            " the generator expected, and the run exits 1 if any differs."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument(
        "--events",
        "-n",
        type=int,
        default=DEFAULT_EVENTS,
        help="inputs in the workload (about 10%% invalid)",
    )
    ap.add_argument(
        "--repeat", "-r", type=int, default=DEFAULT_REPEAT, help="runs per stage; the best counts"
    )
    ap.add_argument(
        "--scale-events",
        type=int,
        default=DEFAULT_SCALE_EVENTS,
        help="forwarded records replayed on each pre-built state (the scaling section)",
    )
    ap.add_argument(
        "--scale-repeat",
        type=int,
        default=DEFAULT_SCALE_REPEAT,
        help="rounds of the scaling section (each state once per round); the best counts",
    )
    ap.add_argument(
        "--scale-blocks",
        type=sizes_arg,
        default=SCALE_BLOCKS,
        help="pre-built block counts of the scaling section (comma-separated)",
    )
    ap.add_argument(
        "--scale-transfers",
        type=sizes_arg,
        default=SCALE_TRANSFERS,
        help="open transfer counts of the scaling section, on the fewest blocks",
    )
    ap.add_argument(
        "--scale-authorizations",
        type=sizes_arg,
        default=SCALE_AUTHORIZATIONS,
        help="granted authorization counts of the scaling section, on the fewest blocks",
    )
    ap.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="cpu",
        help="cpu: this process's CPU time (steadier on a shared machine); wall: elapsed time",
    )
    ap.add_argument("--seed", type=int, default=2026, help="workload random seed")
    ap.add_argument("--json", metavar="FILE", type=Path, help="also write the figures as JSON")
    ap.add_argument(
        "--profile",
        action="store_true",
        help="also run the pipeline once under cProfile and print the top 25 functions",
    )
    args = ap.parse_args(argv)
    if args.events < 100 or min(args.repeat, args.scale_events, args.scale_repeat) < 1:
        ap.error(
            "--events must be at least 100, --repeat, --scale-repeat and --scale-events at least 1"
        )

    CLOCK[0] = CLOCKS[args.clock]
    started = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="a6gw-bench-") as tmp:
        world = write_world(Path(tmp), bootstrap="127.0.0.1:1")
        lc = load_config(world.config_path)
        wc = WorkerContext.load(lc)
        owners = lc.config.input_topics()
        c = Ctx(
            wc,
            owners,
            {t: wc.joint_committees(o) for t, o in owners.items()},
            lc.config.limits.max_message_bytes,
        )
        progress(f"generating and signing {args.events} inputs (not measured)")
        items = Generator(world, random.Random(args.seed)).generate(args.events)
        try:
            sizes = scale_sizes(args.scale_blocks, args.scale_transfers, args.scale_authorizations)
            results = measure(items, c, args.repeat, args.scale_events, sizes, args.scale_repeat)
        except Mismatch as exc:
            print(f"bench_checks: FAILED: {exc}", file=sys.stderr)
            return 1
        if args.profile:
            progress("profiling one pipeline run")
            prof = cProfile.Profile()
            prof.enable()
            run_pipeline([it.raw for it in items], c)
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(25)
            print(buf.getvalue())

    info = machine()
    info["clock"] = {"cpu": "time.process_time (CPU)", "wall": "time.perf_counter (wall)"}[
        args.clock
    ]
    info["load average"] = f"{load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after (1 min)"
    print_report(results, info, args.repeat)
    total = time.perf_counter() - started
    print(f"total run time {total:.1f} s")
    if args.json:
        doc = report_json(results, info, args, len(items)) | {"total_seconds": total}
        args.json.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        progress(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
