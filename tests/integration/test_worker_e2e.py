"""The worker on the real broker: the bundled scenario, restarts, kill -9, the bundle.

One worker serves the module (the gateway's topic names are fixed, so tests of this module
share them and run in file order).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

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
    retire = {
        "transaction_id": "JPN01-RET-8",
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "registry_id": "JPN01",
        "account_id": "JP-GOV-1",
        "retirement_account_id": "JP-RET-1",
        "using_party": "JPN",
        "ndc_year": 2026,
        "blocks": [{"serial_start": "1001", "serial_end": "1500"}],
    }
    retire_again = {
        "transaction_id": "JPN01-RET-9",
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "registry_id": "JPN01",
        "account_id": "JP-GOV-1",
        "retirement_account_id": "JP-RET-1",
        "using_party": "JPN",
        "ndc_year": 2025,
        "blocks": [{"serial_start": "1", "serial_end": "10"}],
    }
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
