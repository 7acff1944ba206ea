"""Issue 14 #1 on the real broker with the real worker: no input stops a partition.

Hostile bytes are dead-lettered with their code and a valid input published after them on
the same partition is decided within ``timeouts.stall_s``; a fault injected into a step is
a gateway fault (GWF-001); an input the process dies on is quarantined after 3 restarts
(GWF-002); a gateway fault's input can be replayed once fixed; ``a6gw lag`` shows each
agent's own position. One worker serves the module (the topic names are fixed).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from unit.core.test_gateway_faults import BIG_INT, BRACKETS, deep_envelope  # tests/ is on sys.path

from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig
from gateway.core.decision import raw_entry_id
from gateway.demo.scenario import Expect, Step
from gateway.demo.stack import start_gateway
from gateway.demo.world import World, signed_event
from gateway.worker.process import WorkerProcess

pytestmark = pytest.mark.kafka

TOPIC = "a6.in.JPN01"
PARTITION = 1
RAISE = "RAISE-MARKER-7"
EXIT = "EXIT-MARKER-9"
FAULTS = {"A6GW_TEST_FAULTS": f"raise:{RAISE},exit:{EXIT}"}


@dataclass
class Gw:
    world: World
    lc: LoadedConfig
    worker: WorkerProcess
    store: AuditStore


@pytest.fixture(scope="module")
def gw(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> Iterator[Gw]:
    root = tmp_path_factory.mktemp("poison")
    g = start_gateway(root, kafka_bootstrap, env=FAULTS)
    try:
        gw = Gw(g.world, g.lc, g.worker, g.store)
        _decide(gw, [_valid(gw, "warm-up")], within=180)  # the worker is up and assigned
        yield gw
    finally:
        g.worker.stop()
        print(g.worker.log_tail(40))


def _valid(gw: Gw, event_id: str) -> Step:
    """A signed retirement of units JPN01 does not hold: decided (rejected) at once."""
    data = {
        "transaction_id": f"T-{event_id}",
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "registry_id": "JPN01",
        "account_id": "JP-GOV-1",
        "retirement_account_id": "JP-RET-1",
        "using_party": "JPN",
        "ndc_year": 2026,
        "blocks": [{"serial_start": "1", "serial_end": "10"}],
    }
    value = signed_event(
        gw.world.keys["JPN01"],
        key_id=gw.world.key_id("JPN01"),
        source="JPN01",
        name="retirement",
        event_id=event_id,
        data=data,
    )
    return Step(event_id, TOPIC, event_id.encode(), value, Expect("rejected"), "JPN01", event_id)


async def _publish(gw: Gw, records: list[tuple[bytes, bytes]]) -> list[int]:
    producer = AIOKafkaProducer(
        bootstrap_servers=gw.lc.config.kafka.bootstrap, acks="all", max_request_size=4 << 20
    )
    await producer.start()
    try:
        metas = [
            await producer.send_and_wait(TOPIC, value, key=key, partition=PARTITION)
            for key, value in records
        ]
    finally:
        await producer.stop()
    return [m.offset for m in metas]


def _wait(gw: Gw, entry_id: str, within: float, *, alive: bool = True) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while (index := gw.store.index_of(entry_id)) is None:
        if alive:
            gw.worker.check_alive()
        assert time.monotonic() < deadline, f"no entry {entry_id} within {within} s"
        time.sleep(0.1)
    return dict(json.loads(gw.store.entry(index)))


def _decide(gw: Gw, steps: list[Step], within: float) -> list[dict[str, Any]]:
    asyncio.run(_publish(gw, [(s.key, s.value) for s in steps]))
    return [_wait(gw, str(s.entry_id), within) for s in steps]


def test_hostile_json_is_dead_lettered_and_the_partition_flows_on(gw: Gw) -> None:
    after = _valid(gw, "after-hostile-json")
    hostile = [(b"h1", BRACKETS), (b"h2", BIG_INT), (b"h3", deep_envelope())]
    offsets = asyncio.run(_publish(gw, hostile))
    sent = time.monotonic()
    asyncio.run(_publish(gw, [(after.key, after.value)]))
    stall_s = gw.lc.config.timeouts.stall_s
    decided = _wait(gw, str(after.entry_id), stall_s)
    assert time.monotonic() - sent <= stall_s
    assert decided["outcome"] == "rejected"
    for offset in offsets:
        dead = _wait(gw, raw_entry_id(TOPIC, PARTITION, offset), 1)
        assert (dead["outcome"], dead["results"][0]["code"]) == ("dead-lettered", "MSG-001")
    assert gw.worker.crashes() == []
