"""Transfer timeouts: the gateway's own input cancels an unanswered proposal (DES status 7)."""

from __future__ import annotations

from gateway.core.decision_time import iso_ms
from gateway.core.transfers import overdue
from tests.unit.core.a6book import Book, codes, merge

MA, JA = ("MNG01", "MN-A"), ("JPN01", "JP-A")


def timeout(book: Book, tx: str = "TX-1", signer: str = "a6gw-demo", origin: str = "MNG01"):  # type: ignore[no-untyped-def]
    data = {
        "transaction_id": tx,
        "ca_id": "CA0001",
        "originating_registry": origin,
        "deadline": "2026-01-02T00:00:00.000Z",
    }
    return book.do(signer, "transfer.timeout", data)


def test_an_unanswered_transfer_is_cancelled_and_its_units_released(book: Book) -> None:
    assert book.transfer(MA, JA, [(1, 10)]).outcome == "accepted"
    assert ("MNG01", "MN-A", "reserved") in book.holdings()
    ev = timeout(book)
    assert (ev.outcome, codes(ev)) == ("recorded", [])
    # the decision's note (a6gw.decision.v2) names the transfer and the deadline it missed
    assert ev.note == "transfer TX-1 cancelled: no answer by 2026-01-02T00:00:00.000Z"
    assert ("MNG01", "MN-A", "reserved") not in book.holdings()
    assert merge(book.holdings()[("MNG01", "MN-A", "held")]) == [(1, 100)]
    assert book.state.get("transfers", "CA0001|TX-1")["status"] == "cancelled"  # type: ignore[index]
    assert {n.registry_id for n in ev.notices} == {"MNG01", "JPN01"}
    assert {n.kind for n in ev.notices} == {"transfer.cancelled"}
    # Nothing was first transferred: the units can go again, under a new transaction.
    assert book.transfer(MA, JA, [(1, 10)], tx="TX-2").actions == ("First transfer",)


def test_a_late_answer_after_the_timeout_is_trn002(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    timeout(book)
    ev = book.answer("JPN01")
    assert (ev.outcome, codes(ev)) == ("discrepancy", ["TRN-002"])
    assert ("JPN01", "JP-A", "held") not in book.holdings()


def test_a_timeout_after_the_answer_is_trn002_and_changes_nothing(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    assert book.answer("JPN01").outcome == "recorded"
    before = book.holdings()
    ev = timeout(book)
    assert (ev.outcome, codes(ev), ev.effects) == ("discrepancy", ["TRN-002"], ())
    assert book.holdings() == before


def test_timeout_of_an_unknown_transfer_is_trn001(book: Book) -> None:
    assert codes(timeout(book, tx="NOPE")) == ["TRN-001"]


def test_only_the_gateway_times_out(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    ev = timeout(book, signer="JPN01")
    assert (ev.outcome, codes(ev), ev.effects) == ("discrepancy", ["MSG-002"], ())


def test_proposals_carry_a_deadline_and_overdue_finds_them(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    book.transfer(MA, JA, [(11, 20)], tx="TX-2")
    book.answer("JPN01", tx="TX-2")
    tx = book.state.get("transfers", "CA0001|TX-1")
    assert tx is not None and tx["deadline"].endswith("Z")
    assert book.state.overdue(0) == []  # nothing is overdue before its deadline
    late = book.state.overdue(2**42)
    assert [t["transaction_id"] for t in late] == ["TX-1"]  # TX-2 was answered
    assert iso_ms(0) < tx["deadline"] < iso_ms(2**42)
    # the same question asked of a plain table of transfers
    table = book.state.tables["transfers"].items()
    assert overdue(table, 0) == []
    assert [t["transaction_id"] for t in overdue(table, 2**42)] == ["TX-1"]


def test_a_timed_out_transfer_is_no_longer_overdue(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    assert [t["transaction_id"] for t in book.state.overdue(2**42)] == ["TX-1"]
    timeout(book)
    assert book.state.overdue(2**42) == []
