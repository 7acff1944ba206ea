"""The gateway's witness collector on the real broker, with two real ``a6gw witness serve``
processes over HTTPS: checkpoints published cosigned by both; a witness restarted with its
state goes on, one restored from an older copy of its state answers 409 and the collector
proves from the size it names; a witness that holds a fork makes the next checkpoint a
discrepancy (WIT-001) and an alert; readers get only a checkpoint with K cosignatures."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.api.server import AuditAPI
from gateway.audit.cosignature import Cosigner, parse_witness_vkey, require_cosignatures
from gateway.audit.cosigned import for_readers
from gateway.audit.note import Checkpoint, LogKey
from gateway.audit.proof import consistency_proof
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.store import AuditStore
from gateway.audit.tlog_witness import add_checkpoint_body
from gateway.core.topics import input_topic
from gateway.demo.stack import Gateway, start_gateway
from gateway.demo.witnesses import WitnessProcess, configure, start_witnesses
from gateway.demo.world import LOG_ORIGIN, World
from gateway.http.pki import init_pki
from gateway.http.tls import client_tls
from gateway.transport.clients import KafkaClients, clients_for
from gateway.worker.sequencing import request_checkpoint
from tests.ports import free_port

pytestmark = [pytest.mark.kafka, pytest.mark.own_broker]  # its worker publishes checkpoints

WAIT_S = 90.0


@dataclass
class Setup:
    root: Path
    gw: Gateway
    key: LogKey
    jp: WitnessProcess
    mn: WitnessProcess
    keys: list[Cosigner]

    @property
    def store(self) -> AuditStore:
        return self.gw.store


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaClients) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("witnessed")
    pki = root / "pki"
    init_pki(pki, ("auditor",))
    (root / "keys").mkdir(mode=0o700)
    key = LogKey.generate(LOG_ORIGIN)
    key.save(root / "keys" / "log.key")
    jp, mn = start_witnesses(root, LOG_ORIGIN, key.public_vkey(), pki)
    gw = None
    try:
        gw = start_gateway(root, kafka_admin, adjust=lambda w: _configure(w, [jp, mn], pki))
        keys = [parse_witness_vkey(w.vkey_file.read_text().strip()) for w in (jp, mn)]
        yield Setup(root, gw, key, jp, mn, keys)
    finally:
        if gw is not None:
            gw.worker.stop()
            print(gw.worker.log_tail(30))
        jp.stop()
        mn.stop()


def _configure(world: World, witnesses: list[WitnessProcess], pki: Path) -> None:
    configure(world, witnesses, 2, pki / "ca.pem")
    doc = yaml.safe_load(world.config_path.read_text())
    doc["api"] = {"port": free_port()}  # its TLS files: the defaults, pki/ under the root
    world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _grow_and_checkpoint(s: Setup, n: int = 2) -> int:
    """``n`` unreadable inputs (each logged as a dead letter), then a checkpoint; its size."""
    before = s.store.size()

    async def send() -> None:
        producer = s.gw.admin.producer()
        await producer.start()
        try:
            for i in range(n):
                await producer.send_and_wait(input_topic("MNG01"), f"junk {before} {i}".encode())
        finally:
            await producer.stop()

    asyncio.run(send())
    deadline = time.monotonic() + WAIT_S
    while s.store.size() < before + n:
        s.gw.worker.check_alive()
        assert time.monotonic() < deadline, "the dead letters were not logged"
        time.sleep(0.2)
    kafka = clients_for(s.gw.lc, "checkpoint")
    note = asyncio.run(request_checkpoint(kafka, s.gw.lc.load_mac_key(), min_size=before + n))
    return int(note.split("\n")[1])


def _wait_cosigned(s: Setup, w: WitnessProcess, size: int) -> None:
    deadline = time.monotonic() + WAIT_S
    while (s.store.witness_size(w.name) or 0) < size:
        s.gw.worker.check_alive()
        assert time.monotonic() < deadline, f"{w.short} did not cosign {size}:\n{_log(s)[-3000:]}"
        time.sleep(0.2)


def _log(s: Setup) -> str:
    return (s.root / "worker.log").read_text(encoding="utf-8", errors="replace")


def _restart(w: WitnessProcess, state: Path | None = None) -> None:
    w.stop()
    if state is not None:  # an older copy of its state file
        for suffix in ("-wal", "-shm"):
            (w.root / f"state.db{suffix}").unlink(missing_ok=True)
        shutil.copy(state, w.root / "state.db")
    w.start()


def test_checkpoints_are_published_cosigned_by_both_witnesses(setup: Setup) -> None:
    s = setup
    size = _grow_and_checkpoint(s)
    for w in (s.jp, s.mn):
        _wait_cosigned(s, w, size)
    served = for_readers(s.store, s.keys, 2)
    assert served is not None and served.size == size
    assert {c.name for c in require_cosignatures(served.note, s.keys, 2)} == {
        s.jp.name,
        s.mn.name,
    }
    # the bundle export carries the cosignatures, and both pinned keys accept it
    bundle = s.root / "bundle"
    cfg = str(s.gw.world.config_path)
    exported = _cli("audit", "export", "--config", cfg, str(bundle))
    assert exported.returncode == 0, exported.stderr
    keys = [a for w in (s.jp, s.mn) for a in ("--witness-key", str(w.vkey_file))]
    verified = _cli("verify", str(bundle), *keys, "--min-witnesses", "2")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "OK: cosigned by 2 pinned witnesses" in verified.stdout


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "gateway", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def test_a_restarted_witness_goes_on_and_a_restored_one_is_answered_from_its_409(
    setup: Setup,
) -> None:
    s = setup
    _restart(s.jp)  # with its state: the next submission is proved from the size it holds
    held = s.store.witness_size(s.jp.name)
    old_state = s.root / "jp-state-copy.db"
    shutil.copy(s.jp.root / "state.db", old_state)  # stopped cleanly: the WAL is checkpointed
    size = _grow_and_checkpoint(s)
    _wait_cosigned(s, s.jp, size)
    _restart(s.jp, old_state)  # its state as it was a checkpoint ago
    newer = _grow_and_checkpoint(s)
    _wait_cosigned(s, s.jp, newer)
    _wait_cosigned(s, s.mn, newer)
    # the 409 named the size of the old state; the collector proved from there
    said = f"witness {s.jp.name}: the witness last cosigned size {held}; proving {newer} from"
    assert said in _log(s)


def test_a_witness_holding_a_fork_is_a_discrepancy_and_an_alert(setup: Setup) -> None:
    s = setup
    base = _grow_and_checkpoint(s)
    _wait_cosigned(s, s.mn, base)
    _wait_cosigned(s, s.jp, base)
    # A compromised operator shows Mongolia's witness another history: the real first
    # ``base`` entries, then one of its own, signed with the log key.
    hashes = s.store.leaf_hashes(0, base) + [leaf_hash(b'{"forged":true}')]
    forked = Checkpoint(LOG_ORIGIN, base + 1, root_from_leaf_hashes(hashes))
    body = add_checkpoint_body(base, consistency_proof(base, hashes), s.key.sign(forked.to_text()))
    tls = client_tls(str(s.root / "pki" / "ca.pem"))
    answer = httpx.post(f"{s.mn.url}/add-checkpoint", content=body, verify=tls, timeout=10)
    assert answer.status_code == 200, answer.text  # the witness cannot tell yet
    newer = _grow_and_checkpoint(s, 3)  # larger than the fork: proved from it, the proof fails
    _wait_cosigned(s, s.jp, newer)
    deadline = time.monotonic() + WAIT_S
    while "ALERT A6-ALERT-006" not in _log(s):
        assert time.monotonic() < deadline, _log(s)[-3000:]
        time.sleep(0.2)
    found = _wait_discrepancy(s)
    assert found["code"] == "WIT-001" and found["found_by"] == "witness"
    assert found["detail"]["witness"] == s.mn.name and found["detail"]["size"] == newer
    # K = 2: readers keep getting the last checkpoint both witnesses cosigned
    assert s.store.witness_size(s.mn.name) == base
    api = AuditAPI(s.store, [s.key.verifier()], witnesses=s.keys, quorum=2)
    assert api.checkpoint()[0].size == base
    _verify_api(s, base)
    one = AuditAPI(s.store, [s.key.verifier()], witnesses=s.keys, quorum=1)
    assert one.checkpoint()[0].size == newer


def _wait_discrepancy(s: Setup) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while True:
        for raw in s.store.entries():
            entry = json.loads(raw)
            if entry["entry_type"] == "discrepancy" and entry["discrepancy"]["code"] == "WIT-001":
                return dict(entry["discrepancy"])
        assert time.monotonic() < deadline, "no WIT-001 discrepancy was logged"
        time.sleep(0.5)


def _verify_api(s: Setup, size: int) -> None:
    """``a6gw api`` (a real process) serves the checkpoint both witnesses cosigned, and
    ``a6gw verify --api`` with both witnesses pinned accepts it."""
    cfg = s.gw.world.config_path
    port = s.gw.lc.config.api.port
    log = open(s.root / "api.log", "ab")  # noqa: SIM115 - the child owns it
    cmd = [sys.executable, "-m", "gateway", "api", "--config", str(cfg), "--read-only"]
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    pki = s.root / "pki"
    (s.root / "log.vkey").write_text(s.key.public_vkey() + "\n")
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (s.root / "api.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the API did not listen"
                time.sleep(0.2)
        keys = [a for w in (s.jp, s.mn) for a in ("--witness-key", str(w.vkey_file))]
        verified = _cli(
            "verify", "--api", f"https://127.0.0.1:{port}", "--vkey", str(s.root / "log.vkey"),
            "--ca", str(pki / "ca.pem"), "--cert", str(pki / "auditor.pem"),
            "--key", str(pki / "auditor.key"), "--save", str(s.root / "api.checkpoint"),
            *keys, "--min-witnesses", "2",
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "OK: cosigned by 2 pinned witnesses" in verified.stdout
        assert f"OK: {size} entries" in verified.stdout
    finally:
        proc.terminate()
        proc.wait(15)
