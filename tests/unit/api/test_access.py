"""The API's clients from the config (roles, Party scopes), what an entry touches, and where
the ingress keeps its nonces."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from gateway.api.access import Grant, Scope, access_of, entry_touches
from gateway.config import ApiSection, load_config
from gateway.demo.world import write_world
from gateway.errors import GatewayError
from gateway.ingress import nonce_store_at

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


def entry(**fields: object) -> bytes:
    return json.dumps({"entry_type": "decision", **fields}).encode()


def test_what_an_entry_touches() -> None:
    names = frozenset({"JPN", "JPN01"})
    assert entry_touches(entry(input={"source": "JPN01"}), names)
    assert entry_touches(entry(input={"registry": "JPN01"}), names)
    assert entry_touches(entry(blocks=[{"origin": "MNG01"}, {"origin": "JPN01"}]), names)
    assert entry_touches(entry(discrepancy={"registries": ["MNG01", "JPN01"]}), names)
    assert entry_touches(entry(party="JPN"), names)
    assert not entry_touches(entry(input={"source": "MNG01"}, blocks=[{"origin": "MNG01"}]), names)
    assert not entry_touches(b"[1]", names) and not entry_touches(b"{", names)
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
