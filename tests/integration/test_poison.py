"""Issue 14 #1 on the real broker with the real worker: no input stops a partition.

Hostile bytes are dead-lettered with their code and a valid input published after them on
the same partition is decided within ``timeouts.stall_s``; a fault injected into a step is
a gateway fault (GWF-001); an input the process dies on is quarantined after 3 or 4 restarts
(GWF-002); a gateway fault's input can be replayed once fixed; ``a6gw lag`` shows each
agent's own position. One worker serves the module (the topic names are fixed).
"""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig
from gateway.core import mac
from gateway.core.canonical import sha256_hex
from gateway.core.decision import event_entry_id, raw_entry_id
from gateway.core.topics import AUDIT_TOPIC, input_topic
from gateway.demo.scenario import Expect, Step
from gateway.demo.stack import start_gateway
from gateway.demo.world import World, signed_event
from gateway.services.operate import dead_letters
from gateway.transport.clients import KafkaClients, clients_for, partner_clients
from gateway.worker.exits import Exit
from gateway.worker.process import WorkerProcess
from tests.integration.offsets import commit_to_end
from tests.unit.core.test_gateway_faults import BIG_INT, BRACKETS, deep_envelope

# A whole gateway runs here, publishing checkpoints signed by this world's log key: on a
# broker of this module's own, so that a later world's sequencer does not find them.
pytestmark = [pytest.mark.kafka, pytest.mark.own_broker]


TOPIC = input_topic("JPN01")
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
def gw(tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaClients) -> Iterator[Gw]:
    root = tmp_path_factory.mktemp("poison")
    g = start_gateway(root, kafka_admin, env=FAULTS)
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
    # as the registry that owns the topic: hostile bytes come from a sender with access
    producer = partner_clients(gw.lc, "registry-JPN01").producer(acks="all")
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


def test_a_record_of_the_audit_log_that_is_no_entry_is_dead_lettered(gw: Gw) -> None:
    """The sequencer appends the record's dead-letter entry in its place and goes on.

    The records carry a valid MAC, as a gateway process with a bug would write them (a
    record without one is refused earlier, MSG-010: see test_internal_topics)."""
    secret = gw.lc.load_mac_key()

    async def put() -> list[int]:
        producer = clients_for(gw.lc, "ingress").producer(acks="all")
        await producer.start()
        try:
            bad = [(b"\xff\xfe", b"{}"), (b"ev-x", BRACKETS), (b"ev-y", b'{"entry_id":"ev-z"}')]
            return [
                (
                    await producer.send_and_wait(
                        AUDIT_TOPIC, v, key=k, headers=mac.headers(secret, AUDIT_TOPIC, k, v)
                    )
                ).offset
                for k, v in bad
            ]
        finally:
            await producer.stop()

    offsets = asyncio.run(put())
    for offset in offsets:
        dead = _wait(gw, raw_entry_id(AUDIT_TOPIC, 0, offset), 60)
        assert (dead["outcome"], dead["results"][0]["code"]) == ("dead-lettered", "MSG-001")
    (decided,) = _decide(gw, [_valid(gw, "after-audit-junk")], gw.lc.config.timeouts.stall_s)
    assert decided["outcome"] == "rejected"


def _faulty(gw: Gw, marker: str) -> Step:
    return _valid(gw, f"{marker}-{time.time_ns()}")


def test_an_exception_in_a_step_is_a_gateway_fault_and_the_partition_flows_on(gw: Gw) -> None:
    bad, after = _faulty(gw, RAISE), _valid(gw, "after-injected-fault")
    (offset,) = asyncio.run(_publish(gw, [(bad.key, bad.value)]))
    sent = time.monotonic()
    asyncio.run(_publish(gw, [(after.key, after.value)]))
    stall_s = gw.lc.config.timeouts.stall_s
    _wait(gw, str(after.entry_id), stall_s)
    assert time.monotonic() - sent <= stall_s
    dead = _wait(gw, raw_entry_id(TOPIC, PARTITION, offset), 1)
    assert dead["results"][0]["code"] == "GWF-001"
    assert "ingest" in dead["results"][0]["message"]
    assert "InjectedFault" in dead["results"][0]["message"]
    assert not gw.store.has(str(bad.entry_id))
    letters = asyncio.run(dead_letters(gw.lc))
    print(
        "LETTERS",
        offset,
        [(d.get("topic"), d.get("offset"), d.get("reason_code")) for d in letters],
    )
    (letter,) = [d for d in letters if d["offset"] == offset and d["topic"] == TOPIC]
    assert letter["fault"] == {"step": "ingest", "exception": "InjectedFault"}
    assert base64.b64decode(letter["value_b64"]) == bad.value
    assert "ALERT A6-ALERT-001" in gw.worker.log_path.read_text(errors="replace")


def test_an_input_the_worker_dies_on_is_quarantined_after_two_deaths_alone(gw: Gw) -> None:
    bad, after = _faulty(gw, EXIT), _valid(gw, "after-quarantine")
    (offset, _) = asyncio.run(_publish(gw, [(bad.key, bad.value), (after.key, after.value)]))
    dead = _wait(gw, raw_entry_id(TOPIC, PARTITION, offset), 300)
    assert dead["results"][0]["code"] == "GWF-002"
    _wait(gw, str(after.entry_id), 60)
    status = json.loads((gw.lc.data_dir / "worker" / "restarts.json").read_text())
    assert status["restarts"] >= 3 and status["last_exit"] == Exit.CRASHED
    text = gw.worker.log_path.read_text(errors="replace")
    # In its batch, maybe again with the other records of the batch (``after`` when it was
    # fetched with it), then twice alone.
    deaths = text.count("injected crash on")
    assert deaths in (3, 4)
    assert f"ALERT A6-ALERT-002: input quarantined in ingest after {deaths} deaths" in text
    assert not gw.store.has(str(bad.entry_id))
    # The partition flows at its usual pace again.
    (decided,) = _decide(gw, [_valid(gw, "after-quarantine-2")], gw.lc.config.timeouts.stall_s)
    assert decided["outcome"] == "rejected"


def _a6gw(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, check=False
    )


def test_a_gateway_fault_is_decided_when_replayed_once_fixed(gw: Gw) -> None:
    """The fault is fixed (the worker restarts without it); the operator replays the dead
    letter; the input is decided, its entry naming the dead letter; a second replay yields
    the same decision; a refused input's dead letter is not replayable."""
    letters = asyncio.run(dead_letters(gw.lc))
    # At least once: a dead letter redelivered before its commit is written again, alike.
    (fault,) = {d["audit_entry_id"]: d for d in letters if d["reason_code"] == "GWF-001"}.values()
    gw.worker.stop()
    gw.worker.env = {}
    gw.worker.start()
    config = str(gw.world.config_path)
    where = ["--topic", TOPIC, "--partition", str(PARTITION), "--offset", str(fault["offset"])]
    done = _a6gw("dlq", "replay", "--config", config, *where)
    assert done.returncode == 0, done.stderr
    value = base64.b64decode(fault["value_b64"])
    event_id = json.loads(value)["id"]
    entry_id = event_entry_id("JPN01", event_id, sha256_hex(value))
    entry = _wait(gw, entry_id, 180)
    assert entry["outcome"] == "rejected"
    assert entry["replays"] == {
        "topic": TOPIC,
        "partition": PARTITION,
        "offset": fault["offset"],
        "audit_entry_id": fault["audit_entry_id"],
    }
    size = gw.store.size()
    again = _a6gw("dlq", "replay", "--config", config, *where)
    assert again.returncode == 0, again.stderr
    marker = _valid(gw, "after-second-replay")  # decided after the second replay was handled
    _decide(gw, [marker], 60)
    assert gw.store.size() == size + 1  # the marker's entry only: the replay changed nothing
    assert json.loads(gw.store.entry(gw.store.index_of(entry_id) or 0)) == entry
    refused = next(d for d in letters if d["reason_code"] == "MSG-001" and d["topic"] == TOPIC)
    where = ["--topic", TOPIC, "--partition", str(PARTITION), "--offset", str(refused["offset"])]
    no = _a6gw("dlq", "replay", "--config", config, *where)
    assert no.returncode == 1 and "not a gateway fault" in no.stderr
    listed = _a6gw("dlq", "list", "--config", config, "--faults")
    assert listed.returncode == 0 and "GWF-001" in listed.stdout and "MSG-001" not in listed.stdout


def _lag_rows(gw: Gw) -> dict[tuple[str, int], dict[str, Any]]:
    out = _a6gw("lag", "--config", str(gw.world.config_path), "--json")
    assert out.returncode == 0, out.stderr
    return {(r["topic"], r["partition"]): r for r in json.loads(out.stdout)}


def test_lag_shows_the_agents_own_position(gw: Gw) -> None:
    """Caught up, lag is 0; a partition whose agent did not process its last record shows
    lag 1 even when the group's committed offset has reached the end (as faust can commit)."""
    _decide(gw, [_valid(gw, "before-lag")], 60)
    rows = _lag_rows(gw)
    row = rows[(TOPIC, PARTITION)]
    assert row["agent"] == "ingest" and row["end"] > 0
    assert row["position"] == row["end"] and row["lag"] == 0
    assert rows[(AUDIT_TOPIC, 0)]["agent"] == "sequencer"
    gw.worker.stop()
    waiting = _valid(gw, "waits-for-the-agent")
    asyncio.run(_publish(gw, [(waiting.key, waiting.value)]))
    cfg = gw.lc.config
    worker = clients_for(gw.lc, "worker")  # the group is the worker's
    asyncio.run(commit_to_end(worker, cfg.gateway.id, TOPIC, cfg.kafka.partitions))
    row = _lag_rows(gw)[(TOPIC, PARTITION)]
    assert (row["lag"], row["committed_lag"]) == (1, 0)
    gw.worker.start()
    _wait(gw, str(waiting.entry_id), 180)  # the worker's watchdog reads what was skipped
    row = _lag_rows(gw)[(TOPIC, PARTITION)]
    assert row["lag"] == 0
