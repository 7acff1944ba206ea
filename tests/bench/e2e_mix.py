"""The end-to-end benchmark's workload: pre-signed valid inputs over several approaches.

Pure: builds signed records for a demo world, publishes nothing. Inputs on one input topic
are spread over its partitions by event id, so the gateway may read them in any order; the
burst is therefore cut into phases whose inputs do not depend on one another (setup →
issuances → transfers → answers and authorizations → retirements), and the rate phase's
stream is made of inputs that are valid in any order (fresh issuances, transfers and
retirements of disjoint parts of blocks a small preparation placed, authorizations of
serials not issued yet).

Every approach is JCM, hosted by Mongolia's or Indonesia's registry, with Japan's registry
on the acquiring side. The approaches' ids are chosen so that they fall on different
partitions of the ledger topic (it is keyed by approach): one approach is one partition.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from aiokafka.partitioner import murmur2

from gateway.core.topics import input_topic
from gateway.demo.world import World, signed_event

PARTNER = "JPN01"  # the acquiring registry of every cross-registry transfer
HOSTS = ("MNG01", "IDN01")
HOST_PARTY = {"MNG01": "MNG", "IDN01": "IDN"}
JOINT_COMMITTEE = {"MNG01": "JC-JPN-MNG", "IDN01": "JC-JPN-IDN"}
HOLDER = {"MNG01": "MN-PP-1", "IDN01": "ID-PP-1"}  # where issuances go
GOVERNMENT = {"MNG01": "MN-GOV-1", "IDN01": "ID-GOV-1", PARTNER: "JP-GOV-1"}
RETIREMENT = "JP-RET-1"  # Japan's retirement account
ACCOUNTS = (
    ("MNG01", "MN-PP-1", "participant-holding"),
    ("MNG01", "MN-GOV-1", "government-holding"),
    ("IDN01", "ID-PP-1", "participant-holding"),
    ("IDN01", "ID-GOV-1", "government-holding"),
    (PARTNER, "JP-GOV-1", "government-holding"),
    (PARTNER, "JP-RET-1", "retirement"),
)
LOT = 100  # units in one issued block of the burst
AUTH_SPAN = 10**9  # serials 1..AUTH_SPAN of each approach are authorized at setup
TRANCHE = 10**6  # serials of one later authorization (above AUTH_SPAN: never issued here)
RATE_BASE = 5 * 10**8  # the rate phases issue and move serials from here on
AUTH_EVERY = 50  # one tranche authorization per this many lots
PROPOSALS = frozenset({"issuance", "transfer", "retirement"})


@dataclass(frozen=True)
class Input:
    """One pre-signed input and what the gateway must decide for it."""

    topic: str
    key: bytes
    value: bytes
    source: str
    kind: str  # issuance, intra, cross, answer, retirement, authorization, setup
    ca: str

    @property
    def event_id(self) -> str:
        return self.key.decode()

    @property
    def expect(self) -> str:
        name = {"intra": "transfer", "cross": "transfer"}.get(self.kind, self.kind)
        return "accepted" if name in PROPOSALS else "recorded"


def partition_of(key: str, partitions: int) -> int:
    """The partition the producers' default partitioner gives ``key``."""
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def approach_ids(count: int, partitions: int) -> list[str]:
    """``count`` approach ids (CA0001, ...) spread as evenly as possible over the ledger
    topic's ``partitions`` (the first ids that keep every partition's share balanced)."""
    per = math.ceil(count / partitions)
    used: Counter[int] = Counter()
    out: list[str] = []
    for n in range(1, 10_000):
        ca = f"CA{n:04d}"
        p = partition_of(ca, partitions)
        if used[p] < per:
            used[p] += 1
            out.append(ca)
            if len(out) == count:
                return out
    raise ValueError(f"no {count} approach ids spread over {partitions} partitions")


def host_of(cas: list[str], ca: str) -> str:
    return HOSTS[cas.index(ca) % len(HOSTS)]


def approaches_config(cas: list[str]) -> list[dict[str, Any]]:
    """The ``cooperative_approaches`` of the benchmark's world config."""
    return [
        {
            "id": ca,
            "title": f"JCM benchmark approach {ca}",
            "parties": ["JPN", HOST_PARTY[host_of(cas, ca)]],
            "joint_committee": JOINT_COMMITTEE[host_of(cas, ca)],
        }
        for ca in cas
    ]


@dataclass
class Signer:
    """Signs inputs of one world; each event id is new (``tag`` keeps sets apart)."""

    world: World
    cas: list[str]
    tag: str

    def ev(
        self, signer: str, name: str, eid: str, data: dict[str, Any], kind: str, ca: str, topic: str
    ) -> Input:
        eid = f"{self.tag}{eid}"
        value = signed_event(
            self.world.keys[signer],
            key_id=self.world.key_id(signer),
            source=signer,
            name=name,
            event_id=eid,
            data=data,
        )
        return Input(input_topic(topic), eid.encode(), value, signer, kind, ca)

    def span(self, start: int, qty: int) -> dict[str, str]:
        return {"serial_start": str(start), "serial_end": str(start + qty - 1)}

    def issuance(self, ca: str, n: str, start: int, qty: int) -> Input:
        host = host_of(self.cas, ca)
        data = {
            "transaction_id": f"ISS-{ca}-{n}",
            "ca_id": ca,
            "registry_id": host,
            "decision_id": f"{ca}-D1",
            "vintage": 2025,
            "unit_type": "JCM",
            "blocks": [self.span(start, qty) | {"account_id": HOLDER[host]}],
        }
        return self.ev(host, "issuance", f"iss-{ca}-{n}", data, "issuance", ca, host)

    def transfer(self, ca: str, n: str, start: int, qty: int, *, cross: bool) -> Input:
        host = host_of(self.cas, ca)
        to = (PARTNER, GOVERNMENT[PARTNER]) if cross else (host, GOVERNMENT[host])
        data = {
            "transaction_id": f"TX-{ca}-{n}",
            "ca_id": ca,
            "originating_registry": host,
            "transferring": {"registry_id": host, "account_id": HOLDER[host]},
            "acquiring": {"registry_id": to[0], "account_id": to[1]},
            "blocks": [self.span(start, qty)],
        }
        kind = "cross" if cross else "intra"
        return self.ev(host, "transfer", f"tx-{ca}-{n}", data, kind, ca, host)

    def answer(self, ca: str, n: str) -> Input:
        data = {
            "transaction_id": f"TX-{ca}-{n}",
            "ca_id": ca,
            "originating_registry": host_of(self.cas, ca),
            "answer": "accepted",
        }
        return self.ev(PARTNER, "transfer.answer", f"ans-{ca}-{n}", data, "answer", ca, PARTNER)

    def retirement(self, ca: str, n: str, start: int, qty: int) -> Input:
        data = {
            "transaction_id": f"RET-{ca}-{n}",
            "ca_id": ca,
            "originating_registry": host_of(self.cas, ca),
            "registry_id": PARTNER,
            "account_id": GOVERNMENT[PARTNER],
            "retirement_account_id": RETIREMENT,
            "using_party": "JPN",
            "ndc_year": 2026,
            "blocks": [self.span(start, qty)],
        }
        return self.ev(PARTNER, "retirement", f"ret-{ca}-{n}", data, "retirement", ca, PARTNER)

    def authorization(self, ca: str, n: str, start: int, qty: int, kind: str) -> Input:
        host = host_of(self.cas, ca)
        party = HOST_PARTY[host]
        data = {
            "authorization_id": f"AUTH-{ca}-{n}",
            "version": 1,
            "status": "granted",
            "ca_id": ca,
            "authorizing_party": party,
            "date": "2025-09-01",
            "purposes": "NDC",
            "first_transfer_definition": "First international transfer",
            "coverage": [self.span(start, qty) | {"originating_registry": host}],
        }
        return self.ev(party, "authorization", f"auth-{ca}-{n}", data, kind, ca, host)

    def setup(self) -> list[Input]:
        """Accounts, one Joint Committee decision and one authorization per approach."""
        out = []
        for registry, account, kind in ACCOUNTS:
            opened = {
                "registry_id": registry,
                "account_id": account,
                "account_type": kind,
                "holder": "holder",
            }
            out.append(
                self.ev(registry, "account.opened", f"acc-{account}", opened, "setup", "", registry)
            )
        for ca in self.cas:
            host = host_of(self.cas, ca)
            data: dict[str, Any] = {
                "decision_id": f"{ca}-D1",
                "ca_id": ca,
                "project_id": "MN003" if host == "MNG01" else "ID028",
                "monitoring_period": {"start": "2025-01-01", "end": "2025-12-31"},
                "vintage": 2025,
                "quantity": str(10**12),
                "allocation": [
                    {"registry_id": host, "quantity": str(6 * 10**11)},
                    {"registry_id": PARTNER, "quantity": str(4 * 10**11)},
                ],
            }
            jc = JOINT_COMMITTEE[host]
            out.append(self.ev(jc, "jcm.issuance.decided", f"jc-{ca}", data, "setup", ca, host))
            out.append(self.authorization(ca, "base", 1, AUTH_SPAN, "setup"))
        return out


def per_lot(lots: int) -> int:
    """Timed inputs of one approach's burst with ``lots`` issued lots (see :func:`burst`)."""
    moved = sum(1 for i in range(lots) if i % 5 != 4)
    cross = sum(1 for i in range(lots) if i % 5 in (2, 3))
    retired = sum(1 for i in range(lots) if i % 5 == 2)
    return lots + moved + cross + retired + -(-lots // AUTH_EVERY)


def lots_for(inputs: int, approaches: int) -> int:
    """The fewest lots per approach for at least ``inputs`` timed inputs in all."""
    lots = max(1, int(inputs / approaches / 2.42))
    while per_lot(lots) * approaches < inputs:
        lots += 1
    return lots


def burst(signer: Signer, inputs: int) -> list[list[Input]]:
    """The warm-up (setup) phase, then the timed phases of at least ``inputs`` inputs.

    Per approach and per issued lot of :data:`LOT` units: every lot is issued; 40% then move
    within the host registry, 40% move to Japan's registry (and are accepted there), half of
    those are retired there; 20% stay. One authorization of a future tranche of serials per
    :data:`AUTH_EVERY` lots comes with the answers.
    """
    cas = signer.cas
    lots = lots_for(inputs, len(cas))
    issue, move, answer, retire = [], [], [], []
    for i in range(lots):
        for ca in cas:
            start = i * LOT + 1
            issue.append(signer.issuance(ca, str(i), start, LOT))
            if i % 5 in (0, 1, 2, 3):
                move.append(signer.transfer(ca, str(i), start, LOT, cross=i % 5 >= 2))
            if i % 5 in (2, 3):
                answer.append(signer.answer(ca, str(i)))
            if i % 5 == 2:
                retire.append(signer.retirement(ca, str(i), start, LOT))
            if i % AUTH_EVERY == 0:
                tranche = AUTH_SPAN + (i // AUTH_EVERY) * TRANCHE + 1
                answer.append(signer.authorization(ca, f"t{i}", tranche, TRANCHE, "authorization"))
    return [signer.setup(), issue, move, answer, retire]


# ---- the rate phases' stream -----------------------------------------------------------

#: The stream's kinds, in turn per approach: 40% issuances, 26% transfers within the host
#: registry, 20% to Japan's registry (left pending), 12% retirements, 2% authorizations.
PATTERN = ("issuance", "intra", "issuance", "cross", "retirement") * 2 + (
    "issuance",
    "intra",
    "issuance",
    "intra",
    "cross",
    "issuance",
    "intra",
    "retirement",
    "issuance",
    "cross",
) * 4
RATE_SLOTS = len(PATTERN)


def kinds(count: int, approaches: int) -> Iterator[tuple[int, int, str]]:
    """``(approach index, turn, kind)`` of each of ``count`` stream inputs."""
    for j in range(count):
        a, k = j % approaches, j // approaches
        kind = "authorization" if k % AUTH_EVERY == AUTH_EVERY - 1 else PATTERN[k % RATE_SLOTS]
        yield a, k, kind


def stream(signer: Signer, count: int, base: int) -> tuple[list[list[Input]], list[Input]]:
    """Preparation phases and ``count`` stream inputs valid in any order.

    The preparation issues, per approach, one block for the stream's transfers and one it
    moves to Japan's registry (accepted there) for its retirements; the stream issues fresh
    lots, moves and retires disjoint lots of those blocks, and authorizes future tranches.
    ``base`` keeps the serials of several streams of one world apart.
    """
    cas = signer.cas
    need: Counter[tuple[int, str]] = Counter((a, kind) for a, _, kind in kinds(count, len(cas)))
    span = (count // len(cas) + 1) * LOT  # room for every kind of one approach
    prep_issue, prep_move, prep_answer, out = [], [], [], []
    for a, ca in enumerate(cas):
        held = base + 1
        kept = base + span + 1
        if need[(a, "intra")] + need[(a, "cross")]:
            qty = (need[(a, "intra")] + need[(a, "cross")]) * LOT
            prep_issue.append(signer.issuance(ca, f"r{base}-held", held, qty))
        if need[(a, "retirement")]:
            qty = need[(a, "retirement")] * LOT
            prep_issue.append(signer.issuance(ca, f"r{base}-kept", kept, qty))
            prep_move.append(signer.transfer(ca, f"r{base}-kept", kept, qty, cross=True))
            prep_answer.append(signer.answer(ca, f"r{base}-kept"))
    used: Counter[tuple[int, str]] = Counter()
    for a, k, kind in kinds(count, len(cas)):
        ca, n = cas[a], f"r{base}-{k}"
        moved = used[(a, "intra")] + used[(a, "cross")]
        if kind == "issuance":
            start = base + 2 * span + used[(a, kind)] * LOT + 1
            out.append(signer.issuance(ca, n, start, LOT))
        elif kind in ("intra", "cross"):
            start = base + 1 + moved * LOT
            out.append(signer.transfer(ca, n, start, LOT, cross=kind == "cross"))
        elif kind == "retirement":
            out.append(signer.retirement(ca, n, base + span + 1 + used[(a, kind)] * LOT, LOT))
        else:
            start = AUTH_SPAN + base * 4 + (k + 1) * TRANCHE + 1
            out.append(signer.authorization(ca, n, start, TRANCHE, "authorization"))
        used[(a, kind)] += 1
    return [p for p in (prep_issue, prep_move, prep_answer) if p], out


def shares(inputs: list[Input]) -> tuple[dict[str, float], dict[str, float]]:
    """The share of each approach and of each kind in ``inputs``."""
    n = len(inputs) or 1
    by_ca = Counter(i.ca for i in inputs)
    by_kind = Counter(i.kind for i in inputs)
    return ({k: v / n for k, v in by_ca.items()}, {k: v / n for k, v in by_kind.items()})


# ---- the recovery state ----------------------------------------------------------------

RECOVERY_BASE = 9 * 10**8  # inside the setup's authorization, apart from other serials
PER_ISSUANCE = 1000  # blocks per issuance (the most one issuance may carry)


def recovery_load(signer: Signer, blocks: int) -> list[Input]:
    """Issuances of ``blocks`` one-unit blocks (apart, so none merge) in the first approach."""
    ca = signer.cas[0]
    host = host_of(signer.cas, ca)
    out = []
    for n in range(0, blocks, PER_ISSUANCE):
        serials = [RECOVERY_BASE + 2 * i + 1 for i in range(n, min(n + PER_ISSUANCE, blocks))]
        data = {
            "transaction_id": f"BIG-{ca}-{n}",
            "ca_id": ca,
            "registry_id": host,
            "decision_id": f"{ca}-D1",
            "vintage": 2025,
            "unit_type": "JCM",
            "blocks": [signer.span(s, 1) | {"account_id": HOLDER[host]} for s in serials],
        }
        out.append(signer.ev(host, "issuance", f"big-{ca}-{n}", data, "issuance", ca, host))
    return out


def recovery_probe(signer: Signer, n: int) -> Input:
    """A transfer of the ``n``-th block :func:`recovery_load` issued: decided only once the
    worker has that state back."""
    return signer.transfer(signer.cas[0], f"probe-{n}", RECOVERY_BASE + 2 * n + 1, 1, cross=False)
