"""Kafka registries' snapshot pages: built, read back, assembled (pure parts)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import ReconciliationError
from gateway.services.snapshots import Page, assemble, rows_of, snapshot_pages
from schemas.events import HoldingsSnapshot

ROWS = [
    {
        "account_id": f"JP-{n % 3}",
        "ca_id": "CA0001",
        "origin": "MNG01",
        "serial_start": str(n * 10 + 1),
        "serial_end": str(n * 10 + 10),
        "unit_type": "JCM",
        "vintage": 2025,
    }
    for n in range(7)
]


def pages(rows: list[dict[str, object]], size: int) -> list[Page]:
    out = []
    for data in snapshot_pages("JPN01", "snap-1", rows, "2026-11-29T10:00:00.000Z", size):
        snap = HoldingsSnapshot.model_validate_json(json.dumps(data))  # as ingest reads it
        out.append(Page(snap.page, snap.pages, rows_of(snap), f"ev-{snap.page}"))
    return out


@given(st.integers(1, 8), st.randoms())
def test_pages_in_any_order_and_repeated_give_the_rows_back(size: int, rnd: object) -> None:
    got = pages(ROWS, size)
    shuffled = got + got[:1]
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    done = assemble(shuffled)
    assert done is not None
    rows, entries = done
    assert rows == ROWS
    assert entries == [f"ev-{n}" for n in range(1, len(got) + 1)]


def test_a_missing_page_waits_and_disagreeing_counts_are_refused() -> None:
    got = pages(ROWS, 3)
    assert len(got) == 3
    assert assemble(got[:2]) is None
    assert assemble([]) is None
    other = Page(4, 4, (), "ev-x")
    with pytest.raises(ReconciliationError) as info:
        assemble([*got, other])
    assert info.value.code == "RECON-PAGES"


def test_an_empty_registry_sends_one_empty_page() -> None:
    got = pages([], 1000)
    assert [(p.page, p.pages, p.rows) for p in got] == [(1, 1, ())]
    assert assemble(got) == ([], ["ev-1"])
