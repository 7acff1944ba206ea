"""Operations on the real broker: scheduled reconciliation and the restore drill.

One gateway on a broker of the module's own (its a6.audit.log then holds this gateway's
records only) replays the bundled scenario. Then, in file order:

1. ``a6gw reconcile --every 2s`` runs at least twice, each run recorded in the log, and
   exits 0 on SIGTERM;
2. ``a6gw audit restore`` rebuilds the store from ``a6.audit.log`` into a new SQLite file:
   the same entries at the same indices, the same root, the same input position, every
   published checkpoint matching; and likewise into a PostgreSQL database;
3. a restored row changed afterwards is caught by ``--check-only`` (exit 1, AUD-FORK);
4. a forged checkpoint on ``a6.audit.checkpoints`` (right key, wrong root; or another key)
   makes the restore exit 1.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.audit.note import Checkpoint, LogKey
from gateway.audit.open import open_store
from gateway.audit.store import AuditStore
from gateway.core.topics import AUDIT_TOPIC, CHECKPOINT_TOPIC
from gateway.demo.planted import snapshot_rows
from gateway.demo.run import DEMO_ANSWER_S, replay
from gateway.demo.scenario import load_steps
from gateway.demo.stack import Gateway, start_gateway
from gateway.services.entries import read_entries
from gateway.transport.clients import KafkaClients, clients_for
from gateway.worker.sequencing import request_checkpoint

pytestmark = [pytest.mark.kafka, pytest.mark.own_broker]


@dataclass
class Drill:
    gw: Gateway
    root: Path


@pytest.fixture(scope="module")
def drill(tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaClients) -> Iterator[Drill]:
    root = tmp_path_factory.mktemp("drill")
    gw = start_gateway(root / "gw", kafka_admin, transfer_answer_s=DEMO_ANSWER_S)
    try:
        steps = load_steps(gw.world)
        asyncio.run(replay(gw.lc, steps, gw.store, gw.worker, gw.admin, say=lambda _m: None))
        yield Drill(gw, root)
    finally:
        gw.worker.stop()
        print(gw.worker.log_tail(15))


def _a6gw(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "gateway", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)


def _reconciliations(store: AuditStore) -> int:
    return sum(1 for e in read_entries(store.entries()) if e.entry_type == "reconciliation")


def test_reconcile_every_runs_on_schedule_and_stops_on_sigterm(drill: Drill) -> None:
    gw = drill.gw
    before = _reconciliations(gw.store)
    snapshot = drill.root / "mng01-snapshot.json"
    snapshot.write_text(json.dumps(snapshot_rows(gw.store, "MNG01")), encoding="utf-8")
    log = drill.root / "reconcile-every.log"
    cmd = [sys.executable, "-m", "gateway", "reconcile", "--config", str(gw.world.config_path)]
    cmd += ["--registry", "MNG01", "--snapshot", str(snapshot), "--every", "2s"]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "run 2 of MNG01: completed" not in log.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        text = log.read_text()
        assert "run 2 of MNG01: completed, the books agree" in text, text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "SIGTERM: stopping after the current run" in text
    assert "stopped after" in text and "failed" not in text
    # every run was recorded: the worker sequenced one reconciliation entry per run
    runs = int(text.split("stopped after ")[1].split(" run")[0])
    assert runs >= 2
    deadline = time.monotonic() + 60
    while _reconciliations(gw.store) < before + runs and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _reconciliations(gw.store) == before + runs


def _checkpoint_everything(gw: Gateway) -> str:
    """A checkpoint over every entry, once the worker has sequenced all there is."""
    size = -1
    while size != gw.store.size():  # the log stopped growing
        size = gw.store.size()
        time.sleep(2.0)
    kafka = clients_for(gw.lc, "checkpoint")
    return asyncio.run(request_checkpoint(kafka, gw.lc.load_mac_key(), min_size=size))


def test_restore_rebuilds_the_same_log_and_every_checkpoint_matches(drill: Drill) -> None:
    gw = drill.gw
    note = _checkpoint_everything(gw)
    target = drill.root / "restored" / "audit.sqlite"
    result = _a6gw("audit", "restore", "--config", str(gw.world.config_path), "--to", str(target))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: all " in result.stdout
    restored = AuditStore(target)
    size = gw.store.size()
    assert size > 40  # the scenario, its dead letters, the scheduled reconciliations
    assert restored.size() == size
    assert list(restored.entries()) == list(gw.store.entries())
    assert restored.root() == gw.store.root()
    assert restored.position(AUDIT_TOPIC, 0) == gw.store.position(AUDIT_TOPIC, 0)
    latest = restored.latest_checkpoint()
    assert latest is not None and latest.note == note
    assert f"the latest is of size {size}" in result.stdout
    # entries of every kind came back: decisions, dead letters, reconciliations
    kinds = {e.entry_type for e in read_entries(restored.entries())}
    assert {"decision", "dead-letter", "reconciliation"} <= kinds, kinds
    restored.close()


@pytest.mark.postgres
def test_restore_into_postgresql(drill: Drill, postgres_database: str) -> None:
    gw = drill.gw
    config = str(gw.world.config_path)
    result = _a6gw("audit", "restore", "--config", config, "--to", postgres_database, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["mismatches"] == [] and report["size"] == gw.store.size()
    restored = open_store(postgres_database)
    try:
        assert list(restored.entries()) == list(gw.store.entries())
        assert restored.root() == gw.store.root()
        assert restored.latest_checkpoint() == gw.store.latest_checkpoint()
    finally:
        restored.close()


def test_a_changed_restored_row_is_caught(drill: Drill) -> None:
    gw = drill.gw
    config = str(gw.world.config_path)
    target = drill.root / "restored" / "audit.sqlite"
    ok = _a6gw("audit", "restore", "--config", config, "--to", str(target), "--check-only")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    db = sqlite3.connect(target)
    body = bytes(db.execute("SELECT body FROM entries WHERE idx = 3").fetchone()[0])
    db.execute("UPDATE entries SET body = ? WHERE idx = 3", (body.replace(b'"', b"'", 1),))
    db.commit()
    db.close()
    bad = _a6gw("audit", "restore", "--config", config, "--to", str(target), "--check-only")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "MISMATCH AUD-FORK" in bad.stdout and "FAIL:" in bad.stdout
    # a store that already holds entries is never written over
    again = _a6gw("audit", "restore", "--config", config, "--to", str(target))
    assert again.returncode == 2 and "already has" in again.stderr


async def _publish(kafka: KafkaClients, note: str) -> None:
    producer = kafka.producer(acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(CHECKPOINT_TOPIC, note.encode(), key=b"forged")
    finally:
        await producer.stop()


def test_a_forged_checkpoint_fails_the_restore(drill: Drill) -> None:
    """Last in the module: the forged notes stay on the checkpoint topic."""
    gw = drill.gw
    config = str(gw.world.config_path)
    key = gw.lc.load_log_key()
    origin = gw.lc.config.gateway.log_origin
    wrong_root = key.sign(Checkpoint(origin, 2, b"\x07" * 32).to_text())
    asyncio.run(_publish(gw.admin, wrong_root))
    target = drill.root / "forged" / "audit.sqlite"
    result = _a6gw("audit", "restore", "--config", config, "--to", str(target), "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert [(m["code"], m["size"]) for m in report["mismatches"]] == [("AUD-FORK", 2)]
    assert report["latest_matching"]["size"] == gw.store.size()
    other = LogKey.generate(key.name).sign(Checkpoint(origin, 1, b"\x00" * 32).to_text())
    asyncio.run(_publish(gw.admin, other))
    target = drill.root / "forged-2" / "audit.sqlite"
    result = _a6gw("audit", "restore", "--config", config, "--to", str(target))
    assert result.returncode == 1
    assert "MISMATCH AUD-CHECKPOINT" in result.stdout and "MISMATCH AUD-FORK" in result.stdout
