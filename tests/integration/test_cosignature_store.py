"""The stores keep witnesses' cosignature lines beside the checkpoints (SQLite and
PostgreSQL, through the store contract's fixtures), and readers get the newest checkpoint
with K valid cosignatures; a read-only store written by an earlier release (no
``cosignatures`` table) reads as having none, on either store."""

from __future__ import annotations

import sqlite3

import psycopg

from gateway.audit.cosignature import WitnessKey
from gateway.audit.cosigned import for_readers
from gateway.audit.logstore import LogStore
from gateway.audit.note import Checkpoint, LogKey
from gateway.audit.open import open_store
from tests.integration.test_store_contract import (  # noqa: F401 (fixtures)
    Backend,
    backend,
    entry,
    store,
)

KEY = LogKey.generate("a6gw.test/cosigned")
JP = WitnessKey.generate("witness.jp.test/a6gw")
MN = WitnessKey.generate("witness.mn.test/a6gw")


def _checkpoint(s: LogStore, size: int) -> Checkpoint:
    s.append(entry(i) for i in range(s.size(), size))
    cp = Checkpoint(KEY.name, size, s.root(size))
    s.save_checkpoint(size, KEY.sign(cp.to_text()))
    return cp


def test_cosignatures_are_kept_per_witness_and_size(store: LogStore) -> None:  # noqa: F811
    five, nine = _checkpoint(store, 5), _checkpoint(store, 9)
    for w in (JP, MN):
        store.save_cosignature(5, w.name, w.cosign(five, 1_700_000_000))
    store.save_cosignature(9, JP.name, JP.cosign(nine, 1_700_000_100))
    store.save_cosignature(9, JP.name, JP.cosign(nine, 1_700_000_200))  # replaced, not added
    assert len(store.cosignature_lines(9)) == 1 and len(store.cosignature_lines(5)) == 2
    assert store.witness_size(JP.name) == 9 and store.witness_size(MN.name) == 5
    assert store.witness_size("witness.other/a6gw") is None
    names = [JP.name, MN.name]
    assert [c.size for c in store.cosigned_checkpoints(names, 2)] == [5]
    assert [c.size for c in store.cosigned_checkpoints(names, 1)] == [9, 5]
    assert store.cosigned_checkpoints([MN.name], 1, limit=1)[0].size == 5
    keys = [JP.cosigner(), MN.cosigner()]
    both = for_readers(store, keys, 2)
    assert both is not None and both.size == 5
    assert both.note.count("\u2014 witness.") == 2
    assert for_readers(store, keys, 1).size == 9  # type: ignore[union-attr]


def test_a_store_of_an_earlier_release_has_no_cosignatures(backend: Backend) -> None:  # noqa: F811
    s = backend.open()
    _checkpoint(s, 3)
    s.close()
    if backend.kind == "sqlite":
        with sqlite3.connect(backend.location) as db:
            db.execute("DROP TABLE cosignatures")
        db.close()
    else:
        with psycopg.connect(backend.location, autocommit=True) as pg:
            pg.execute("DROP TABLE cosignatures")
    old = open_store(backend.location, readonly=True)
    assert old.cosignature_lines(3) == [] and old.witness_size(JP.name) is None
    assert for_readers(old, [JP.cosigner()], 1) is None
    latest = for_readers(old, [JP.cosigner()], 0)
    assert latest is not None and latest.size == 3
    old.close()
