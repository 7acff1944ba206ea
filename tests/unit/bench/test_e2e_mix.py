"""The end-to-end benchmark's workload: its shares, and every input valid in phase order
(whatever the order within a phase), checked through the pure ingest and ledger steps."""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from typing import Any

import pytest
import yaml

from gateway.config import load_config
from gateway.core.ingest import RawInput
from gateway.core.state import LedgerState
from gateway.core.steps import ingest_step, ledger_step
from gateway.core.topics import AUDIT_TOPIC, LEDGER_TOPIC, is_output
from gateway.demo.world import World, write_world
from gateway.worker.context import WorkerContext
from tests.bench import e2e_mix as mix
from tests.bench.e2e_kafka import DECISION_ID


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, list[str]]:
    cas = mix.approach_ids(4, 4)
    w = write_world(tmp_path_factory.mktemp("world"), bootstrap="127.0.0.1:1")
    doc = yaml.safe_load(w.config_path.read_text())
    doc["cooperative_approaches"] = mix.approaches_config(cas)
    w.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return w, cas


def decide(world: World, phases: list[list[mix.Input]], seed: int) -> dict[str, dict[str, Any]]:
    """Each input's audit entry, deciding each phase in a shuffled order; each input has
    exactly one record the benchmark reads as its decision on an output topic."""
    lc = load_config(world.config_path)
    wc = WorkerContext.load(lc)
    owners = lc.config.input_topics()
    seen: dict[str, object] = {}
    state = LedgerState()
    rnd = random.Random(seed)
    entries: dict[str, dict[str, Any]] = {}
    decided: dict[str, int] = {}  # what the benchmark reads as decisions on output topics
    version = 0
    now = int(time.time() * 1000)
    for phase in phases:
        order = list(phase)
        rnd.shuffle(order)
        for n, i in enumerate(order):
            raw = RawInput(i.topic, 0, n, i.key, i.value, now)
            owner = owners[i.topic]
            res = ingest_step(
                raw, owner, wc.trust, wc.public_keys, wc.joint_committees(owner), seen,
                wc.signer, max_bytes=lc.config.limits.max_message_bytes,
            )  # fmt: skip
            if res.seen_put is not None:
                seen[res.seen_put[0]] = res.seen_put[1]
            outputs = list(res.outputs)
            for o in res.outputs:
                if o.topic == LEDGER_TOPIC:
                    lr = ledger_step(json.loads(o.value), state, wc.directory, wc.signer,
                                     version=version)  # fmt: skip
                    version += 1
                    if lr.decision_put is not None:
                        state.apply([lr.decision_put], lr.version)
                    state.apply(lr.effects, lr.version)
                    outputs += lr.outputs
            for o in outputs:
                if o.topic == AUDIT_TOPIC:
                    entry = json.loads(o.value)
                    entries[entry["input"]["id"]] = entry
                elif is_output(o.topic) and DECISION_ID in o.value:
                    decided[o.key] = decided.get(o.key, 0) + 1
    assert decided == {i.event_id: 1 for p in phases for i in p}
    return entries


def test_approach_ids_spread_over_the_ledger_partitions() -> None:
    cas = mix.approach_ids(4, 4)
    assert len(set(cas)) == 4
    assert sorted(mix.partition_of(ca, 4) for ca in cas) == [0, 1, 2, 3]
    six = Counter(mix.partition_of(ca, 4) for ca in mix.approach_ids(6, 4))
    assert max(six.values()) == 2


def test_the_burst_has_at_least_the_inputs_asked_over_four_approaches(
    world: tuple[World, list[str]],
) -> None:
    w, cas = world
    phases = mix.burst(mix.Signer(w, cas, ""), 500)
    timed = [i for p in phases[1:] for i in p]
    assert len(timed) >= 500
    assert len(timed) == 4 * mix.per_lot(mix.lots_for(500, 4))
    by_ca, by_kind = mix.shares(timed)
    assert len(by_ca) >= 4 and max(by_ca.values()) <= 0.40
    assert set(by_kind) == {"issuance", "intra", "cross", "answer", "retirement", "authorization"}
    assert len({i.key for p in phases for i in p}) == sum(map(len, phases))


def test_every_burst_input_is_valid_in_any_order_within_its_phase(
    world: tuple[World, list[str]],
) -> None:
    w, cas = world
    phases = mix.burst(mix.Signer(w, cas, ""), 300)
    for seed in (1, 2):
        entries = decide(w, phases, seed)
        for i in (i for p in phases for i in p):
            e = entries[i.event_id]
            assert (e["outcome"], e["results"]) == (i.expect, []), (i.kind, e["results"])


def test_the_rate_stream_is_valid_in_any_order_after_its_preparation(
    world: tuple[World, list[str]],
) -> None:
    w, cas = world
    signer = mix.Signer(w, cas, "")
    prep, stream = mix.stream(signer, 400, mix.RATE_BASE)
    assert len(stream) == 400
    by_ca, by_kind = mix.shares(stream)
    assert len(by_ca) == 4 and max(by_ca.values()) <= 0.40
    assert {"issuance", "intra", "cross", "retirement"} <= set(by_kind)
    phases = [mix.burst(signer, 10)[0], *prep, stream]
    entries = decide(w, phases, 3)
    for i in (i for p in phases for i in p):
        e = entries[i.event_id]
        assert (e["outcome"], e["results"]) == (i.expect, []), (i.kind, e["results"])


def test_a_hot_burst_is_all_on_one_approach(world: tuple[World, list[str]]) -> None:
    w, cas = world
    phases = mix.burst(mix.Signer(w, cas[:1], "hot-"), 100)
    by_ca, _ = mix.shares([i for p in phases[1:] for i in p])
    assert by_ca == {cas[0]: 1.0}


def test_a_mix_over_two_approaches_is_rejected_by_the_share_rule(
    world: tuple[World, list[str]],
) -> None:
    """The share check can fail: two approaches hold half the inputs each."""
    w, cas = world
    phases = mix.burst(mix.Signer(w, cas[:2], "two-"), 100)
    by_ca, _ = mix.shares([i for p in phases[1:] for i in p])
    assert max(by_ca.values()) > 0.40
