"""The audit store's contract: every LogStore implementation passes this suite.

Each test runs against the embedded SQLite store and against PostgreSQL (a fresh database
of the session's real local server, see ``postgres_database`` in conftest.py). Stores are
opened through :func:`gateway.audit.open.open_store`, as the worker opens them.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from gateway.audit.logstore import LogStore
from gateway.audit.open import is_postgres_url, open_store
from gateway.audit.pgstore import PostgresStore
from gateway.audit.proof import consistency_proof, inclusion_proof
from gateway.audit.rfc6962 import leaf_hash, root_from_leaf_hashes
from gateway.audit.search import Query, SerialRange
from gateway.audit.store import AuditStore
from gateway.audit.verify import verify_inclusion
from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import AuditError, VerificationError
from tests.unit.schemas import factories as fx


@dataclass
class Backend:
    """Where a store lives: open it (again), and tamper with a stored node behind its back."""

    kind: str
    location: str

    def open(self) -> LogStore:
        return open_store(self.location)

    def tamper_node(self, level: int, idx: int) -> None:
        """Flip the low bit of the first byte of stored node ``(level, idx)``."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.location) as db:
                (h,) = db.execute(
                    "SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, idx)
                ).fetchone()
                db.execute(
                    "UPDATE nodes SET hash = ? WHERE level = ? AND idx = ?",
                    (bytes([h[0] ^ 1]) + h[1:], level, idx),
                )
            db.close()
        else:
            with psycopg.connect(self.location, autocommit=True) as pg:
                row = pg.execute(
                    "SELECT hash FROM nodes WHERE level = %s AND idx = %s", (level, idx)
                ).fetchone()
                assert row is not None
                h = bytes(row[0])
                pg.execute(
                    "UPDATE nodes SET hash = %s WHERE level = %s AND idx = %s",
                    (bytes([h[0] ^ 1]) + h[1:], level, idx),
                )


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "audit.sqlite"))
    return Backend("postgres", request.getfixturevalue("postgres_database"))


@pytest.fixture
def store(backend: Backend) -> Iterator[LogStore]:
    s = backend.open()
    yield s
    s.close()


def entry(i: int) -> tuple[str, bytes]:
    return f"ev-{i:06d}", f'{{"entry_version":1,"n":{i}}}'.encode()


def test_open_store_picks_the_store_from_the_location(backend: Backend) -> None:
    s = backend.open()
    try:
        want = PostgresStore if backend.kind == "postgres" else AuditStore
        assert isinstance(s, want)
        assert is_postgres_url(backend.location) == (backend.kind == "postgres")
    finally:
        s.close()


def test_append_assigns_dense_indices_and_skips_logged_ids(store: LogStore) -> None:
    assert store.size() == 0
    assert store.append([entry(0), entry(1), entry(1)]) == 2
    assert store.append([entry(1), entry(2)]) == 1
    assert store.append([]) == 0
    assert store.size() == 3
    assert list(store.entries()) == [entry(i)[1] for i in range(3)]
    assert list(store.entries(1, 10)) == [entry(i)[1] for i in range(1, 3)]
    assert store.entry(2) == entry(2)[1]
    assert store.index_of("ev-000001") == 1 and store.index_of("nope") is None
    assert store.has("ev-000002") and not store.has("nope")
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
    assert store.position(AUDIT_TOPIC, 0) is None
    store.append([entry(0)], position=(AUDIT_TOPIC, 0, 41))
    store.append([entry(0)], position=(AUDIT_TOPIC, 0, 40))  # an older redelivery
    assert store.position(AUDIT_TOPIC, 0) == 41
    assert store.position(AUDIT_TOPIC, 1) is None


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
    store.save_checkpoint(7, "note seven, again")
    latest = store.latest_checkpoint()
    assert latest is not None and (latest.size, latest.note) == (9, "note nine")
    assert [(c.size, c.note) for c in store.checkpoints()] == [
        (5, "note five"),
        (7, "note seven, again"),
        (9, "note nine"),
    ]


def test_the_same_store_reopened_goes_on_where_it_stopped(backend: Backend) -> None:
    first = backend.open()
    first.append([entry(i) for i in range(37)])
    epoch = first.claim("worker-a")
    first.close()
    again = backend.open()
    assert again.epoch() == epoch
    assert again.append([entry(i) for i in range(30, 50)]) == 13
    hashes = [leaf_hash(entry(i)[1]) for i in range(50)]
    assert again.root() == root_from_leaf_hashes(hashes)
    again.close()


def test_one_byte_of_a_stored_node_breaks_the_proofs(backend: Backend) -> None:
    store = backend.open()
    store.append([entry(i) for i in range(16)])
    good_root = store.root()
    backend.tamper_node(2, 1)
    proof = store.inclusion_proof(0)
    with pytest.raises(VerificationError, match="root"):
        verify_inclusion(
            index=0, size=16, leaf_hash=leaf_hash(entry(0)[1]), proof=proof, root=good_root
        )
    store.close()


def test_two_writers_on_one_store_fence_and_follow_each_other(backend: Backend) -> None:
    """Two connections (as two processes would have): the claim fences the earlier epoch,
    and each writer's tree follows what the other committed."""
    a, b = backend.open(), backend.open()
    try:
        epoch_a = a.claim("worker-a")
        assert a.append([entry(i) for i in range(5)], position=("t", 0, 4), epoch=epoch_a) == 5
        epoch_b = b.claim("worker-b")
        assert epoch_b > epoch_a and a.epoch() == epoch_b
        with pytest.raises(AuditError) as err:
            a.append([entry(5)], position=("t", 0, 5), epoch=epoch_a)
        assert err.value.code == "AUD-FENCED"
        assert a.size() == b.size() == 5 and b.position("t", 0) == 4
        assert b.append([entry(i) for i in range(3, 9)], position=("t", 0, 8), epoch=epoch_b) == 4
        assert a.append([entry(i) for i in range(7, 12)]) == 3  # unfenced: after b's entries
        hashes = [leaf_hash(entry(i)[1]) for i in range(12)]
        assert a.root() == b.root() == root_from_leaf_hashes(hashes)
        assert b.inclusion_proof(10) == inclusion_proof(10, hashes)
    finally:
        a.close()
        b.close()


def test_concurrent_appends_from_two_connections_never_interleave(backend: Backend) -> None:
    """Two threads, each with its own store (connection), append disjoint and overlapping
    batches at once: indices stay dense, every id is logged once, the tree is right."""
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        s = backend.open()  # in its thread: a SQLite connection stays in the thread that made it
        try:
            for start in range(0, 200, 20):
                s.append([entry(offset + i) for i in range(start, start + 25)])
        except BaseException as exc:  # surfaced by the main thread
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer, args=(150 * k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    s = backend.open()
    try:
        ids = sorted({f"ev-{i:06d}" for k in (0, 1) for i in range(150 * k, 150 * k + 205)})
        assert s.size() == len(ids)
        bodies = list(s.entries())
        assert sorted(bodies) == sorted(entry(int(i[3:]))[1] for i in ids)
        hashes = [leaf_hash(b) for b in bodies]
        assert s.root() == root_from_leaf_hashes(hashes)
        assert s.consistency_proof(17) == consistency_proof(17, hashes)
    finally:
        s.close()


_TAKE_OVER = """
import sys
from gateway.audit.open import open_store
store = open_store(sys.argv[1])
epoch = store.claim("worker-b")
batch = [(f"ev-{i:06d}", f'{{"entry_version":1,"n":{i}}}'.encode()) for i in range(3, 8)]
print(epoch, store.append(batch, position=("t", 0, 7), epoch=epoch))
store.close()
"""


@pytest.mark.postgres
def test_a_writer_in_another_process_fences_this_one(postgres_database: str) -> None:
    mine = open_store(postgres_database)
    try:
        epoch = mine.claim("worker-a")
        assert mine.append([entry(i) for i in range(5)], position=("t", 0, 4), epoch=epoch) == 5
        out = subprocess.run(
            [sys.executable, "-c", _TAKE_OVER, postgres_database],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout.split()
        assert out == [str(epoch + 1), "3"]
        with pytest.raises(AuditError) as err:
            mine.append([entry(8)], position=("t", 0, 8), epoch=epoch)
        assert err.value.code == "AUD-FENCED"
        assert mine.size() == 8 and mine.position("t", 0) == 7 and not mine.has("ev-000008")
        hashes = [leaf_hash(entry(i)[1]) for i in range(8)]
        assert mine.root() == root_from_leaf_hashes(hashes)
    finally:
        mine.close()


def test_an_unreachable_postgres_is_an_audit_store_error() -> None:
    with pytest.raises(AuditError) as err:
        open_store("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2")
    assert err.value.code == "AUD-STORE"
    assert "secret" not in str(err.value)


# -- search (the auditors' API asks these) ---------------------------------------


def searchable(
    n: int,
    *,
    source: str = "MNG01",
    outcome: fx.Outcome = "accepted",
    codes: tuple[str, ...] = (),
    blocks: tuple[tuple[int, int], ...] = (),
    tx: str | None = None,
    day: str = "2026-11-29",
) -> tuple[str, bytes]:
    doc = fx.decision(
        f"e{n}",
        source=source,
        outcome=outcome,
        results=[fx.result(c) for c in codes],
        blocks=[fx.block(a, b) for a, b in blocks],
        transaction_id=tx,
        decided_at=f"{day}T08:00:00.000Z",
    )
    return doc.entry_id, fx.wire_bytes(doc)


@pytest.fixture
def searched(store: LogStore) -> LogStore:
    store.append(
        [
            searchable(0, blocks=((1, 5000),)),
            searchable(1, source="JPN01", blocks=((1, 4000),)),
            searchable(2, outcome="rejected", codes=("BLK-003",), tx="T-9"),
            searchable(3, blocks=((1, 100),), tx="T-9", day="2026-12-01"),
            searchable(4, blocks=((101, 5000),), day="2027-01-02"),
            searchable(5, source="IDN01", blocks=((1, 2**40),)),
            searchable(6, outcome="rejected", codes=("BLK-003", "BLK-007")),
        ]
    )
    return store


def test_search_by_terms_periods_and_alternatives(searched: LogStore) -> None:
    assert searched.search(Query((("outcome", "rejected"),)), -1, 10) == [2, 6]
    assert searched.search(Query((("code", "BLK-003"),)), -1, 10) == [2, 6]
    assert searched.search(Query((("code", "BLK-007"), ("outcome", "rejected"))), -1, 10) == [6]
    assert searched.search(Query((("transaction", "T-9"),)), -1, 10) == [2, 3]
    both = Query((("source", "JPN01"), ("source", "IDN01")))  # one Party's registries
    assert searched.search(both, -1, 10) == [1, 5]
    assert searched.search(Query(decided_from="2026-12", decided_to="2027"), -1, 10) == [3]
    assert searched.search(Query(decided_from="2027"), -1, 10) == [4]
    assert searched.search(Query((("event", "nope"),)), -1, 10) == []


def test_search_pages(searched: LogStore) -> None:
    q = Query((("ca", "CA0001"),))
    assert searched.search(q, -1, 3) == [0, 1, 2]
    assert searched.search(q, 2, 3) == [3, 4, 5]
    assert searched.search(q, 5, 3) == [6]


def test_search_by_serials_finds_every_overlapping_block(searched: LogStore) -> None:
    def hits(first: int, last: int, origin: str = "MNG01") -> list[int]:
        return searched.search(Query(serials=SerialRange("CA0001", origin, first, last)), -1, 50)

    assert hits(50, 50) == [0, 1, 3, 5]
    assert hits(101, 101) == [0, 1, 4, 5]
    assert hits(4500, 4600) == [0, 4, 5]
    assert hits(10**12, 10**12) == [5]  # inside the long block only
    assert hits(2**40 + 1, 2**50) == []
    assert hits(1, 1, origin="JPN01") == []
    q = Query((("source", "MNG01"),), SerialRange("CA0001", "MNG01", 60, 60))
    assert searched.search(q, -1, 50) == [0, 3]
