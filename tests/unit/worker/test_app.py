"""The worker's faust app, declared without a broker: its agents' and tables' names name
consumer state (cursors, changelogs), so they may not change when the wiring moves."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.config import LoadedConfig, load_config
from gateway.core import topics
from gateway.demo.world import write_world
from gateway.http.pki import init_pki
from gateway.transport.clients import Credentials, credentials_path
from gateway.worker.app import create_app
from gateway.worker.exits import FINAL, Exit, describe


@pytest.fixture
def lc(tmp_path: Path) -> LoadedConfig:
    """The demo world with IDN01 delivered over HTTPS."""
    pki = tmp_path / "pki"
    init_pki(pki, ("a6gw-gateway", "IDN01"))
    world = write_world(tmp_path / "gw", bootstrap="127.0.0.1:1")
    doc = yaml.safe_load(world.config_path.read_text())
    for reg in doc["registries"]:
        if reg["id"] == "IDN01":
            reg |= {"transport": "https", "endpoint": "https://127.0.0.1:9"}
    doc["connectors"] = {
        "ca_file": str(pki / "ca.pem"),
        "cert_file": str(pki / "a6gw-gateway.pem"),
        "key_file": str(pki / "a6gw-gateway.key"),
    }
    world.config_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    loaded = load_config(world.config_path)
    Credentials("a6gw-demo-worker", "secret").save(credentials_path(loaded, "worker"))
    return loaded


def test_the_app_declares_the_same_agents_tables_and_topics(
    lc: LoadedConfig, tmp_path: Path
) -> None:
    app = create_app(lc, datadir=tmp_path / "worker")
    agents = {name: (sorted(a.channel.topics), a.concurrency) for name, a in app.agents.items()}
    assert agents == {
        "ingest": (sorted(lc.config.input_topics()), 1),
        "ledger": ([topics.LEDGER_TOPIC], 1),
        "discrepancies": (sorted([topics.FINDINGS_TOPIC, topics.COMMANDS_TOPIC]), 1),
        "sequencer": ([topics.AUDIT_TOPIC], 1),
        "deliver-IDN01": ([topics.output_topic("IDN01")], 1),
        "redeliver-IDN01": ([topics.retry_topic("IDN01")], 1),
    }
    # The ledger's state lives in memory, rebuilt from the decisions (each carries its
    # effects): its per-key tables (blocks, transfers, authorizations, jc_decisions,
    # openings, transactions) are gone; accounts, read by every partition, stay global.
    assert list(app.tables) == [
        "inputs",
        "cursors",
        "decisions",
        "accounts",
        "discrepancies",
        topics.parked_table("IDN01"),
    ]
    kinds = {n: type(t).__name__ for n, t in app.tables.items()}
    # The ingest's and the ledger's rows reach their changelogs a batch per record.
    assert {n for n, k in kinds.items() if k == "BatchedTable"} == {"inputs", "decisions"}
    assert kinds["accounts"] == "GlobalTable"
    assert {k for n, k in kinds.items() if n not in ("inputs", "decisions", "accounts")} == {
        "Table"
    }
    # The timeouts, checkpoints, watchdog and ledger-idle (snapshot) timers.
    assert len(app._app_tasks) == 4  # noqa: SLF001


def test_exit_statuses_keep_their_numbers() -> None:
    assert (Exit.OK, Exit.REFUSED, Exit.CRASHED, Exit.STALLED) == (0, 3, 70, 75)
    assert FINAL == {0, 3}
    assert describe(75) == "exit status 75"
    assert describe(-9) == "signal SIGKILL"
