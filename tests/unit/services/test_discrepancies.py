"""Discrepancies and reconciliation runs read back from an audit store by its index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.audit.store import AuditStore
from gateway.core import discrepancy as dsc
from gateway.core.reconcile import reconcile
from gateway.services import discrepancies as dq
from tests.unit.dsclog import T0, Log, elsewhere, finding, holding, totals_short


@pytest.fixture()
def log() -> Iterator[Log]:
    log = Log()
    yield log
    log.store.close()


def test_each_discrepancy_is_its_latest_entry_with_every_entry_in_order(log: Log) -> None:
    d = finding("DLV-001", "delivery", "IDN01", 1)
    log.noise()
    log.open(d)
    log.noise()
    log.command(d.id, "acknowledge", by="ops-1")
    refused = log.command(d.id, "acknowledge", by="ops-2")
    assert refused["outcome"] == "refused"
    log.command(d.id, "resolve", by="ops-2", note="IDN01 was back; delivered")
    tracked = dq.load_discrepancies(log.store)
    assert list(tracked) == [d.id]
    t = tracked[d.id]
    assert (t.discrepancy.status, t.discrepancy.owner) == ("resolved", "ops-1")
    assert t.discrepancy.resolution == "IDN01 was back; delivered"
    assert [s.outcome for s in t.steps] == ["open", "acknowledged", "refused", "resolved"]
    assert [s.index for s in t.steps] == [1, 3, 4, 5] and t.latest == 5
    assert [s.by for s in t.steps] == [None, "ops-1", "ops-2", "ops-2"]
    assert t.steps[0].codes == ("DLV-001",)
    assert t.steps[2].codes == ("REC-102",) and "acknowledged" in t.steps[2].message
    # the same state as the core's fold of the same entries
    entries = [json.loads(b) for b in log.store.entries()]
    assert dsc.fold(entries)[d.id] == t.discrepancy
    # one discrepancy by the index of discrepancy ids: the same, without the others
    other = finding("DLV-001", "delivery", "JPN01", 2)
    log.open(other)
    one = dq.load_one(log.store, d.id)
    assert one is not None and (one.discrepancy, one.steps) == (t.discrepancy, t.steps)
    assert dq.load_one(log.store, dsc.discrepancy_id("delivery", "nowhere")) is None


def test_a_refusal_of_an_unknown_discrepancy_belongs_to_none(log: Log) -> None:
    ghost = dsc.discrepancy_id("delivery", "nowhere")
    entry = log.command(ghost, "acknowledge")
    assert entry["results"][0]["code"] == "REC-101" and entry["discrepancy"] is None
    assert dq.load_discrepancies(log.store) == {}
    assert not dq.is_known(log.store, ghost)


def test_filters_by_status_code_registry_and_finder(log: Log) -> None:
    a = finding("DLV-001", "delivery", "IDN01", 1)
    b = finding("BLK-003", "decision", "MNG01", 2)
    c = finding("DLV-001", "delivery", "JPN01", 3)
    for d in (a, b, c):
        log.open(d)
    log.command(b.id, "acknowledge")
    log.command(c.id, "resolve-by-hand", note="re-sent", fix="JPN01 message 7 re-sent")
    every = dq.load_discrepancies(log.store).values()

    def ids(**kw: str) -> list[str]:
        return [t.discrepancy.id for t in dq.select(every, **kw)]

    assert ids() == [a.id, b.id, c.id]  # in the order they were opened
    assert ids(status="open") == [a.id]
    assert ids(status="acknowledged") == [b.id]
    assert ids(code="DLV-001") == [a.id, c.id]
    assert ids(registry="JPN01") == [c.id]
    assert ids(found_by="decision") == [b.id]
    assert ids(code="DLV-001", status="resolved") == [c.id]
    assert ids(code="REC-001") == []
    assert dq.load_discrepancies(log.store)[c.id].discrepancy.manual


def test_a_run_is_completed_with_manual_intervention_once_all_are_resolved_and_one_by_hand(
    log: Log,
) -> None:
    run_id = log.run(totals_short())
    (run,) = dq.load_runs(log.store)
    assert (run.id, run.registry, run.report_status) == (run_id, "JPN01", "totals-inconsistent")
    assert run.status == "totals-inconsistent" and run.pending == 0
    assert run.discrepancy_ids == tuple(
        dsc.discrepancy_id("reconciliation", run_id, n) for n in (0, 1)
    )
    assert run.report.status == "totals-inconsistent" and run.index == 0
    first, second = run.discrepancy_ids
    log.command(first, "resolve-by-hand", note="exported again", fix="JP-1 holds 51-100")
    assert dq.load_runs(log.store)[0].status == "totals-inconsistent"  # one still open
    log.command(second, "acknowledge")
    log.command(second, "resolve", note="the same difference")
    assert dq.load_runs(log.store)[0].status == "completed-with-manual-intervention"


def test_a_run_resolved_without_a_correction_is_completed_and_runs_come_newest_first(
    log: Log,
) -> None:
    older = log.run(elsewhere(), at_ms=T0)
    newer = log.run(reconcile([holding("JP-1", 1, 5)], [holding("JP-1", 1, 5)]), at_ms=T0 + 1)
    for t in dq.load_discrepancies(log.store).values():
        log.command(t.discrepancy.id, "resolve", note="moved back to JP-1")
    runs = dq.load_runs(log.store)
    assert [r.id for r in runs] == [newer, older]
    assert (runs[0].report_status, runs[0].status, runs[0].discrepancy_ids) == (
        "completed",
        "completed",
        (),
    )
    assert (runs[1].report_status, runs[1].status) == ("blocks-inconsistent", "completed")


def test_a_run_whose_findings_are_not_all_logged_keeps_its_status(log: Log) -> None:
    log.run(totals_short(), open_first=1)
    (only,) = dq.load_discrepancies(log.store).values()
    log.command(only.discrepancy.id, "resolve", note="fixed")
    (run,) = dq.load_runs(log.store)
    assert run.pending == 1 and run.status == "totals-inconsistent"
    assert run.discrepancy_ids == (only.discrepancy.id,)


class CountingStore:
    """The store, counting what is read of it."""

    def __init__(self, store: AuditStore) -> None:
        self.store, self.searches = store, 0
        self.read: list[int] = []

    def search(self, *args: Any) -> list[int]:
        self.searches += 1
        return self.store.search(*args)

    def entry(self, index: int) -> bytes:
        self.read.append(index)
        return self.store.entry(index)

    def entries(self, *args: Any) -> Iterator[bytes]:
        raise AssertionError("a full scan")


def test_only_the_entries_the_index_finds_are_read_a_page_at_a_time(log: Log) -> None:
    ds = [finding("DLV-001", "delivery", "IDN01", n) for n in range(5)]
    for d in ds:
        log.noise()
        log.open(d)
    log.command(ds[0].id, "acknowledge")
    log.run(elsewhere())  # the run at 11, its one finding opened at 12
    counting = CountingStore(log.store)
    got = list(dq.indexed(counting, dq.DISCREPANCY_TYPES, page=2))  # type: ignore[arg-type]
    assert [i for i, _ in got] == counting.read == [1, 3, 5, 7, 9, 10, 12]
    assert counting.searches == 4  # pages of 2, 2, 2 and a short last one
    runs = dq.load_runs(counting)  # type: ignore[arg-type]
    assert len(runs) == 1 and 11 in counting.read
    assert not set(counting.read) & {0, 2, 4, 6, 8}  # the noise is never read
    assert dq.is_known(log.store, ds[3].id)
