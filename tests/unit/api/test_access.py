"""The API's clients from the config (roles, Party scopes), what an entry touches, and where
the ingress keeps its nonces."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from gateway.api.access import Grant, Scope, access_of, entry_touches
from gateway.config import ApiSection, load_config
from gateway.core import discrepancy as dsc
from gateway.core.blocks import Block
from gateway.core.canonical import canonical_bytes
from gateway.core.decision import decision_entry, reconciliation_entry
from gateway.core.model import Evaluation, Event
from gateway.core.reconcile import reconcile
from gateway.demo.world import write_world
from gateway.errors import GatewayError
from gateway.ingress import nonce_store_at
from tests.unit.dsclog import T0, finding, holding
from tests.unit.schemas.entry_cases import ISSUANCE

DIGEST = hashlib.sha256(b"t").hexdigest()


def test_clients_and_tokens_get_their_roles_and_scopes() -> None:
    section = ApiSection.model_validate(
        {
            "clients": [
                "auditor",
                {"name": "ops", "role": "operator"},
                {"name": "m", "party": "MNG"},
            ],
            "token_sha256": [DIGEST],
            "tokens": [{"sha256": "a" * 64, "role": "operator", "party": "JPN"}],
        }
    )
    access = access_of(section)
    assert access.clients == {
        "auditor": Grant(), "ops": Grant("operator"), "m": Grant("auditor", "MNG"),
    }  # fmt: skip
    assert access.tokens == {DIGEST: Grant(), "a" * 64: Grant("operator", "JPN")}
    with pytest.raises(ValueError):
        ApiSection.model_validate({"clients": [{"name": "x", "role": "root"}]})


def decision(source: str, *origins: str) -> bytes:
    """The stored bytes of ``source``'s issuance's decision, with a block of each origin."""
    event = Event(
        source=source,
        id="e-1",
        type="a6gw.issuance.v1",
        name="issuance",
        kind="proposal",
        time="2026-05-04T03:02:00Z",
        payload=ISSUANCE,
        sha256=DIGEST,
        signer_principal=f"User:{source.lower()}",
        signer_role="registry",
    )
    blocks = [Block("CA0001", o, n, n, 2026, "JCM", source, "a1") for n, o in enumerate(origins)]
    at = "2026-05-04T03:02:01.123Z"
    return canonical_bytes(
        decision_entry(event, Evaluation("accepted"), decided_at=at, blocks_after=blocks)
    )


def test_what_an_entry_touches() -> None:
    names = frozenset({"JPN", "JPN01"})
    assert entry_touches(decision("JPN01"), names)
    run = reconcile([holding("JP-1", 1, 100)], [holding("JP-1", 1, 50)])
    assert entry_touches(canonical_bytes(reconciliation_entry("JPN01", run, T0)), names)
    assert entry_touches(decision("MNG01", "MNG01", "JPN01"), names)
    shared = replace(finding("A6-015", "decision", "MNG01", 1), registries=("MNG01", "JPN01"))
    assert entry_touches(canonical_bytes(dsc.opened_entry(shared)), names)
    assert not entry_touches(decision("MNG01", "MNG01"), names)
    assert not entry_touches(b"[1]", names) and not entry_touches(b"{", names)
    # an object the entry models refuse names no one
    assert not entry_touches(json.dumps({"input": {"source": "JPN01"}}).encode(), names)
    scope = Scope.of(Grant("auditor", "JPN"), {"JPN": ("JPN01",)})
    assert scope.sees_registries(["JPN01"]) and not scope.sees_registries(["MNG01"])
    with pytest.raises(GatewayError) as err:
        scope.check(False, "entry 1")
    assert err.value.code == "API-SCOPE"
    assert Scope.of(Grant(), {}).sees_entry(b"{}")


def test_the_nonce_store_follows_the_audit_store_unless_configured(tmp_path: Path) -> None:
    world = write_world(tmp_path / "gw", bootstrap="127.0.0.1:1")
    lc = load_config(world.config_path)
    assert nonce_store_at(lc) == str(lc.data_dir / "ingress-nonces.sqlite")
    doc = yaml.safe_load(world.config_path.read_text())
    doc["audit"] = {"store": "postgresql://a6gw@db/audit"}
    world.config_path.write_text(yaml.safe_dump(doc))
    assert nonce_store_at(load_config(world.config_path)) == "postgresql://a6gw@db/audit"
    doc["connectors"] = {"nonce_store": "state/nonces.sqlite"}
    world.config_path.write_text(yaml.safe_dump(doc))
    assert nonce_store_at(load_config(world.config_path)) == str(
        world.config_path.parent / "state/nonces.sqlite"
    )
