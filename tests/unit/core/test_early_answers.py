"""An answer that arrives before its proposal waits; the proposal settles it on arrival."""

from __future__ import annotations

from a6book import Book, codes, merge

MA, JA = ("MNG01", "MN-A"), ("JPN01", "JP-A")


def test_an_early_acceptance_completes_the_transfer_when_it_is_proposed(book: Book) -> None:
    early = book.answer("JPN01")
    assert (early.outcome, codes(early), early.note) == (
        "recorded",
        [],
        "no proposal TX-1 yet: the answer waits for it",
    )
    ev = book.transfer(MA, JA, [(1, 10)])
    assert (ev.outcome, ev.actions) == ("accepted", ("First transfer", "Acquisition"))
    assert "earlier answer (accepted)" in ev.note
    assert [n.kind for n in ev.notices] == ["transfer.completed"]
    assert book.holdings()[("JPN01", "JP-A", "held")] == [(1, 10)]
    assert book.state.get("transfers", "CA0001|TX-1")["status"] == "completed"  # type: ignore[index]
    blocks = [b for b in book.state.blocks() if b.registry == "JPN01"]
    assert all(b.first_transferred for b in blocks)
    auth = book.state.get("authorizations", "CA0001|AUTH-1")
    assert auth is not None and auth["first_transferred_qty"] == "10"
    # Used once: a later proposal with the same id is refused, a new one waits normally.
    assert codes(book.transfer(MA, JA, [(11, 20)], tx="TX-1")) == ["TRN-004"]
    assert [n.kind for n in book.transfer(MA, JA, [(11, 20)], tx="TX-2").notices] == [
        "transfer.proposed"
    ]


def test_an_early_rejection_leaves_the_units_where_they_are(book: Book) -> None:
    book.answer("JPN01", answer="rejected")
    ev = book.transfer(MA, JA, [(1, 10)])
    assert ev.outcome == "accepted" and [n.kind for n in ev.notices] == ["transfer.rejected"]
    assert merge(book.holdings()[("MNG01", "MN-A", "held")]) == [(1, 100)]
    assert ("MNG01", "MN-A", "reserved") not in book.holdings()
    assert book.state.get("transfers", "CA0001|TX-1")["status"] == "rejected"  # type: ignore[index]


def test_an_early_answer_from_another_registry_does_not_settle_anything(book: Book) -> None:
    book.answer("MNG01")  # not the acquiring registry of the transfer that follows
    ev = book.transfer(MA, JA, [(1, 10)])
    assert [n.kind for n in ev.notices] == ["transfer.proposed"]
    assert ("MNG01", "MN-A", "reserved") in book.holdings()


def test_a_second_answer_waiting_for_the_same_proposal_is_trn001(book: Book) -> None:
    book.answer("JPN01", tx="TX-9")
    ev = book.answer("JPN01", tx="TX-9", answer="rejected")
    assert (ev.outcome, codes(ev), ev.effects) == ("discrepancy", ["TRN-001"], ())
