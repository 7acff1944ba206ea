"""TRN-004: a transaction id is used once per (cooperative approach, originating registry),
for every kind of transaction: issuance, transfer (within a registry or across), retirement
and cancellation. The originating registry of a transaction is the registry that originates
it (the issuing, transferring, retiring or cancelling registry): a DES transaction
identifier carries its code, so two registries never collide."""

from __future__ import annotations

from typing import Any

from gateway.core.model import Evaluation
from gateway.core.state import TABLES, LedgerState
from gateway.core.topics import changelog_topic
from gateway.transport.topic_plan import topic_plan
from tests.unit.core.a6book import Book, codes, only
from tests.unit.core.a6kit import Kit

MA, MB, JA, JB = ("MNG01", "MN-A"), ("MNG01", "MN-B"), ("JPN01", "JP-A"), ("JPN01", "JP-B")


def _retire(book: Book, tx: str, ranges: list[tuple[int, int]]) -> Evaluation:
    return book.terminal("retirement", "MNG01", "MN-A", ranges, transaction_id=tx)


def test_an_internal_transfer_id_is_used_once(book: Book) -> None:
    assert book.transfer(MA, MB, [(1, 10)], tx="T1").outcome == "accepted"
    # the same payload again under a new event id: TRN-004 with the other failing codes
    again = book.transfer(MA, MB, [(1, 10)], tx="T1")
    assert codes(again) == ["BLK-003", "TRN-004"]
    assert again.effects == ()
    # the same id with other serials: TRN-004 alone, nothing moves
    assert only(book.transfer(MA, MB, [(11, 20)], tx="T1"), "TRN-004") == []
    assert book.holdings()[("MNG01", "MN-A", "held")] == [(11, 100)]


def test_an_issuance_id_is_used_once(book: Book) -> None:
    first = book.issue("MNG01", [(200, 300, "MN-A")], transaction_id="ISS-X")
    assert first.outcome == "accepted"
    again = book.issue("MNG01", [(200, 300, "MN-A")], transaction_id="ISS-X")
    assert codes(again) == ["BLK-004", "TRN-004"]
    assert only(book.issue("MNG01", [(400, 500, "MN-A")], transaction_id="ISS-X"), "TRN-004") == []
    assert book.holdings()[("MNG01", "MN-A", "held")] == [(1, 100), (200, 300)]


def test_a_retirement_and_a_cancellation_id_are_used_once(book: Book) -> None:
    assert _retire(book, "R1", [(1, 10)]).outcome == "accepted"
    again = _retire(book, "R1", [(1, 10)])
    assert codes(again) == ["BLK-007", "TRN-004"]
    assert only(_retire(book, "R1", [(11, 20)]), "TRN-004") == []
    ev = book.terminal("cancellation", "MNG01", "MN-A", [(21, 30)], transaction_id="C1")
    assert ev.outcome == "accepted"
    ev = book.terminal("cancellation", "MNG01", "MN-A", [(31, 40)], transaction_id="C1")
    assert only(ev, "TRN-004") == []
    assert book.holdings()[("MNG01", "CAN", "cancelled")] == [(21, 30)]


def test_one_id_serves_one_transaction_of_any_kind(book: Book) -> None:
    """The id names a transaction, whatever its kind: an issuance's id cannot be reused by a
    transfer, nor a transfer's by a retirement or a cross-registry proposal."""
    assert book.issue("MNG01", [(200, 210, "MN-A")], transaction_id="X-1").outcome == "accepted"
    assert only(book.transfer(MA, MB, [(1, 10)], tx="X-1"), "TRN-004") == []
    assert book.transfer(MA, MB, [(1, 10)], tx="X-2").outcome == "accepted"
    assert only(_retire(book, "X-2", [(11, 20)]), "TRN-004") == []
    assert only(book.transfer(MA, JA, [(11, 20)], tx="X-2"), "TRN-004") == []
    # and the other way: a cross-registry proposal's id is used (even while it is pending)
    assert book.transfer(MA, JA, [(21, 30)], tx="X-3").outcome == "accepted"
    assert only(book.transfer(MA, MB, [(31, 40)], tx="X-3"), "TRN-004") == []


def test_the_id_is_scoped_by_approach_and_originating_registry(book: Book) -> None:
    assert book.transfer(MA, MB, [(1, 10)], tx="T1").outcome == "accepted"
    # JPN01 originates its own T1 (its code is part of a DES identifier): no clash
    assert book.issue("JPN01", [(1, 100, "JP-A")], transaction_id="T1").outcome == "accepted"
    assert book.transfer(JA, JB, [(1, 10)], tx="T2", origin="JPN01").outcome == "accepted"
    # another cooperative approach is another scope
    assert book.decide("D2", "CA0002", IDN01=100, JPN01=100).outcome == "recorded"
    ev = book.issue("IDN01", [(1, 10, "ID-A")], ca="CA0002", decision_id="D2", transaction_id="T1")
    assert ev.outcome == "accepted"


def test_a_rejected_transaction_does_not_use_its_id(book: Book) -> None:
    """Only an accepted transaction takes its id (as the transfers table always did for
    cross-registry proposals): a registry may correct a rejected one and send it again."""
    assert only(book.transfer(MA, MB, [(500, 510)], tx="T9"), "BLK-003") == [(500, 510)]
    assert book.transfer(MA, MB, [(1, 10)], tx="T9").outcome == "accepted"
    assert only(book.transfer(MA, MB, [(11, 20)], tx="T9"), "TRN-004") == []


def test_trn004_is_listed_with_the_other_failing_codes(book: Book) -> None:
    assert book.transfer(MA, MB, [(1, 10)], tx="T1").outcome == "accepted"
    ev = book.transfer(MA, MA, [(1, 10), (5, 6)], tx="T1", signer="JPN01")
    assert codes(ev) == ["ACC-006", "BLK-002", "BLK-003", "MSG-002", "TRN-004"]


def test_the_transactions_index_is_kept_by_the_decisions_changelog(kit: Kit) -> None:
    """The index is a ledger table like the others: in the worker's memory, made durable by
    the decisions (each carries its effects), whose changelog the worker creates; no table
    is left for answers that waited for their proposal."""
    topics, configs = topic_plan(kit.lc.config)
    gid = kit.lc.config.gateway.id
    name = changelog_topic(gid, "decisions")
    assert topics[name] == kit.lc.config.kafka.partitions
    assert configs[name]["cleanup.policy"] == "compact"
    assert changelog_topic(gid, "transactions") not in topics
    assert "transactions" in TABLES and "early_answers" not in TABLES
    assert not [t for t in topics if "early" in t]


class _NoScan(dict[str, Any]):
    """A table that may be read by key only."""

    def _scan(self, *_: object) -> Any:
        raise AssertionError("the transactions table was scanned")

    __iter__ = items = keys = values = _scan


def test_the_check_is_one_keyed_lookup() -> None:
    book = Book(state=LedgerState({"transactions": _NoScan()}))
    book.decide()
    assert book.issue("MNG01", [(1, 100, "MN-A")], transaction_id="T1").outcome == "accepted"
    assert book.transfer(MA, MB, [(1, 10)], tx="T2").outcome == "accepted"
    assert only(book.transfer(MA, MB, [(11, 20)], tx="T1"), "TRN-004") == []
    assert len(book.state.tables["transactions"]) == 2  # the state holds what it indexed
    book.state.rebuild_index()  # and recovery never walks it either
