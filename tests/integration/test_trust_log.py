"""Trust and Party settings in the audit log, on the real broker: a worker's first start puts
every key and Party on record; a restart with a revoked key and a changed method appends
exactly those two changes; a restart with nothing changed appends nothing; ``a6gw verify``
passes the exported bundle and fails a forged decision by a key the log does not trust.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig, load_config
from gateway.core.canonical import canonical_bytes
from gateway.demo.run import check, replay
from gateway.demo.stack import Gateway, start_gateway
from gateway.demo.world import PARTIES, SIGNERS
from gateway.transport.clients import KafkaClients, clients_for
from gateway.worker.sequencing import request_checkpoint
from tests.integration.test_worker_e2e import _a6gw, _retirement, _step

pytestmark = [pytest.mark.kafka, pytest.mark.own_broker]  # its worker publishes checkpoints

KINDS = ("trust-key", "party-settings")


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaClients
) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path_factory.mktemp("trustlog"), kafka_admin)
    try:
        yield gw
    finally:
        gw.worker.stop()
        print(gw.worker.log_tail(30))


def recorded(store: AuditStore) -> list[dict[str, Any]]:
    """The trust-key and party-settings entries of the store, in log order."""
    out = []
    for body in store.entries():
        obj = json.loads(body)
        if obj.get("entry_type") in KINDS:
            out.append(obj)
    return out


def wait_recorded(gw: Gateway, count: int, timeout: float = 120.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(found := recorded(gw.store)) < count:
        gw.worker.check_alive()
        assert time.monotonic() < deadline, f"{len(found)} of {count} trust entries logged"
        time.sleep(0.2)
    return found


def settle(lc: LoadedConfig) -> None:
    """Everything put on ``a6.audit.log`` so far is in the store (a checkpoint after it)."""
    asyncio.run(request_checkpoint(clients_for(lc, "checkpoint"), lc.load_mac_key(), 120.0))


def decide(gw: Gateway, lc: LoadedConfig, tag: str) -> None:
    """One retirement from JPN01 (its key stays trusted), rejected: no such account, no
    such units."""
    steps = [
        _step(
            gw.world,
            tag,
            "JPN01",
            "retirement",
            _retirement(f"JPN01-RET-{tag}", 2025, "1", "10"),
            "rejected",
            ("ACC-001", "BLK-003", "JCM-004", "QTY-002"),
        )
    ]
    observed = asyncio.run(replay(lc, steps, gw.store, gw.worker, gw.admin, say=lambda _m: None))
    assert [r.problems for r in check(steps, observed, gw.store)] == [[]]


def edit_yaml(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def restart(gw: Gateway) -> None:
    gw.worker.stop()
    gw.worker.start()


def test_first_start_records_every_key_and_party(gateway: Gateway) -> None:
    found = wait_recorded(gateway, len(SIGNERS) + len(PARTIES))
    keys = [e for e in found if e["entry_type"] == "trust-key"]
    parties = [e for e in found if e["entry_type"] == "party-settings"]
    assert sorted(e["key_id"] for e in keys) == sorted(kid for kid, _role in SIGNERS.values())
    assert {e["change"] for e in keys} == {"registered"}
    assert sorted(e["party"] for e in parties) == sorted(PARTIES)
    jpn = next(e for e in parties if e["party"] == "JPN")
    assert (jpn["ndc_period"], jpn["ca_method"]) == ([2021, 2030], "trajectory")
    assert all(e["entry_id"].startswith("cfg-") for e in parties)
    assert all("logged_at" in e and "recorded_at" in e for e in found)
    decide(gateway, gateway.lc, "trust-before")


def test_a_restart_with_a_revoked_key_and_a_new_method_appends_exactly_those(
    gateway: Gateway,
) -> None:
    before = recorded(gateway.store)
    root = gateway.world.root

    def revoke(doc: dict[str, Any]) -> None:
        next(k for k in doc["keys"] if k["key_id"] == "MNG01-2026")["status"] = "revoked"

    def averaging(doc: dict[str, Any]) -> None:
        party = next(p for p in doc["parties"] if p["code"] == "MNG")
        party["ca_method"], party["ndc_period"] = "averaging", [2030, 2030]

    edit_yaml(root / "trust.yaml", revoke)
    edit_yaml(gateway.world.config_path, averaging)
    restart(gateway)
    found = wait_recorded(gateway, len(before) + 2)
    settle(load_config(gateway.world.config_path))
    new = recorded(gateway.store)[len(before) :]
    assert [(e["entry_type"], e.get("key_id") or e["party"]) for e in new] == [
        ("trust-key", "MNG01-2026"),
        ("party-settings", "MNG"),
    ]
    assert (new[0]["change"], new[0]["status"]) == ("changed", "revoked")
    assert (new[1]["ca_method"], new[1]["ndc_period"]) == ("averaging", [2030, 2030])
    assert found[: len(before)] == before


def test_a_restart_with_nothing_changed_appends_nothing(gateway: Gateway) -> None:
    lc = load_config(gateway.world.config_path)
    before = recorded(gateway.store)
    restart(gateway)
    decide(gateway, lc, "trust-after")  # the worker is up and deciding
    settle(lc)
    assert recorded(gateway.store) == before


def test_the_exported_bundle_verifies_and_a_forged_signer_fails(
    gateway: Gateway, tmp_path: Path
) -> None:
    config = str(gateway.world.config_path)
    lc = load_config(gateway.world.config_path)
    settle(lc)
    vkey = tmp_path / "log.vkey"
    vkey.write_text(lc.load_log_key().public_vkey() + "\n")
    bundle = tmp_path / "bundle"
    assert _a6gw("audit", "export", str(bundle), "--config", config).returncode == 0
    ok = _a6gw("verify", str(bundle), "--vkey", str(vkey))
    assert ok.returncode == 0, ok.stderr
    assert re.search(r"OK: signers: [1-9][0-9]* decisions signed by keys the log", ok.stdout)

    from gateway.audit.bundle import write_bundle

    lines = (bundle / "entries.ndjson").read_bytes().split(b"\n")[:-1]
    decision = json.loads(next(x for x in reversed(lines) if b'"entry_type":"decision"' in x))
    for signer, why in (("MNG01", "key MNG01-2026 is revoked"), ("XXX01", "XXX01 has no key")):
        forged = decision | {"entry_id": "ev-" + "f" * 40}
        forged["input"] = decision["input"] | {"signer": signer, "source": signer}
        out = tmp_path / signer
        key = lc.load_log_key()
        write_bundle(out, [*lines, canonical_bytes(forged)], key, lc.config.gateway.log_origin)
        bad = _a6gw("verify", str(out), "--vkey", str(vkey))
        assert bad.returncode == 1 and "AUD-SIGNER" in bad.stderr and why in bad.stderr
