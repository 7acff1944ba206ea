"""The ledger state in memory: the scenario decided against it, then rebuilt from the stored
decisions alone, gives the same state; each effect key belongs to one ledger partition key
(the claim the rebuild's ordering rests on)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gateway.core.state import VERSION, Put, TableName
from gateway.core.steps import forwarded_key, ledger_step
from gateway.core.topics import LEDGER_TOPIC
from gateway.demo.scenario import load_steps
from gateway.worker.memory import LedgerMemory
from gateway.worker.workerstate import WorkerState, rebuild
from tests.unit.worker.test_pipeline import MemoryPipeline

TABLES: tuple[TableName, ...] = (
    "blocks",
    "jc_decisions",
    "authorizations",
    "transfers",
    "openings",
    "transactions",
)


class WorkerPipeline(MemoryPipeline):
    """The memory pipeline with the worker's state: decisions in their own table, accounts
    copied to a global table, and who wrote each effect key."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.decisions: dict[str, Any] = {}
        self.accounts: dict[str, Any] = {}
        self.state = self.worker = WorkerState(self.decisions, self.accounts)
        self.writers: dict[tuple[str, str], set[str]] = {}

    def _route(self, topic: str, key: str, value: bytes) -> None:
        if topic != LEDGER_TOPIC:
            super()._route(topic, key, value)
            return
        self.sent.append((topic, key, value))
        off = self.offsets.get(topic, 0)
        self.offsets[topic] = off + 1
        record = json.loads(value)
        res = ledger_step(record, self.state, self.ctx.directory, self.ctx.signer, version=off)
        self.state.apply(res.effects, res.version)
        if res.decision_put is not None:
            self.decisions[res.decision_put.key] = res.decision_put.value
        else:
            assert forwarded_key(record) in self.decisions  # a redelivery finds its decision
        for e in res.effects:
            self.writers.setdefault((e.table, e.key), set()).add(key)
            if e.table == "accounts":
                self.accounts[e.key] = {**e.value, VERSION: res.version}
        for o in res.outputs:
            self._route(o.topic, o.key, o.value)


def run_scenario(tmp_path: Path) -> WorkerPipeline:
    pipe = WorkerPipeline(tmp_path)
    for step in load_steps(pipe.world):
        if not step.awaits:
            pipe.publish(step.topic, step.key, step.value)
    pipe.fire_timers(pipe.ts + 10**9)
    return pipe


def test_the_state_rebuilt_from_the_decisions_is_the_state_decided(tmp_path: Path) -> None:
    pipe = run_scenario(tmp_path)
    live = pipe.worker
    assert len(pipe.decisions) > 20 and live.tables["blocks"] and live.tables["transfers"]
    for accounts in ({}, pipe.accounts):  # with or without the global copy of accounts
        rebuilt = rebuild(pipe.decisions, accounts)
        for name in TABLES:
            assert rebuilt.tables[name] == live.tables[name], name
        assert rebuilt.own_accounts == live.own_accounts
        assert sorted(b.key for b in rebuilt.blocks()) == sorted(b.key for b in live.blocks())
    holder = LedgerMemory(pipe.decisions, pipe.accounts)
    assert holder.current().tables["blocks"] == live.tables["blocks"] and not holder.stale
    holder.mark_stale()
    assert holder.current() is not None and holder.rebuilds == 2


def test_each_effect_key_is_written_from_one_ledger_partition_key(tmp_path: Path) -> None:
    pipe = run_scenario(tmp_path)
    assert {t for t, _ in pipe.writers} >= {"blocks", "accounts", "transfers"}
    shared = {k: v for k, v in pipe.writers.items() if len(v) != 1}
    assert shared == {}
    accounts = {v.pop() for (t, _), v in pipe.writers.items() if t == "accounts"}
    assert accounts and all(k.startswith("registry:") for k in accounts)


def test_accounts_are_read_from_memory_first_then_from_the_global_table() -> None:
    shared = {"R|a": {"status": "open", VERSION: 5}, "S|b": {"status": "blocked", VERSION: 9}}
    state = WorkerState({}, shared)
    state.apply([Put("accounts", "R|a", {"status": "closed"})], 7)
    assert state.get("accounts", "R|a") == {"status": "closed"}  # this batch's effect
    assert state.get("accounts", "S|b") == {"status": "blocked"}  # another worker's
    assert state.get("accounts", "R|c") is None
    state.apply([Put("accounts", "R|a", {"status": "open"})], 6)  # an older redelivery
    assert state.get("accounts", "R|a") == {"status": "closed"}
