"""TRN-001: an answer to no pending transfer is a discrepancy at once and settles nothing.

A proposal and its answer pass through the same ledger partition, and the acquiring
registry learns of a proposal only from the gateway's notice, sent after the ledger decided
it: an answer the ledger sees before any proposal is not early, it answers nothing.
"""

from __future__ import annotations

from tests.unit.core.a6book import Book, codes, merge

MA, JA = ("MNG01", "MN-A"), ("JPN01", "JP-A")


def test_an_answer_to_no_transfer_is_trn001_at_once(book: Book) -> None:
    before = book.holdings()
    ev = book.answer("JPN01", tx="TX-7")
    assert (ev.outcome, codes(ev), ev.effects, ev.notices) == ("discrepancy", ["TRN-001"], (), ())
    (finding,) = ev.findings
    assert "TX-7" in finding.message and "CA0001" in finding.message
    assert "no transfer" in finding.message
    assert book.holdings() == before


def test_a_proposal_after_an_answer_to_nothing_waits_for_its_own_answer(book: Book) -> None:
    book.answer("JPN01", tx="TX-7")
    ev = book.transfer(MA, JA, [(1, 10)], tx="TX-7")
    assert (ev.outcome, ev.actions, ev.note) == ("accepted", ("First transfer",), "")
    assert [n.kind for n in ev.notices] == ["transfer.proposed"]
    assert book.holdings()[("MNG01", "MN-A", "reserved")] == [(1, 10)]
    assert book.state.get("transfers", "CA0001|TX-7")["status"] == "proposed"  # type: ignore[index]
    settled = book.answer("JPN01", tx="TX-7")
    assert (settled.outcome, settled.actions) == ("recorded", ("Acquisition",))
    assert merge(book.holdings()[("JPN01", "JP-A", "held")]) == [(1, 10)]


def test_a_rejection_before_any_proposal_is_trn001_too(book: Book) -> None:
    ev = book.answer("JPN01", tx="TX-7", answer="rejected")
    assert (ev.outcome, codes(ev), ev.effects) == ("discrepancy", ["TRN-001"], ())
    ev = book.transfer(MA, JA, [(1, 10)], tx="TX-7")
    assert [n.kind for n in ev.notices] == ["transfer.proposed"]
