"""What release 1 wrote still opens: its audit store, a worker snapshot, a changelog batch
record (``tests/fixtures/release-1/``, made by release 1's code; see its README). Every later
release keeps these tests: a format change bumps its version and keeps reading this one.
A store or record of a version newer than this release's is refused by name."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.note import open_checkpoint, parse_vkey
from gateway.audit.restore import check_checkpoints
from gateway.audit.store import SCHEMA_VERSION, AuditStore
from gateway.core import mac
from gateway.errors import AuditError
from gateway.services.entries import read_entry
from gateway.worker import batched, snapshots

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "release-1"


def _expected() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
    return doc


def _secret() -> bytes:
    return bytes.fromhex((FIXTURES / "mac.key").read_text(encoding="ascii").strip())


def _store_copy(tmp_path: Path) -> Path:
    """The fixture store, copied: opening a store marks its version (and WAL files)."""
    target = tmp_path / "audit.sqlite"
    shutil.copyfile(FIXTURES / "audit.sqlite", target)
    return target


def test_the_release_1_audit_store_opens_with_its_entries_tree_and_checkpoint(
    tmp_path: Path,
) -> None:
    want = _expected()
    path = _store_copy(tmp_path)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0  # release 1: unmarked
    store = AuditStore(path)
    assert store.size() == want["size"]
    bodies = list(store.entries())
    entries = [read_entry(b) for b in bodies]
    assert all(e is not None for e in entries), "an entry of release 1 no longer reads"
    assert [e.entry_id for e in entries if e is not None] == want["entry_ids"]
    assert {json.loads(b)["entry_version"] for b in bodies} == {1}
    assert all(json.loads(b)["logged_at"] for b in bodies)
    assert store.root().hex() == want["root"]
    vkey = parse_vkey((FIXTURES / "log.vkey").read_text(encoding="utf-8").strip())
    note = (FIXTURES / "checkpoint").read_text(encoding="utf-8")
    checkpoint = open_checkpoint(note, vkey)
    assert (checkpoint.size, checkpoint.root.hex()) == (want["size"], want["root"])
    latest = store.latest_checkpoint()
    assert latest is not None and latest.note == note
    assert all(c.ok for c in check_checkpoints(store, [(0, note)], [vkey], want["origin"]))
    # proofs come from the stored nodes of release 1
    assert len(store.inclusion_proof(3)) > 0 and store.consistency_proof(10) != []
    store.close()
    with sqlite3.connect(path) as db:  # opened by this release: marked with its layout
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_store_of_a_newer_layout_is_refused_by_name(tmp_path: Path) -> None:
    path = _store_copy(tmp_path)
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(AuditError, match="written by a newer release") as exc:
        AuditStore(path)
    assert exc.value.code == "AUD-VERSION"


def test_the_release_1_worker_snapshot_opens() -> None:
    want = _expected()
    snap = snapshots.parse(_secret(), (FIXTURES / "worker.snapshot").read_bytes())
    assert want["snapshot_format"] == snapshots.FORMAT == "a6gw.worker-snapshot.v1"
    assert {str(p): v for p, v in snap.positions.items()} == want["snapshot_positions"]
    sizes = {name: len(t) for name, t in sorted(snap.tables.items())}
    assert sizes == want["snapshot_table_sizes"]
    assert sizes["blocks"] > 0 and sizes["accounts"] > 0


def test_a_snapshot_of_a_newer_format_is_named_then_ignored(tmp_path: Path) -> None:
    secret = _secret()
    data = (FIXTURES / "worker.snapshot").read_bytes()[: -mac.TAG_BYTES]
    newer = data.replace(b"a6gw.worker-snapshot.v1", b"a6gw.worker-snapshot.v2", 1)
    with pytest.raises(ValueError, match="v2 is newer than this release reads"):
        snapshots.parse(secret, snapshots.seal(secret, newer))
    path = tmp_path / snapshots.FILE_NAME
    path.write_bytes(snapshots.seal(secret, newer))
    assert snapshots.SnapshotFile(path, secret).load() is None  # the state is rebuilt


def test_the_release_1_changelog_batch_record_opens() -> None:
    want = _expected()
    doc = json.loads((FIXTURES / "batch-record.json").read_text(encoding="utf-8"))
    key, value = bytes.fromhex(doc["key"]), bytes.fromhex(doc["value"])
    assert batched.is_batch(key)
    rows = batched.unpack(_secret(), doc["topic"], doc["partition"], key, value)
    assert rows is not None
    assert [k.decode() for k, _ in rows] == want["batch_row_keys"]
    decisions = [mac.open_value(_secret(), v) for _, v in rows]
    assert all(d is not None for d in decisions)
    versions = [json.loads(d)["version"] for d in decisions if d is not None]
    assert versions == want["batch_row_versions"]
