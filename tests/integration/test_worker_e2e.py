"""The worker on the real broker: the bundled scenario, restarts, kill -9, the bundle.

One worker serves the module (the gateway's topic names are fixed, so tests of this module
share them and run in file order).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from gateway.audit.bundle import verify_bundle, write_bundle
from gateway.audit.note import LogKey
from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig
from gateway.demo.run import DEMO_ANSWER_S, check, replay
from gateway.demo.scenario import Expect, Step, load_steps
from gateway.demo.stack import start_gateway
from gateway.demo.world import World, signed_event
from gateway.worker.process import WorkerProcess

pytestmark = pytest.mark.kafka


@dataclass
class Running:
    world: World
    lc: LoadedConfig
    worker: WorkerProcess
    store: AuditStore
    steps: list[Step]
    observed: dict[str, Any]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("gateway")
    gw = start_gateway(root, kafka_bootstrap, transfer_answer_s=DEMO_ANSWER_S)
    world, lc, worker, store = gw.world, gw.lc, gw.worker, gw.store
    try:
        steps = load_steps(world)
        observed = asyncio.run(replay(lc, steps, store, worker, say=lambda _m: None))
        yield Running(world, lc, worker, store, steps, observed)
    finally:
        worker.stop()
        print(worker.log_tail(15))


def _step(
    world: World,
    sid: str,
    signer: str,
    name: str,
    data: dict[str, Any],
    outcome: str,
    codes: tuple[str, ...] = (),
) -> Step:
    value = signed_event(
        world.keys[signer],
        key_id=world.key_id(signer),
        source=signer,
        name=name,
        event_id=sid,
        data=data,
    )
    return Step(sid, f"a6.in.{signer}", sid.encode(), value, Expect(outcome, codes), signer, sid)


def _retirement(transaction_id: str, ndc_year: int, first: str, last: str) -> dict[str, Any]:
    """JPN01 retires MNG01-originated units of CA0001 towards Japan's NDC."""
    return {
        "transaction_id": transaction_id,
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "registry_id": "JPN01",
        "account_id": "JP-GOV-1",
        "retirement_account_id": "JP-RET-1",
        "using_party": "JPN",
        "ndc_year": ndc_year,
        "blocks": [{"serial_start": first, "serial_end": last}],
    }


def test_every_input_ends_as_its_expected_decision(running: Running) -> None:
    rows = check(running.steps, running.observed, running.store)
    problems = {r["step"].id: r["problems"] for r in rows if r["problems"]}
    assert problems == {}
    distinct = [s for s in running.steps if not s.is_redelivery]
    assert running.store.size() == len(distinct)
    assert running.worker.crashes() == []


def test_dead_letters_carry_reason_codes(running: Running) -> None:
    codes = sorted(d["reason_code"] for d in running.observed["dlq"])
    assert codes == ["MSG-001", "MSG-002", "MSG-003"]
    assert running.worker.alive(), "a bad input must never stop the worker"


def test_transfer_proposal_reaches_the_acquiring_registry(running: Running) -> None:
    kinds = [(t, n["kind"]) for t, n in running.observed["notices"]]
    assert ("a6.out.JPN01", "transfer.proposed") in kinds
    assert ("a6.out.MNG01", "transfer.completed") in kinds


def test_kill_9_then_restart_recovers_state_without_duplicates(running: Running) -> None:
    before = running.store.size()
    running.worker.kill()
    running.worker.start()
    ret = next(s for s in running.steps if s.id == "jpn-ret-1")
    redelivered = Step(
        "again",
        ret.topic,
        ret.key,
        ret.value,
        Expect("accepted", (), None, "jpn-ret-1"),
        ret.source,
        ret.event_id,
    )
    retire = _retirement("JPN01-RET-8", 2026, "1001", "1500")
    retire_again = _retirement("JPN01-RET-9", 2025, "1", "10")
    steps = [
        _step(running.world, "after-restart-use", "JPN01", "retirement", retire, "accepted"),
        redelivered,
        _step(
            running.world,
            "after-restart-retire",
            "JPN01",
            "retirement",
            retire_again,
            "rejected",
            ("BLK-007",),
        ),
    ]
    observed = asyncio.run(
        replay(running.lc, steps, running.store, running.worker, say=lambda _m: None)
    )
    rows = check(steps, observed, running.store)
    assert {r["step"].id: r["problems"] for r in rows if r["problems"]} == {}
    assert running.store.size() == before + 2
    ids = [json.loads(b)["entry_id"] for b in running.store.entries()]
    assert len(ids) == len(set(ids))


async def _commit_to_end(bootstrap: str, group: str, topic: str) -> dict[TopicPartition, int]:
    """Commit ``group``'s offsets of ``topic`` to the log end, as if it had consumed it all."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(tps)
        end = await consumer.end_offsets(tps)
        for _ in range(60):  # the group accepts a commit only once its last member has left
            try:
                await consumer.commit(end)
                return end
            except KafkaError:
                await asyncio.sleep(1)
        raise AssertionError("could not commit the group's offsets")
    finally:
        await consumer.stop()


def test_records_committed_but_never_processed_are_processed(running: Running) -> None:
    """A consumer that commits past records it never handed to the agent loses nothing.

    faust can do this around a rebalance (see gateway.worker.gaps). Here the worker is down
    while inputs arrive and the group's offsets are committed past them; when it starts again
    its watchdog finds the partitions behind their committed offsets and reads them anyway.
    """
    running.worker.stop()
    steps = [
        _step(
            running.world,
            f"skipped-{n}",
            "JPN01",
            "retirement",
            _retirement(f"JPN01-RET-SKIP-{n}", 2025, "1", "10"),
            "rejected",
            ("BLK-007",),
        )
        for n in range(6)
    ]
    bootstrap = running.lc.config.kafka.bootstrap

    async def publish() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
        await producer.start()
        try:
            for step in steps:
                await producer.send_and_wait(step.topic, step.value, key=step.key)
        finally:
            await producer.stop()

    asyncio.run(publish())
    asyncio.run(_commit_to_end(bootstrap, running.lc.config.gateway.id, "a6.in.JPN01"))
    running.worker.start()
    want = {step.entry_id for step in steps}
    deadline = time.monotonic() + 180
    while not all(running.store.has(e) for e in want):
        running.worker.check_alive()
        assert time.monotonic() < deadline, running.worker.log_tail(30)
        time.sleep(0.5)
    log = running.worker.log_path.read_text(encoding="utf-8", errors="replace")
    assert "a6.in.JPN01#" in log and "seeking to" in log


def test_exported_bundle_verifies_and_tampering_is_caught(running: Running, tmp_path: Path) -> None:
    key = LogKey.load(running.lc.path(running.lc.config.gateway.log_key_file))
    entries = list(running.store.entries())
    cp = write_bundle(tmp_path, entries, key, running.lc.config.gateway.log_origin)
    report = verify_bundle(tmp_path)
    assert (report.size, report.root) == (cp.size, cp.root.hex())
    cli = [sys.executable, "-m", "gateway", "verify", str(tmp_path)]
    assert subprocess.run(cli, capture_output=True, check=False).returncode == 0
    lines = (tmp_path / "entries.ndjson").read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b'"recorded"', b'"accepted"', 1)
    (tmp_path / "entries.ndjson").write_bytes(b"\n".join(lines))
    result = subprocess.run(cli, capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "AUD-VERIFY" in result.stderr
