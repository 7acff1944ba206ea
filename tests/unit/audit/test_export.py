"""Bundles cut from a store at a published checkpoint: whole, or a range with proofs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.audit.bundle import ENTRIES_FILE, PROOFS_FILE, RANGE_FILE, verify_bundle
from gateway.audit.export import export_bundle
from gateway.audit.note import LogKey
from gateway.audit.sequencer import Sequencer
from gateway.audit.store import AuditStore
from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import AuditError, VerificationError

ORIGIN = "a6gw.test/audit"


@pytest.fixture
def key() -> LogKey:
    return LogKey.generate("a6gw.test/log")


@pytest.fixture
def seq(tmp_path: Path, key: LogKey) -> Sequencer:
    s = Sequencer(AuditStore(tmp_path / "audit.sqlite"), key, ORIGIN)
    s.take_over("test", None)
    s.append([(f"ev-{i}", f'{{"n":{i}}}'.encode()) for i in range(40)], (AUDIT_TOPIC, 0, 39))
    return s


def test_a_whole_log_bundle_verifies(tmp_path: Path, seq: Sequencer, key: LogKey) -> None:
    checkpoint, note = seq.checkpoint()
    seq.append([("ev-late", b'{"n":"late"}')], (AUDIT_TOPIC, 0, 40))  # after the checkpoint
    out = tmp_path / "bundle"
    export_bundle(out, seq.store, note, [key.verifier()])
    report = verify_bundle(out, trusted_vkey=key.public_vkey())
    assert (report.size, report.root) == (40, checkpoint.root.hex())  # cut at the checkpoint


def test_a_range_bundle_verifies_entry_by_entry(
    tmp_path: Path, seq: Sequencer, key: LogKey
) -> None:
    _cp, note = seq.checkpoint()
    out = tmp_path / "range"
    export_bundle(out, seq.store, note, [key.verifier()], start=10, end=17)
    assert json.loads((out / RANGE_FILE).read_text()) == {"start": 10, "end": 17, "size": 40}
    seen: list[tuple[int, int]] = []
    verify_bundle(out, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (7, 7)
    # one byte of an entry
    lines = (out / ENTRIES_FILE).read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"13", b"14")
    (out / ENTRIES_FILE).write_bytes(b"\n".join(lines))
    with pytest.raises(VerificationError, match="entry 13: .*root"):
        verify_bundle(out)


def test_a_range_with_a_doctored_proof_fails(tmp_path: Path, seq: Sequencer, key: LogKey) -> None:
    _cp, note = seq.checkpoint()
    out = tmp_path / "range"
    export_bundle(out, seq.store, note, [key.verifier()], start=0, end=3)
    rows = (out / PROOFS_FILE).read_text().splitlines()
    doc = json.loads(rows[1])
    doc["proof"] = doc["proof"][:-1]
    rows[1] = json.dumps(doc)
    (out / PROOFS_FILE).write_text("\n".join(rows) + "\n")
    with pytest.raises(VerificationError, match="entry 1: "):
        verify_bundle(out)


def test_after_a_key_rotation_old_checkpoints_still_verify(
    tmp_path: Path, seq: Sequencer, key: LogKey
) -> None:
    _old_cp, old_note = seq.checkpoint()
    (tmp_path / "old.checkpoint").write_text(old_note)
    new_key = LogKey.generate("a6gw.test/log-2027")
    rotated = Sequencer(seq.store, new_key, ORIGIN, previous=[key.verifier()])
    rotated.take_over("test", old_note)
    rotated.append([("ev-new", b'{"n":"new"}')], (AUDIT_TOPIC, 0, 40))
    _cp, note = rotated.checkpoint()
    out = tmp_path / "bundle"
    export_bundle(out, seq.store, note, rotated.verifiers)
    verify_bundle(out, since=tmp_path / "old.checkpoint", trusted_vkey=new_key.public_vkey())


def test_export_refuses_a_store_that_does_not_hold_the_checkpoint(
    tmp_path: Path, seq: Sequencer, key: LogKey
) -> None:
    _cp, note = seq.checkpoint()
    other = AuditStore(tmp_path / "other.sqlite")
    other.append([("ev-0", b"something else")])
    with pytest.raises(AuditError) as err:
        export_bundle(tmp_path / "b", other, note, [key.verifier()])
    assert err.value.code == "AUD-FORK"
    with pytest.raises(AuditError) as err:
        export_bundle(tmp_path / "b", seq.store, note, [key.verifier()], start=5, end=41)
    assert err.value.code == "AUD-RANGE"
    stranger = LogKey.generate("a6gw.test/other")
    with pytest.raises(AuditError) as err:
        export_bundle(tmp_path / "b", seq.store, note, [stranger.verifier()])
    assert err.value.code == "AUD-CHECKPOINT"
