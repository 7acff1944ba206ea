"""The audit store's contract (every LogStore implementation passes this suite)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.audit.logstore import LogStore
from gateway.audit.proof import consistency_proof, inclusion_proof
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.store import AuditStore
from gateway.audit.verify import verify_inclusion
from gateway.errors import AuditError, VerificationError

StoreFactory = Callable[[Path], LogStore]


@pytest.fixture(params=["sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LogStore]:
    s = AuditStore(tmp_path / "audit.sqlite")
    yield s
    s.close()


def entry(i: int) -> tuple[str, bytes]:
    return f"ev-{i:06d}", f'{{"entry_version":1,"n":{i}}}'.encode()


def test_append_assigns_dense_indices_and_skips_logged_ids(store: LogStore) -> None:
    assert store.size() == 0
    assert store.append([entry(0), entry(1), entry(1)]) == 2
    assert store.append([entry(1), entry(2)]) == 1
    assert store.size() == 3
    assert list(store.entries()) == [entry(i)[1] for i in range(3)]
    assert store.entry(2) == entry(2)[1]
    assert store.index_of("ev-000001") == 1 and store.index_of("nope") is None
    assert store.has("ev-000002")
    with pytest.raises(AuditError) as err:
        store.entry(3)
    assert err.value.code == "AUD-NOT-FOUND"


def test_an_entry_with_a_newline_is_refused(store: LogStore) -> None:
    with pytest.raises(AuditError) as err:
        store.append([("ev-x", b"a\nb")])
    assert err.value.code == "AUD-ENTRY"
    assert store.size() == 0


def test_roots_and_proofs_match_the_reference_as_the_log_grows(store: LogStore) -> None:
    rng = random.Random(7)
    bodies: list[bytes] = []
    n = 0
    while n < 300:
        batch = [entry(i) for i in range(n, n + rng.randint(1, 40))]
        store.append(batch)
        bodies += [b for _, b in batch]
        n = len(bodies)
        hashes = [leaf_hash(b) for b in bodies]
        assert store.root() == root_from_leaf_hashes(hashes)
        for index in {0, n // 2, n - 1, rng.randrange(n)}:
            assert store.inclusion_proof(index) == inclusion_proof(index, hashes)
        for m in {1, n // 3 or 1, n}:
            assert store.consistency_proof(m) == consistency_proof(m, hashes)
    hashes = [leaf_hash(b) for b in bodies]
    assert store.leaf_hashes() == hashes
    assert store.leaf_hashes(10, 20) == hashes[10:20]
    for size in (1, 2, 3, 64, 100, 299):
        assert store.root(size) == root_from_leaf_hashes(hashes[:size])
        assert store.inclusion_proof(0, size) == inclusion_proof(0, hashes[:size])
        assert store.consistency_proof(1, size) == consistency_proof(1, hashes[:size])
    with pytest.raises(AuditError):
        store.root(n + 1)


def test_positions_are_kept_with_the_entries(store: LogStore) -> None:
    assert store.position("a6.audit.log", 0) is None
    store.append([entry(0)], position=("a6.audit.log", 0, 41))
    store.append([entry(0)], position=("a6.audit.log", 0, 40))  # an older redelivery
    assert store.position("a6.audit.log", 0) == 41
    assert store.position("a6.audit.log", 1) is None


def test_a_fenced_writer_appends_nothing(store: LogStore) -> None:
    assert store.epoch() == 0
    first = store.claim("worker-a")
    assert store.append([entry(0)], position=("t", 0, 0), epoch=first) == 1
    second = store.claim("worker-b")
    assert second > first
    with pytest.raises(AuditError) as err:
        store.append([entry(1)], position=("t", 0, 1), epoch=first)
    assert err.value.code == "AUD-FENCED"
    assert store.size() == 1 and store.position("t", 0) == 0
    assert store.append([entry(1), entry(2)], epoch=second) == 2
    hashes = [leaf_hash(entry(i)[1]) for i in range(3)]
    assert store.root() == root_from_leaf_hashes(hashes)


def test_checkpoints_are_kept_in_order(store: LogStore) -> None:
    assert store.latest_checkpoint() is None
    store.save_checkpoint(5, "note five")
    store.save_checkpoint(9, "note nine")
    store.save_checkpoint(7, "note seven")
    latest = store.latest_checkpoint()
    assert latest is not None and (latest.size, latest.note) == (9, "note nine")
    assert [c.size for c in store.checkpoints()] == [5, 7, 9]


def test_the_same_file_reopened_goes_on_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    first = AuditStore(path)
    first.append([entry(i) for i in range(37)])
    first.close()
    again = AuditStore(path)
    again.append([entry(i) for i in range(30, 50)])
    hashes = [leaf_hash(entry(i)[1]) for i in range(50)]
    assert again.root() == root_from_leaf_hashes(hashes)
    again.close()


def test_one_byte_of_a_stored_node_breaks_the_proofs(tmp_path: Path) -> None:
    path = tmp_path / "audit.sqlite"
    store = AuditStore(path)
    store.append([entry(i) for i in range(16)])
    good_root = store.root()
    db = sqlite3.connect(path)
    (h,) = db.execute("SELECT hash FROM nodes WHERE level = 2 AND idx = 1").fetchone()
    db.execute(
        "UPDATE nodes SET hash = ? WHERE level = 2 AND idx = 1", (bytes([h[0] ^ 1]) + h[1:],)
    )
    db.commit()
    db.close()
    proof = store.inclusion_proof(0)
    with pytest.raises(VerificationError, match="root"):
        verify_inclusion(
            index=0, size=16, leaf_hash=leaf_hash(entry(0)[1]), proof=proof, root=good_root
        )
    store.close()
