"""The ingress's nonce store on each kind of store: atomic check-and-insert across replicas
(separate connections racing on one nonce), expiry, durability across a reopen."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.http.nonces import NonceStore, open_nonces


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_database"))
    return str(tmp_path / "nonces.sqlite")


def test_each_nonce_is_new_once_across_replicas_racing_on_it(where: str) -> None:
    replicas = [open_nonces(where, 300) for _ in range(6)]
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(replicas))

    def race(store: NonceStore) -> None:
        barrier.wait()
        for n in range(40):
            seen = store.seen("k1", f"n{n}")
            with lock:
                results.append(seen)

    threads = [threading.Thread(target=race, args=(s,)) for s in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 6 * 40
    assert results.count(False) == 40  # each nonce was new to exactly one replica
    for store in replicas:
        store.close()


def test_nonces_survive_a_reopen_and_expire_after_twice_the_window(where: str) -> None:
    now = [1_000_000.0]
    clock: Callable[[], float] = lambda: now[0]  # noqa: E731
    store = open_nonces(where, 300, clock)
    assert store.seen("k1", "a") is False
    assert store.seen("k2", "a") is False  # per key id
    store.close()
    store = open_nonces(where, 300, clock)
    assert store.seen("k1", "a") is True
    now[0] += 599
    assert store.seen("k1", "a") is True
    now[0] += 2
    assert store.seen("k1", "a") is False  # expired: recorded afresh
    assert store.seen("k1", "a") is True
    store.close()
