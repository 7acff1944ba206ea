"""A6-015: an accepted answer that says what it credited must mirror what was debited.

2/CMA.3 annex para 33(a) and the DES mirrored transfer (domain.md §e.2 item 3): a transfer
settles only when the acquiring registry's record of the units equals the transferring
side's. A record that differs is a discrepancy and the transfer stays proposed.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core.model import Evaluation
from tests.unit.core.a6book import Book, codes, merge, only, rng

MA, JA = ("MNG01", "MN-A"), ("JPN01", "JP-A")


def credit(
    book: Book,
    ranges: list[tuple[int, int]],
    *,
    tx: str = "TX-1",
    vintage: int = 2025,
    unit_type: str = "JCM",
) -> Evaluation:
    """JPN01 accepts ``tx`` and says it credited ``ranges`` (all of one vintage and type)."""
    data: dict[str, Any] = {
        "transaction_id": tx,
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "answer": "accepted",
        "credited": [rng(s, e) | {"vintage": vintage, "unit_type": unit_type} for s, e in ranges],
    }
    return book.do("JPN01", "transfer.answer", data)


def status(book: Book, tx: str = "TX-1") -> str:
    rec = book.state.get("transfers", f"CA0001|{tx}")
    assert rec is not None
    return str(rec["status"])


def still_pending(book: Book, ranges: list[tuple[int, int]]) -> None:
    assert status(book) == "proposed"
    assert merge(book.holdings()[("MNG01", "MN-A", "reserved")]) == ranges
    assert ("JPN01", "JP-A", "held") not in book.holdings()


def test_a_matching_credited_record_settles_as_a_plain_acceptance(book: Book) -> None:
    plain = Book()
    plain.decide()
    plain.issue("MNG01", [(1, 100, "MN-A")])
    plain.authorize("MNG", [("MNG01", 1, 100)])
    for b in (book, plain):
        assert b.transfer(MA, JA, [(1, 10), (21, 30)]).outcome == "accepted"
    ev, want = credit(book, [(1, 10), (21, 30)]), plain.answer("JPN01")
    assert (ev.outcome, codes(ev), ev.actions) == ("recorded", [], ("Acquisition",))
    assert (ev.effects, ev.notices) == (want.effects, want.notices)
    assert [n.kind for n in ev.notices] == ["transfer.completed"]
    assert merge(book.holdings()[("JPN01", "JP-A", "held")]) == [(1, 10), (21, 30)]
    assert status(book) == "completed"


def test_a_short_credit_is_a6015_naming_the_missing_serials(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    assert only(credit(book, [(1, 7)]), "A6-015", "discrepancy") == [(8, 10)]
    still_pending(book, [(1, 10)])


def test_serials_credited_but_not_debited_or_twice_are_a6015(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    ev = credit(book, [(1, 12)])
    assert only(ev, "A6-015", "discrepancy") == [(11, 12)]
    assert "did not debit" in ev.findings[0].message
    ev = credit(book, [(1, 6), (5, 10)])
    assert only(ev, "A6-015", "discrepancy") == [(1, 6), (5, 10)]
    assert "credited twice" in ev.findings[0].message
    still_pending(book, [(1, 10)])


def test_another_vintage_or_unit_type_is_a6015(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    ev = credit(book, [(1, 10)], vintage=2024)
    assert only(ev, "A6-015", "discrepancy") == [(1, 10)]
    assert ev.findings[0].message == "units credited as vintage 2024 were debited as vintage 2025"
    ev = credit(book, [(1, 10)], unit_type="MO")
    assert only(ev, "A6-015", "discrepancy") == [(1, 10)]
    assert "unit type MO were debited as unit type JCM" in ev.findings[0].message
    still_pending(book, [(1, 10)])


def test_every_difference_is_listed_at_once(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    ev = credit(book, [(3, 12)], vintage=2024)
    assert (ev.outcome, codes(ev), ev.effects) == ("discrepancy", ["A6-015"] * 3, ())
    ranges = [[(r.start, r.end) for r in f.ranges] for f in ev.findings]
    assert ranges == [[(1, 2)], [(11, 12)], [(3, 10)]]


def test_the_same_serials_split_differently_settle(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10), (11, 20)])
    ev = credit(book, [(15, 20), (1, 4), (5, 14)])
    assert (ev.outcome, codes(ev), ev.actions) == ("recorded", [], ("Acquisition",))
    assert merge(book.holdings()[("JPN01", "JP-A", "held")]) == [(1, 20)]


def test_a_correct_answer_after_a_discrepancy_settles(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    assert codes(credit(book, [(1, 9)])) == ["A6-015"]
    ev = credit(book, [(1, 10)])
    assert (ev.outcome, codes(ev), [n.kind for n in ev.notices]) == (
        "recorded",
        [],
        ["transfer.completed"],
    )
    assert status(book) == "completed" and book.first() == {"AUTH-1": [(1, 10)]}
    assert merge(book.holdings()[("JPN01", "JP-A", "held")]) == [(1, 10)]


def test_a_discrepant_answer_leaves_the_transfer_to_its_timeout(book: Book) -> None:
    book.transfer(MA, JA, [(1, 10)])
    credit(book, [(2, 10)])
    data = {
        "transaction_id": "TX-1",
        "ca_id": "CA0001",
        "originating_registry": "MNG01",
        "deadline": "2026-01-02T00:00:00.000Z",
    }
    assert book.do("a6gw-demo", "transfer.timeout", data).outcome == "recorded"
    assert status(book) == "cancelled"
    assert merge(book.holdings()[("MNG01", "MN-A", "held")]) == [(1, 100)]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_split_of_the_debited_serials_settles_and_a_gap_is_named(
    data: st.DataObject,
) -> None:
    b = Book()
    b.decide()
    b.issue("MNG01", [(1, 100, "MN-A")])
    b.authorize("MNG", [("MNG01", 1, 100)])
    sent = [(5, 30), (41, 60), (61, 70)]
    b.transfer(MA, JA, sent)
    serials = [s for lo, hi in sent for s in range(lo, hi + 1)]
    gap = data.draw(st.none() | st.sampled_from(serials))
    kept = [s for s in serials if s != gap]
    # cut the serials into runs at random places, then send the runs in any order
    cuts = data.draw(st.sets(st.integers(1, len(kept) - 1), max_size=12))
    bounds = [0, *sorted(cuts), len(kept)]
    runs = [kept[i:j] for i, j in pairwise(bounds)]
    pieces = [(c[0], c[-1]) for run in runs for c in _contiguous(run)]
    ev = credit(b, data.draw(st.permutations(pieces)))
    if gap is None:
        assert (ev.outcome, codes(ev)) == ("recorded", [])
        assert merge(b.holdings()[("JPN01", "JP-A", "held")]) == [(5, 30), (41, 70)]
    else:
        assert only(ev, "A6-015", "discrepancy") == [(gap, gap)]
        assert status(b) == "proposed"


def _contiguous(run: list[int]) -> list[list[int]]:
    """``run`` cut where consecutive serials are not adjacent (a range has no holes)."""
    out: list[list[int]] = [[run[0]]]
    for s in run[1:]:
        if s == out[-1][-1] + 1:
            out[-1].append(s)
        else:
            out.append([s])
    return out


def test_a_credit_record_for_no_transfer_is_trn001_and_not_compared(book: Book) -> None:
    """An answer to a transfer never proposed answers nothing: its credited ranges are not
    compared with anything (TRN-001 alone), and a later proposal under that id waits."""
    ev = credit(book, [(1, 7)])
    assert (ev.outcome, codes(ev), ev.effects) == ("discrepancy", ["TRN-001"], ())
    assert book.transfer(MA, JA, [(1, 10)]).note == ""
    still_pending(book, [(1, 10)])
    settled = credit(book, [(1, 10)])
    assert (settled.outcome, settled.actions) == ("recorded", ("Acquisition",))
    assert status(book) == "completed"
