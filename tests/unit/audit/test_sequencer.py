"""The sequencer: take-over checks, fencing, when and what it signs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit.note import LogKey, open_checkpoint
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.sequencer import CheckpointPolicy, Sequencer
from gateway.audit.store import AuditStore
from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import AuditError

ORIGIN = "a6gw.test/audit"
POS = (AUDIT_TOPIC, 0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def items(lo: int, hi: int) -> list[tuple[str, bytes]]:
    return [(f"ev-{i}", f'{{"n":{i}}}'.encode()) for i in range(lo, hi)]


def make(
    tmp_path: Path, key: LogKey, clock: Clock | None = None, **kw: object
) -> tuple[AuditStore, Sequencer]:
    store = AuditStore(tmp_path / "audit.sqlite")
    policy = CheckpointPolicy(every_entries=10, every_s=5.0)
    seq = Sequencer(store, key, ORIGIN, policy=policy, clock=clock or Clock(), **kw)  # type: ignore[arg-type]
    return store, seq


def test_checkpoints_cover_exactly_the_committed_entries(tmp_path: Path) -> None:
    key = LogKey.generate("a6gw.test/log")
    store, seq = make(tmp_path, key)
    seq.take_over("w1", None)
    seq.append(items(0, 7), (*POS, 6))
    checkpoint, note = seq.checkpoint()
    assert checkpoint.size == 7
    assert checkpoint.root == root_from_leaf_hashes([leaf_hash(b) for _, b in items(0, 7)])
    assert open_checkpoint(note, key.verifier()) == checkpoint
    latest = store.latest_checkpoint()
    assert latest is not None and latest.note == note


def test_checkpoints_are_due_by_count_or_by_time_and_only_when_the_log_grew(
    tmp_path: Path,
) -> None:
    clock = Clock()
    _store, seq = make(tmp_path, LogKey.generate("a6gw.test/log"), clock)
    seq.take_over("w1", None)
    assert seq.due()  # nothing published yet: the empty log is checkpointed too
    seq.checkpoint()
    assert not seq.due()
    seq.append(items(0, 3), (*POS, 2))
    assert not seq.due()
    clock.now = 5.0
    assert seq.due()
    seq.checkpoint()
    seq.append(items(3, 13), (*POS, 12))
    assert seq.due()  # ten new entries
    seq.checkpoint()
    clock.now = 60.0
    assert not seq.due()  # time passed but nothing new


def test_a_store_behind_the_published_checkpoint_is_refused(tmp_path: Path) -> None:
    key = LogKey.generate("a6gw.test/log")
    store, seq = make(tmp_path, key)
    seq.take_over("w1", None)
    seq.append(items(0, 5), (*POS, 4))
    _cp, published = seq.checkpoint()
    store.close()
    restored = Sequencer(AuditStore(tmp_path / "other.sqlite"), key, ORIGIN)  # an old backup
    restored.store.append(items(0, 3))
    with pytest.raises(AuditError) as err:
        restored.take_over("w2", published)
    assert err.value.code == "AUD-BEHIND"


def test_a_rewritten_store_is_refused(tmp_path: Path) -> None:
    key = LogKey.generate("a6gw.test/log")
    _store, seq = make(tmp_path, key)
    seq.take_over("w1", None)
    seq.append(items(0, 5), (*POS, 4))
    _cp, published = seq.checkpoint()
    forked = Sequencer(AuditStore(tmp_path / "fork.sqlite"), key, ORIGIN)
    forked.store.append([*items(0, 2), ("ev-x", b"rewritten"), *items(3, 6)])
    with pytest.raises(AuditError) as err:
        forked.take_over("w2", published)
    assert err.value.code == "AUD-FORK"


def test_a_checkpoint_by_a_previous_log_key_still_verifies(tmp_path: Path) -> None:
    old = LogKey.generate("a6gw.test/log")
    store, seq = make(tmp_path, old)
    seq.take_over("w1", None)
    seq.append(items(0, 5), (*POS, 4))
    _cp, published = seq.checkpoint()
    new = LogKey.generate("a6gw.test/log-2027")
    rotated = Sequencer(store, new, ORIGIN, previous=[old.verifier()])
    rotated.take_over("w2", published)
    unknown = Sequencer(store, new, ORIGIN)
    with pytest.raises(AuditError) as err:
        unknown.take_over("w3", published)
    assert err.value.code == "AUD-CHECKPOINT"


def test_a_sequencer_that_lost_the_log_is_fenced(tmp_path: Path) -> None:
    key = LogKey.generate("a6gw.test/log")
    store, first = make(tmp_path, key)
    first.take_over("w1", None)
    first.append(items(0, 2), (*POS, 1))
    second = Sequencer(store, key, ORIGIN)
    second.take_over("w2", None)
    with pytest.raises(AuditError) as err:
        first.append(items(2, 4), (*POS, 3))
    assert err.value.code == "AUD-FENCED"
    assert second.append(items(2, 4), (*POS, 3)) == 2
    assert store.size() == 4


def test_appending_before_taking_over_is_refused(tmp_path: Path) -> None:
    _store, seq = make(tmp_path, LogKey.generate("a6gw.test/log"))
    with pytest.raises(AuditError) as err:
        seq.append(items(0, 1), (*POS, 0))
    assert err.value.code == "AUD-FENCED"
