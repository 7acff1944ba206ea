"""The log a report reads: a published checkpoint of a real SQLite store, or a verified bundle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.audit.bundle import ENTRIES_FILE
from gateway.audit.export import export_bundle
from gateway.audit.note import LogKey
from gateway.audit.store import AuditStore
from gateway.config import PartyConfig
from gateway.core.canonical import canonical_bytes
from gateway.core.settings_log import PartySettings
from gateway.errors import GatewayError
from gateway.services.report_log import (
    from_bundle,
    from_store,
    require_settings,
    settings_for,
)
from tests.unit.reportlog import ORIGIN, party_settings, sign_checkpoint

KEY = LogKey.generate(ORIGIN)
JPN_CONFIG = PartyConfig(code="JPN", name="Japan", ndc_period=(2021, 2030), ca_method="budget")
MNG_CONFIG = PartyConfig(code="MNG", name="Mongolia")


def _entry(n: int) -> dict[str, object]:
    return {"entry_type": "decision", "entry_id": f"ev-{n}", "n": n}


def _append(store: AuditStore, *entries: dict[str, object]) -> None:
    store.append([(str(e["entry_id"]), canonical_bytes(e)) for e in entries])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[AuditStore]:
    """Two checkpoints (sizes 2 and 4) and one entry after the last."""
    s = AuditStore(tmp_path / "audit.sqlite")
    _append(s, _entry(0), party_settings("JPN", name="Japan"))
    sign_checkpoint(s, KEY)
    _append(s, _entry(2), _entry(3))
    sign_checkpoint(s, KEY)
    _append(s, _entry(4))
    yield s
    s.close()


def test_the_latest_checkpoint_and_only_the_entries_below_it(store: AuditStore) -> None:
    log = from_store(store, [KEY.verifier()])
    assert (log.origin, log.size, log.root) == (ORIGIN, 4, store.root(4).hex())
    assert [e["entry_id"] for e in log.entries][-1] == "ev-3"  # not ev-4, appended after
    earlier = from_store(store, [KEY.verifier()], 2)
    assert (earlier.size, earlier.root) == (2, store.root(2).hex())
    assert len(earlier.raw) == 2 and earlier.parties["JPN"].name == "Japan"
    stamp = earlier.stamp("log")
    assert stamp.to_dict() == {
        "checkpoint": {"origin": ORIGIN, "size": 2, "root": store.root(2).hex()},
        "settings": "log",
    }


@pytest.mark.parametrize("size", [0, 1, 3, 5, -1])
def test_a_size_no_checkpoint_was_published_at_is_rpt_size(store: AuditStore, size: int) -> None:
    with pytest.raises(GatewayError) as exc:
        from_store(store, [KEY.verifier()], size)
    assert exc.value.code == "RPT-SIZE" and "2, 4" in str(exc.value)


def test_no_checkpoint_and_a_foreign_key_are_refused(tmp_path: Path, store: AuditStore) -> None:
    empty = AuditStore(tmp_path / "empty.sqlite")
    _append(empty, _entry(0))
    with pytest.raises(GatewayError) as exc:
        from_store(empty, [KEY.verifier()])
    empty.close()
    assert exc.value.code == "AUD-NOT-FOUND"
    with pytest.raises(GatewayError) as exc:
        from_store(store, [LogKey.generate(ORIGIN).verifier()])
    assert exc.value.code == "AUD-CHECKPOINT"


def test_settings_from_the_log_else_the_config(store: AuditStore) -> None:
    log = from_store(store, [KEY.verifier()])
    configured = {"JPN": JPN_CONFIG, "MNG": MNG_CONFIG}
    jpn, source = require_settings(log, "JPN", configured)
    assert source == "log" and jpn == PartySettings("JPN", "Japan", (2021, 2030))
    assert settings_for(log, "MNG", configured) == (
        PartySettings("MNG", "Mongolia", None),
        "config",
    )
    assert settings_for(log, "KHM", configured) is None
    assert settings_for(log, "MNG", None) is None  # a bundle: no config to fall back on
    with pytest.raises(GatewayError) as exc:
        require_settings(log, "MNG", None)
    assert exc.value.code == "RPT-SETTINGS" and "the bundle" in str(exc.value)


def _bundle(store: AuditStore, directory: Path) -> Path:
    latest = store.latest_checkpoint()
    assert latest is not None
    export_bundle(directory, store, latest.note, [KEY.verifier()])
    return directory


def test_a_verified_bundle_reads_as_the_store_at_its_checkpoint(
    tmp_path: Path, store: AuditStore
) -> None:
    directory = _bundle(store, tmp_path / "bundle")
    pinned = KEY.verifier().to_vkey()
    log = from_bundle(directory, trusted_vkey=pinned)
    at = from_store(store, [KEY.verifier()])
    assert (log.origin, log.size, log.root, list(log.raw)) == (
        at.origin,
        at.size,
        at.root,
        list(at.raw),
    )
    assert from_bundle(directory, trusted_vkey=None, size=4).size == 4
    with pytest.raises(GatewayError) as exc:
        from_bundle(directory, trusted_vkey=pinned, size=2)  # it carries size 4 only
    assert exc.value.code == "RPT-SIZE"


def _bundle_refusal(directory: Path, vkey: str | None = None) -> str:
    with pytest.raises(GatewayError) as exc:
        from_bundle(directory, trusted_vkey=vkey)
    assert exc.value.code == "RPT-BUNDLE"
    return str(exc.value)


def test_an_unverified_or_partial_bundle_is_refused(tmp_path: Path, store: AuditStore) -> None:
    directory = _bundle(store, tmp_path / "bundle")
    other = LogKey.generate(ORIGIN).verifier().to_vkey()
    assert "trusted key" in _bundle_refusal(directory, other)
    lines = (directory / ENTRIES_FILE).read_bytes().split(b"\n")
    edited = json.loads(lines[0]) | {"n": 99}
    lines[0] = json.dumps(edited).encode()
    (directory / ENTRIES_FILE).write_bytes(b"\n".join(lines))
    assert "does not verify" in _bundle_refusal(directory)
    latest = store.latest_checkpoint()
    assert latest is not None
    ranged = tmp_path / "range"
    export_bundle(ranged, store, latest.note, [KEY.verifier()], start=1, end=3)
    assert "range bundle" in _bundle_refusal(ranged)
