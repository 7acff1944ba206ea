"""The restore drill's pure parts: the same records give the same log; every published
checkpoint is checked against the entries' bytes."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from gateway.audit.note import Checkpoint, LogKey
from gateway.audit.restore import check_checkpoints, recompute
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.sequencer import Sequencer, stamp_records
from gateway.audit.store import AuditStore
from gateway.core import mac
from gateway.core.audit_records import CHECKPOINT_REQUEST, sort_records
from gateway.core.ingest import RawInput
from gateway.core.topics import AUDIT_TOPIC
from gateway.services.restore import refusal_under

ORIGIN = "a6gw.test/audit"
SECRET = b"k" * 32
T0 = 1_800_000_000_000  # 2027-01-15T08:00:00.000Z


def _record(offset: int, key: bytes, value: bytes, at: int, sealed: bool = True) -> RawInput:
    headers = tuple(mac.headers(SECRET, AUDIT_TOPIC, key, value)) if sealed else ()
    return RawInput(AUDIT_TOPIC, 0, offset, key, value, at, 1, headers)


def _entry(n: int) -> tuple[bytes, bytes]:
    eid = f"ev-{n}"
    body = json.dumps({"entry_id": eid, "entry_type": "decision", "n": n}, sort_keys=True)
    return eid.encode(), body.replace(" ", "").encode()


def _records() -> list[RawInput]:
    out = [_record(i, *_entry(i), T0 + 10 * i) for i in range(6)]
    out.append(_record(6, *_entry(2), T0 + 70))  # a redelivery: skipped
    out.append(_record(7, CHECKPOINT_REQUEST, b"{}", T0 + 80))  # no entry
    out.append(_record(8, b"ev-forged", b'{"entry_id":"ev-forged"}', T0 + 90, sealed=False))
    out.append(_record(9, b"ev-x", b"not json", T0 + 95))  # sealed, but no entry
    out.append(_record(10, *_entry(10), T0 + 50))  # the broker's clock went back
    return out


def _append(store: AuditStore, records: list[RawInput], batch: int) -> None:
    """As the sequencer does, in batches of ``batch`` records."""
    key = LogKey.generate("a6gw.test/log")
    seq = Sequencer(store, key, ORIGIN)
    seq.take_over("w", None)
    for lo in range(0, len(records), batch):
        part = records[lo : lo + batch]
        found = sort_records(part, refusal_under(SECRET))
        seq.append(seq.stamp_records(found.items), (AUDIT_TOPIC, 0, part[-1].offset))


def test_the_same_records_give_the_same_log_whatever_the_batches(tmp_path: Path) -> None:
    records = _records()
    one = AuditStore(tmp_path / "one.sqlite")
    _append(one, records, 3)
    two = AuditStore(tmp_path / "two.sqlite")
    _append(two, records, 11)
    assert one.size() == two.size() == 9  # 6 + ev-forged's and ev-x's dead letters + ev-10
    assert list(one.entries()) == list(two.entries())
    assert one.root() == two.root()
    stamps = [json.loads(b)["logged_at"] for b in one.entries()]
    assert stamps[0] == "2027-01-15T08:00:00.000Z"
    assert stamps == sorted(stamps)  # ev-10's record is earlier: stamped as the one before
    assert stamps[-1] == stamps[-2] == "2027-01-15T08:00:00.095Z"
    found = sort_records(records, refusal_under(SECRET))
    assert found.requested
    kinds = [json.loads(b).get("entry_type") for _, b, _ in found.items]
    assert kinds.count("dead-letter") == 2


def test_stamp_records_never_goes_back() -> None:
    items = [("a", b"{}", T0 + 5), ("b", b"{}", T0), ("c", b"{}", -1)]
    stamped, last = stamp_records(items, "")
    assert [json.loads(b)["logged_at"] for _, b in stamped] == ["2027-01-15T08:00:00.005Z"] * 3
    assert last == "2027-01-15T08:00:00.005Z"
    assert stamp_records([("d", b"{}", T0)], "2030-01-01T00:00:00.000Z")[1].startswith("2030")


def _log(tmp_path: Path, n: int) -> tuple[AuditStore, LogKey, list[tuple[int, str]]]:
    store = AuditStore(tmp_path / "log.sqlite")
    key = LogKey.generate("a6gw.test/log")
    seq = Sequencer(store, key, ORIGIN)
    seq.take_over("w", None)
    notes = [(0, seq.checkpoint()[1])]
    for i in range(n):
        seq.append([(f"e{i}", f'{{"i":{i}}}'.encode())], (AUDIT_TOPIC, 0, i))
        if i in (0, 4, n - 1):
            notes.append((len(notes), seq.checkpoint()[1]))
    return store, key, notes


def test_recompute_gives_the_entries_roots(tmp_path: Path) -> None:
    store, _, _ = _log(tmp_path, 13)
    leaves = [leaf_hash(b) for b in store.entries()]
    again = recompute(store, [0, 1, 5, 13, 14], chunk=3)
    assert sorted(again.roots) == [0, 1, 5, 13]  # 14 is beyond the log
    for n, root in again.roots.items():
        assert root == root_from_leaf_hashes(leaves[:n]) == store.root(n)
    assert again.first_bad_size is None


def test_every_published_checkpoint_of_the_log_passes(tmp_path: Path) -> None:
    store, key, notes = _log(tmp_path, 13)
    found = check_checkpoints(store, notes, [key.verifier()], ORIGIN)
    assert [(c.size, c.code) for c in found] == [(0, None), (1, None), (5, None), (13, None)]


def test_each_kind_of_mismatch_is_named(tmp_path: Path) -> None:
    store, key, notes = _log(tmp_path, 13)
    other = LogKey.generate("a6gw.test/log")
    forged = [
        (10, key.sign(Checkpoint(ORIGIN, 5, b"\x01" * 32).to_text())),
        (11, key.sign(Checkpoint(ORIGIN, 20, store.root()).to_text())),
        (12, other.sign(Checkpoint(ORIGIN, 13, store.root()).to_text())),
        (13, key.sign(Checkpoint("elsewhere/audit", 13, store.root()).to_text())),
        (14, "not a note"),
    ]
    found = check_checkpoints(store, [*notes, *forged], [key.verifier()], ORIGIN)
    assert [(c.offset, c.code) for c in found if not c.ok] == [
        (10, "AUD-FORK"),
        (11, "AUD-BEHIND"),
        (12, "AUD-CHECKPOINT"),
        (13, "AUD-CHECKPOINT"),
        (14, "AUD-CHECKPOINT"),
    ]
    assert "origin 'elsewhere/audit'" in found[-2].detail


def test_a_changed_entry_or_node_fails_the_checkpoints_after_it(tmp_path: Path) -> None:
    store, key, notes = _log(tmp_path, 13)
    store.close()
    db = sqlite3.connect(tmp_path / "log.sqlite")
    db.execute("UPDATE entries SET body = ? WHERE idx = 3", (b'{"i":333}',))
    db.commit()
    store = AuditStore(tmp_path / "log.sqlite")
    found = check_checkpoints(store, notes, [key.verifier()], ORIGIN)
    assert [(c.size, c.code) for c in found] == [
        (0, None),
        (1, None),
        (5, "AUD-FORK"),
        (13, "AUD-FORK"),
    ]
    assert "the store's entries give" in found[2].detail
    # the body put back, a stored hash changed: the entries match, the tree does not
    db.execute("UPDATE entries SET body = ? WHERE idx = 3", (b'{"i":3}',))
    db.execute("UPDATE nodes SET hash = ? WHERE level = 1 AND idx = 4", (b"\x00" * 32,))
    db.commit()
    found = check_checkpoints(store, notes, [key.verifier()], ORIGIN)
    # node (1, 4) covers leaves 8 and 9: trees of 10 or more use it, whatever they fold
    assert [(c.size, c.code) for c in found] == [
        (0, None),
        (1, None),
        (5, None),
        (13, "AUD-FORK"),
    ]
    assert "tree hashes do not (from size 10 on)" in found[3].detail
    assert recompute(store, [], chunk=2).first_bad_size == 10
    db.execute("UPDATE nodes SET hash = ? WHERE level = 1 AND idx = 4", (store.root(0),))
    db.execute("UPDATE entries SET leaf_hash = ? WHERE idx = 2", (b"\x01" * 32,))
    db.commit()
    assert recompute(store, []).first_bad_size == 3
