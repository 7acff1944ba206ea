"""The whole decision path (stage A, the repartition hop, stage B) in memory, no broker.

The same scenario runs against the real broker in tests/integration and in `make demo`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.config import load_config
from gateway.core.ingest import RawInput
from gateway.core.state import LedgerState
from gateway.core.steps import ingest_step, ledger_step, timeout_record
from gateway.core.topics import AUDIT_TOPIC, DLQ_TOPIC, LEDGER_TOPIC
from gateway.demo.scenario import load_steps
from gateway.demo.world import write_world
from gateway.worker.context import WorkerContext
from tests import records_check


class MemoryPipeline:
    def __init__(self, root: Path) -> None:
        self.world = write_world(root, bootstrap="127.0.0.1:1")
        self.lc = load_config(self.world.config_path)
        self.ctx = WorkerContext.load(self.lc)
        self.owners = self.lc.config.input_topics()
        self.seen: dict[str, Any] = {}
        self.state = LedgerState()
        self.offsets: dict[str, int] = {}
        self.audit: dict[str, bytes] = {}
        self.sent: list[tuple[str, str, bytes]] = []
        # The scenario stamps its events "now": they arrive now too (not at import time,
        # which a long test session leaves minutes behind, past the allowed clock skew).
        self.ts = int(time.time() * 1000)

    def publish(self, topic: str, key: bytes | None, value: bytes) -> None:
        off = self.offsets.get(topic, 0)
        self.offsets[topic] = off + 1
        raw = RawInput(topic, 0, off, key, value, self.ts + off)
        res = ingest_step(
            raw,
            self.owners[topic],
            self.ctx.trust,
            self.ctx.public_keys,
            self.ctx.joint_committees(self.owners[topic]),
            self.seen,
            self.ctx.signer,
            max_bytes=self.lc.config.limits.max_message_bytes,
            max_age_s=self.lc.config.limits.max_proposal_age_s,
            skew_s=self.lc.config.limits.max_clock_skew_s,
        )
        if res.seen_put:
            self.seen[res.seen_put[0]] = res.seen_put[1]
        for o in res.outputs:
            self._route(o.topic, o.key, o.value)

    def fire_timers(self, now_ms: int) -> None:
        """What the worker's timer does: overdue transfers become timeout inputs."""
        for tx in self.state.overdue(now_ms):
            out = timeout_record(tx, self.ctx.signer, self.ctx.directory)
            self._route(out.topic, out.key, out.value)

    def _route(self, topic: str, key: str, value: bytes) -> None:
        records_check.check(topic, value)  # dead letters and notices fit their schemas
        self.sent.append((topic, key, value))
        if topic == AUDIT_TOPIC:
            self.audit.setdefault(key, value)
        elif topic == LEDGER_TOPIC:
            off = self.offsets.get(topic, 0)
            self.offsets[topic] = off + 1
            res = ledger_step(
                json.loads(value), self.state, self.ctx.directory, self.ctx.signer, version=off
            )
            if res.decision_put:
                self.state.apply([res.decision_put], res.version)
            self.state.apply(res.effects, res.version)
            for o in res.outputs:
                self._route(o.topic, o.key, o.value)


@pytest.fixture()
def pipe(tmp_path: Path) -> MemoryPipeline:
    return MemoryPipeline(tmp_path)


def test_scenario_outcomes_in_memory(pipe: MemoryPipeline) -> None:
    steps = load_steps(pipe.world)
    for step in steps:
        before = len(pipe.audit)
        if step.awaits:
            pipe.fire_timers(pipe.ts + 10**9)  # long after every deadline
        else:
            pipe.publish(step.topic, step.key, step.value)
        new = list(pipe.audit.values())[before:]
        if step.is_redelivery:
            assert new == [], f"{step.id}: a redelivery added an audit entry"
            continue
        assert len(new) == 1, f"{step.id}: expected one audit entry, got {len(new)}"
        entry = json.loads(new[0])
        codes = tuple(sorted(r["code"] for r in entry["results"]))
        assert (entry["outcome"], codes) == (step.expect.outcome, step.expect.codes), step.id
        if step.expect.actions is not None:
            assert tuple(entry["actions"]) == step.expect.actions, step.id
        if step.entry_id:
            assert entry["entry_id"] == step.entry_id
    rejected = {c for s in steps if s.expect.outcome == "rejected" for c in s.expect.codes}
    assert len(rejected) >= 10, f"the scenario exercises only {sorted(rejected)}"
    dlq = [v for t, _, v in pipe.sent if t == DLQ_TOPIC]
    assert sorted(json.loads(v)["reason_code"] for v in dlq) == ["MSG-001", "MSG-002", "MSG-003"]


def test_holdings_after_scenario(pipe: MemoryPipeline) -> None:
    for step in load_steps(pipe.world):
        if not step.awaits:
            pipe.publish(step.topic, step.key, step.value)
    pipe.fire_timers(pipe.ts + 10**9)
    held: dict[tuple[str, str, str], int] = {}
    for b in pipe.state.blocks():
        k = (b.registry, b.account, b.state)
        held[k] = held.get(k, 0) + b.quantity
    assert held == {
        ("MNG01", "MN-PP-1", "held"): 2900,
        ("MNG01", "MN-GOV-1", "held"): 1000 + 100,  # 100 moved back from Japan
        ("JPN01", "JP-GOV-1", "held"): 1000
        + 1100
        - 100,  # 1000 own + 1100 from Mongolia, 100 moved back
        ("JPN01", "JP-RET-1", "retired"): 1000,
        ("JPN01", "JP-PP-1", "held"): 3000,
        ("IDN01", "ID-PP-1", "held"): 2000,
        ("IDN01", "ID-GOV-1", "held"): 500,  # from its opening holdings
    }
    # The derived per-account balance agrees with the blocks, and survives a rebuild.
    sums: dict[tuple[str, str, str, str], int] = {}
    for b in pipe.state.blocks():
        if b.state == "held":
            acct = (b.ca_id, b.origin, b.registry, b.account)
            sums[acct] = sums.get(acct, 0) + b.quantity
    for rebuilt in (False, True):
        if rebuilt:
            pipe.state.rebuild_index()
        for acct, qty in sums.items():
            assert pipe.state.held(*acct) == qty, (acct, rebuilt)
    first = [b for b in pipe.state.blocks() if b.first_transferred]
    assert sum(b.quantity for b in first) == 2100
    assert {b.origin for b in first} == {"MNG01"}


def test_article6_rows_are_written_when_units_move(pipe: MemoryPipeline) -> None:
    """The AEF action rows of the scenario: a first transfer only when the acquiring
    registry accepts (never for the rejected or timed-out proposals), the acquisition on
    the other side, a use for Japan's NDC year, a later transfer back; nothing for units
    that are not ITMOs (Indonesia's approach has no authorization)."""
    for step in load_steps(pipe.world):
        if not step.awaits:
            pipe.publish(step.topic, step.key, step.value)
    pipe.fire_timers(pipe.ts + 10**9)
    rows = [
        (r["action"], r["party"], r["registry"], r["first"], r["last"], r["use_year"])
        for v in pipe.audit.values()
        for r in json.loads(v).get("a6", ())
    ]
    assert sorted(rows) == sorted(
        [
            ("First transfer", "MNG", "MNG01", "1", "2000", None),
            ("Acquisition", "JPN", "JPN01", "1", "2000", None),
            ("Use", "JPN", "JPN01", "1", "1000", 2025),
            ("Transfer", "JPN", "JPN01", "1901", "2000", None),
            ("Acquisition", "MNG", "MNG01", "1901", "2000", None),
            ("First transfer", "MNG", "MNG01", "2401", "2500", None),
            ("Acquisition", "JPN", "JPN01", "2401", "2500", None),
        ]
    )
    auth = next(json.loads(v) for v in pipe.audit.values() if b'"a6gw.authorization.v1"' in v)
    assert auth["data"]["sectors"] == ["Energy generation"]  # recorded with its content
