"""``a6gw discrepancy``: tables and JSON from the config's store, and commands sent through
the worker's own step to their outcome (a channel that applies them as the worker does)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.cli.discrepancy import list_text, now_utc, runs_text, show_text, table
from gateway.cli.main import main
from gateway.config import load_config
from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes
from gateway.core.ingest import RawInput
from gateway.core.oversight import command_envelope, oversight_step
from gateway.core.signing import private_key_pem, public_key_b64
from gateway.core.topics import AUDIT_TOPIC, COMMANDS_TOPIC
from gateway.demo.world import write_world
from gateway.services import discrepancies as dq
from gateway.services.commands import Channel, outcome, send_command, usage_problem, wait_for
from schemas.entries import DiscrepancyEntry, parse_entry
from tests.unit.dsclog import Log, finding, totals_short

OPS = Ed25519PrivateKey.generate()


@dataclass
class World:
    config: Path
    key: Path
    log: Log
    delivery: dsc.Discrepancy  # open
    decision: dsc.Discrepancy  # acknowledged
    run_id: str  # both findings resolved, one by hand


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    """A config whose trust file has one operator key, and a store with three findings and
    a run (no broker: nothing here publishes)."""
    write_world(tmp_path, bootstrap="127.0.0.1:9")
    key = {
        "key_id": "ops-9-k",
        "public_key": public_key_b64(OPS.public_key()),
        "principal": "ops-9",
        "role": "operator",
        "valid_from": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
    }
    (tmp_path / "trust.yaml").write_text(yaml.safe_dump({"keys": [key]}), encoding="utf-8")
    (tmp_path / "ops.pem").write_bytes(private_key_pem(OPS))
    lc = load_config(tmp_path / "config.yaml")
    log = Log(Path(lc.audit_store()))
    delivery = finding("DLV-001", "delivery", "IDN01", 1)
    decision = finding("BLK-003", "decision", "MNG01", 2)
    log.open(delivery)
    log.open(decision)
    log.command(decision.id, "acknowledge", by="ops-9")
    run_id = log.run(totals_short())
    first, second = dq.load_runs(log.store)[0].discrepancy_ids
    log.command(first, "resolve-by-hand", by="ops-9", note="exported", fix="JP-1 holds 51-100")
    log.command(second, "resolve", by="ops-9", note="the same difference")
    yield World(tmp_path / "config.yaml", tmp_path / "ops.pem", log, delivery, decision, run_id)
    log.store.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_prints_a_table_and_filters(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "discrepancy", "list", "--config", str(world.config))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "status", "code"]
    assert len(lines) == 5 and world.delivery.id in lines[1] and world.decision.id in lines[2]
    assert "resolved (by hand)" in out
    code, out, _ = run(
        capsys, "discrepancy", "list", "--config", str(world.config), "--status", "open"
    )
    assert code == 0 and len(out.splitlines()) == 2 and world.delivery.id in out
    code, out, _ = run(
        capsys, "discrepancy", "list", "--config", str(world.config), "--registry", "MNG01",
        "--json",
    )  # fmt: skip
    (only,) = json.loads(out)
    assert only["discrepancy_id"] == world.decision.id and only["status"] == "acknowledged"
    assert only["owner"] == "ops-9" and only["latest_index"] == 2


def test_show_and_runs(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "discrepancy", "show", world.decision.id, "--config", str(world.config)
    )
    assert code == 0
    assert "BLK-003 (error), acknowledged, owned by ops-9" in out
    assert "#1 " in out and "#2 " in out and "by ops-9" in out
    code, out, _ = run(
        capsys, "discrepancy", "show", world.decision.id, "--config", str(world.config), "--json"
    )
    doc = json.loads(out)
    assert [e["outcome"] for e in doc["entries"]] == ["open", "acknowledged"]
    code, _, err = run(capsys, "discrepancy", "show", "dsc-nope", "--config", str(world.config))
    assert code == 2 and "no discrepancy" in err
    code, out, _ = run(capsys, "discrepancy", "runs", "--config", str(world.config))
    assert code == 0 and world.run_id in out
    assert "totals-inconsistent" in out and "completed-with-manual-intervention" in out
    assert "2/2 resolved" in out
    code, out, _ = run(capsys, "discrepancy", "runs", "--config", str(world.config), "--json")
    (doc,) = json.loads(out)
    assert doc["status"] == "completed-with-manual-intervention"
    assert doc["report"]["status"] == "totals-inconsistent"


def worker_channel(world: World) -> Channel:
    """Applies each command with the worker's step and logs its entry, as the worker does."""
    store, trust = world.log.store, load_config(world.config).load_trust()
    offset = iter(range(1000))

    def send(body: bytes) -> None:
        d_id = json.loads(body)["data"]["discrepancy_id"]
        raw = RawInput(
            COMMANDS_TOPIC, 0, next(offset), d_id.encode(), body, int(time.time() * 1000)
        )
        known = {i: dsc.record(t.discrepancy) for i, t in dq.load_discrepancies(store).items()}
        result = oversight_step(raw, known, trust, {}, max_bytes=64 * 1024)
        store.append([(o.key, o.value) for o in result.outputs if o.topic == AUDIT_TOPIC])

    def lookup(entry_id: str) -> bytes | None:
        index = store.index_of(entry_id)
        return None if index is None else store.entry(index)

    return Channel(send, lookup, lambda: None)


def signed(d_id: str, action: dsc.Action, **kw: str) -> bytes:
    return command_envelope(
        OPS, key_id="ops-9-k", principal="ops-9", discrepancy_id=d_id, action=action,
        time=now_utc(), **kw,
    )  # fmt: skip


def test_commands_reach_their_outcome_and_exit_codes(world: World) -> None:
    said: list[str] = []
    channel = worker_channel(world)
    d_id = world.delivery.id
    assert send_command(signed(d_id, "acknowledge"), channel, 5, said.append) == 0
    assert said[-1] == "acknowledged"
    assert send_command(signed(d_id, "acknowledge", note="again"), channel, 5, said.append) == 1
    assert said[-1].startswith("refused REC-102: cannot acknowledge")
    body = signed(d_id, "resolve-by-hand", note="re-sent", correction="IDN01 message re-sent")
    assert send_command(body, channel, 5, said.append) == 0
    assert said[-1] == "resolved by hand"
    assert dq.load_discrepancies(world.log.store)[d_id].discrepancy.status == "resolved"


def test_no_outcome_in_time_exits_3_and_no_wait_exits_0(world: World) -> None:
    said: list[str] = []
    nowhere = Channel(lambda body: None, lambda entry_id: None, lambda: None)
    body = signed(world.delivery.id, "acknowledge")
    assert send_command(body, nowhere, 0.01, said.append) == 3
    assert "not in the log yet" in said[-1]
    assert send_command(body, nowhere, 0, said.append) == 0


def test_the_direct_path_refuses_before_publishing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--config", str(world.config), "--signing-key", str(world.key), "--wait", "0"]
    unknown = dsc.discrepancy_id("delivery", "never")
    code, out, _ = run(
        capsys, "discrepancy", "acknowledge", unknown, *base, "--key-id", "ops-9-k", "--as", "ops-9"
    )
    assert code == 1 and out.startswith("refused REC-101")
    code, out, _ = run(
        capsys, "discrepancy", "acknowledge", world.delivery.id, *base, "--key-id", "ops-7-k",
        "--as", "ops-7",
    )  # fmt: skip
    assert code == 1 and out.startswith("refused MSG-002")


def test_usage_errors_exit_2(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--config", str(world.config), "--key-id", "ops-9-k", "--as", "ops-9"]
    d_id = world.delivery.id
    key = ["--signing-key", str(world.key)]
    code, _, err = run(capsys, "discrepancy", "resolve", d_id, *base, *key)
    assert code == 2 and "--note" in err
    code, _, err = run(capsys, "discrepancy", "resolve-by-hand", d_id, *base, *key, "--note", "x")
    assert code == 2 and "--correction" in err
    code, _, err = run(
        capsys, "discrepancy", "acknowledge", d_id, *base, *key, "--api", "https://x"
    )
    assert code == 2 and "--ca" in err
    code, _, err = run(
        capsys, "discrepancy", "acknowledge", d_id, *base, "--signing-key", str(world.key) + ".no"
    )
    assert code == 2 and "cannot read" in err


def test_wait_for_polls_until_the_entry_or_the_deadline() -> None:
    now = [0.0]
    seen = iter([None, None, b"entry"])
    got = wait_for(
        lambda _id: next(seen), "dsx-1", 10, poll_s=1, clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )  # fmt: skip
    assert got == b"entry" and now[0] == 2
    now[0] = 0.0
    assert (
        wait_for(
            lambda _id: None,
            "dsx-1",
            3,
            poll_s=1,
            clock=lambda: now[0],
            sleep=lambda s: now.__setitem__(0, now[0] + s),
        )  # fmt: skip
        is None
    )
    assert now[0] == 3


def logged(entry: dict[str, Any]) -> DiscrepancyEntry:
    """The model of a command's entry, as read back from the log."""
    read = parse_entry(canonical_bytes(entry))
    assert isinstance(read, DiscrepancyEntry)
    return read


def test_pure_helpers() -> None:
    book = Log()
    found = finding("DLV-001", "delivery", "IDN01", 1)
    book.open(found)
    acked = book.command(found.id, "acknowledge", by="ops-9")
    assert outcome(logged(acked)) == ("acknowledged", 0)
    refused = book.command(found.id, "resolve", by="ops-9")  # no note
    message = refused["results"][0]["message"]
    assert outcome(logged(refused)) == (f"refused REC-103: {message}", 1)
    by_hand = book.command(found.id, "resolve-by-hand", note="re-sent", fix="IDN01 re-sent")
    assert outcome(logged(by_hand)) == ("resolved by hand", 0)
    book.store.close()
    assert usage_problem("acknowledge", "", "") is None
    assert usage_problem("resolve", " ", "") == "resolve needs --note: how it was resolved"
    assert usage_problem("resolve-by-hand", "n", "c") is None
    assert table(("a", "bb"), [("xxx", "y")]) == "a    bb\nxxx  y"
    assert list_text([]) == "no discrepancies" and runs_text([], {}) == "no reconciliation runs"
    log = Log()
    d = finding("DLV-001", "delivery", "IDN01", 1)
    log.open(d)
    log.command(d.id, "acknowledge", by="ops-9")
    log.command(d.id, "acknowledge", by="ops-8")
    text = show_text(dq.load_discrepancies(log.store)[d.id])
    assert "blocks: CA0001:MNG01:1-10" in text
    assert "refused" in text and "REC-102: cannot acknowledge" in text
    log.store.close()
