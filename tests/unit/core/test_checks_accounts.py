"""Account, block, quantity and opening-holdings checks: each from an input failing only so.

Where a code cannot fail alone the test says why and checks the exact set instead:
QTY-002 is only looked for when BLK-003 fails (an account short of units does not hold some
of them); QTY-003 only when an allocation is exceeded too (JCM-002), because a recorded
decision's allocation adds up to its quantity.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.core.a6book import DIRECTORY, Book, codes, merge, only, ranges_of, rng

MA, MB, JA = ("MNG01", "MN-A"), ("MNG01", "MN-B"), ("JPN01", "JP-A")


def held(b: Book, registry: str, account: str) -> list[tuple[int, int]]:
    return merge(b.holdings().get((registry, account, "held"), []))


# ---- accounts -------------------------------------------------------------------------


def test_acc001_status_change_of_an_account_that_does_not_exist(book: Book) -> None:
    assert only(book.block("MNG01", "NOPE"), "ACC-001", "discrepancy") == []
    assert only(book.close("MNG01", "NOPE"), "ACC-001", "discrepancy") == []
    # an account id is per registry: JPN01 has no MN-A
    assert only(book.block("JPN01", "MN-A"), "ACC-001", "discrepancy") == []


def test_acc001_transferring_account_that_does_not_exist(book: Book) -> None:
    """An account that does not exist holds nothing: BLK-003 and QTY-002 come with it."""
    ev = book.transfer(("MNG01", "NOPE"), MB, [(1, 10)])
    assert codes(ev) == ["ACC-001", "BLK-003", "QTY-002"]
    assert ranges_of(ev, "BLK-003") == [(1, 10)]
    ev = book.terminal("cancellation", "MNG01", "NOPE", [(1, 10)])
    assert codes(ev) == ["ACC-001", "BLK-003", "QTY-002"]


def test_acc002_blocked_or_closed_transferring_account(book: Book) -> None:
    assert book.transfer(MA, MB, [(51, 100)]).outcome == "accepted"
    assert book.block("MNG01", "MN-A").outcome == "recorded"
    assert only(book.transfer(MA, MB, [(1, 10)], tx="T2"), "ACC-002") == []
    assert only(book.transfer(MA, JA, [(1, 10)], tx="T3"), "ACC-002") == []
    assert only(book.terminal("retirement", "MNG01", "MN-A", [(1, 10)]), "ACC-002") == []
    assert book.close("MNG01", "MN-B").outcome == "recorded"
    assert only(book.transfer(MB, ("MNG01", "A"), [(51, 60)], tx="T4"), "ACC-002") == []
    assert only(book.terminal("cancellation", "MNG01", "MN-B", [(51, 60)]), "ACC-002") == []
    # a closed account stays closed
    assert only(book.block("MNG01", "MN-B"), "ACC-002", "discrepancy") == []
    assert only(book.close("MNG01", "MN-B"), "ACC-002", "discrepancy") == []
    assert held(book, *MA) == [(1, 50)] and held(book, *MB) == [(51, 100)]


def test_account_status_changes_only_by_their_registry(book: Book) -> None:
    assert only(book.block("MNG01", "MN-A", signer="JPN01"), "MSG-002", "discrepancy") == []
    assert only(book.close("MNG01", "MN-A", signer="JPN01"), "MSG-002", "discrepancy") == []
    assert book.state.get("accounts", "MNG01|MN-A") == {
        "registry_id": "MNG01",
        "account_id": "MN-A",
        "account_type": "government-holding",
        "holder": "someone",
        "status": "open",
    }


def test_acc003_acquiring_account_that_does_not_exist(book: Book) -> None:
    assert only(book.transfer(MA, ("MNG01", "NOPE"), [(1, 10)]), "ACC-003") == []
    assert only(book.transfer(MA, ("JPN01", "MN-B"), [(1, 10)]), "ACC-003") == []
    assert only(book.issue("MNG01", [(101, 110, "NOPE")]), "ACC-003") == []
    ev = book.opening("JPN01", [rng(1, 10) | {"account_id": "NOPE"}])
    assert only(ev, "ACC-003", "discrepancy") == []


@pytest.mark.parametrize("account", ["RET", "CAN"])
def test_acc004_acquiring_account_of_a_type_that_cannot_receive(book: Book, account: str) -> None:
    assert only(book.transfer(MA, ("MNG01", account), [(1, 10)]), "ACC-004") == []
    assert only(book.transfer(MA, ("JPN01", account), [(1, 10)]), "ACC-004") == []
    assert only(book.issue("MNG01", [(101, 110, account)]), "ACC-004") == []


def test_acc005_acquiring_account_not_open(book: Book) -> None:
    assert book.block("MNG01", "MN-B").outcome == "recorded"
    assert only(book.transfer(MA, MB, [(1, 10)]), "ACC-005") == []
    assert only(book.issue("MNG01", [(101, 110, "MN-B")]), "ACC-005") == []
    assert book.close("JPN01", "JP-A").outcome == "recorded"
    assert only(book.transfer(MA, JA, [(1, 10)]), "ACC-005") == []
    assert held(book, *MA) == [(1, 100)]


def test_acc008_retirement_or_cancellation_account_cannot_give_units_away(book: Book) -> None:
    # opening holdings may name held units in any account; those accounts still cannot
    # give them away
    blocks = [rng(500, 509) | {"account_id": "CAN"}, rng(510, 519) | {"account_id": "RET"}]
    assert book.opening("MNG01", blocks).outcome == "recorded"
    assert only(book.transfer(("MNG01", "CAN"), MB, [(500, 509)]), "ACC-008") == []
    assert only(book.transfer(("MNG01", "RET"), MB, [(510, 519)]), "ACC-008") == []
    assert only(book.terminal("retirement", "MNG01", "CAN", [(500, 501)]), "ACC-008") == []
    assert only(book.terminal("cancellation", "MNG01", "RET", [(510, 511)]), "ACC-008") == []


def test_acc010_account_opened_twice(book: Book) -> None:
    assert only(book.open("MNG01", "MN-A"), "ACC-010", "discrepancy") == []
    assert book.close("MNG01", "MN-B").outcome == "recorded"
    ev = book.open("MNG01", "MN-B", "government-holding")
    assert only(ev, "ACC-010", "discrepancy") == []  # a closed account is not reopened
    rec = book.state.get("accounts", "MNG01|MN-B")
    assert rec is not None
    assert (rec["status"], rec["account_type"]) == ("closed", "participant-holding")
    assert book.open("IDN01", "MN-A").outcome == "recorded"  # another registry's account
    ev = book.do(
        "JPN01",
        "account.opened",
        {
            "registry_id": "MNG01",
            "account_id": "NEW",
            "account_type": "government-holding",
            "holder": "x",
        },
    )
    assert only(ev, "MSG-002", "discrepancy") == []


# ---- blocks ---------------------------------------------------------------------------


def test_blk005_vintage_outside_the_ndc_period_names_exactly_the_parts(book: Book) -> None:
    # opening holdings are a registry's snapshot, recorded as they are; moving them is checked
    blocks = [
        rng(1001, 1100) | {"account_id": "MN-A", "vintage": 2031},
        rng(1101, 1200) | {"account_id": "MN-A", "vintage": 2030},
    ]
    assert book.opening("MNG01", blocks).outcome == "recorded"
    assert only(book.transfer(MA, MB, [(1050, 1060), (1090, 1150)]), "BLK-005") == [
        (1050, 1060),
        (1090, 1100),
    ]
    ev = book.terminal("cancellation", "MNG01", "MN-A", [(1001, 1001), (1200, 1200)])
    assert only(ev, "BLK-005") == [(1001, 1001)]
    assert book.transfer(MA, MB, [(1101, 1200)], tx="T2").outcome == "accepted"
    # issuance: the decision's vintage 2031 is after MNG's NDC period 2021-2030
    assert book.decide("D31", vintage=2031).outcome == "recorded"
    ev = book.issue("MNG01", [(2001, 2010, "MN-A"), (2020, 2030, "MN-B")], decision_id="D31")
    assert only(ev, "JCM-001") == []  # issued as vintage 2025: not the decision's
    ev = book.issue(
        "MNG01", [(2001, 2010, "MN-A"), (2020, 2030, "MN-B")], decision_id="D31", vintage=2031
    )
    assert only(ev, "BLK-005") == [(2001, 2010), (2020, 2030)]
    # a Party without a configured NDC period has nothing to check against
    book.directory = replace(DIRECTORY, ndc_period={})
    ev = book.issue("MNG01", [(2001, 2010, "MN-A")], decision_id="D31", vintage=2031)
    assert ev.outcome == "accepted"


def test_blk008_unit_type_the_approach_does_not_issue(book: Book) -> None:
    for unit_type in ("MO", "A6.4ER"):
        ev = book.issue("MNG01", [(101, 110, "MN-A")], unit_type=unit_type)
        assert only(ev, "BLK-008") == []
    book.directory = replace(DIRECTORY, ca_unit_types={"CA0001": ("JCM", "MO")})
    assert book.issue("MNG01", [(101, 110, "MN-A")], unit_type="MO").outcome == "accepted"


def test_blk004_opening_holdings_of_serials_already_recorded(book: Book) -> None:
    ev = book.opening("MNG01", [rng(95, 105) | {"account_id": "MN-A"}])
    assert only(ev, "BLK-004", "discrepancy") == [(95, 100)]
    # and issuance of serials an opening recorded
    assert book.opening("JPN01", [rng(300, 309) | {"account_id": "JP-A"}]).outcome == "recorded"
    assert only(book.issue("JPN01", [(305, 315, "JP-A")]), "BLK-004") == [(305, 309)]


# ---- quantities -----------------------------------------------------------------------


def test_qty001_declared_quantity_is_positive_and_equals_the_units(book: Book) -> None:
    ev = book.issue("MNG01", [(101, 110, "MN-A"), (121, 130, "MN-A")], quantity="21")
    assert only(ev, "QTY-001") == []
    assert only(book.transfer(MA, MB, [(1, 10)], quantity="0"), "QTY-001") == []
    assert only(book.transfer(MA, MB, [(1, 10)], quantity="11"), "QTY-001") == []
    ev = book.terminal("retirement", "MNG01", "MN-A", [(1, 10)], quantity="9")
    assert only(ev, "QTY-001") == []
    ev = book.terminal("cancellation", "MNG01", "MN-A", [(1, 10)], quantity="1")
    assert only(ev, "QTY-001") == []
    # the right count passes
    assert book.transfer(MA, MB, [(1, 10), (21, 30)], quantity="20").outcome == "accepted"
    ev = book.issue("MNG01", [(101, 110, "MN-A"), (121, 130, "MN-A")], quantity="20")
    assert ev.outcome == "accepted"


def test_qty002_overdrawn_account_comes_with_blk003(book: Book) -> None:
    ev = book.transfer(MA, MB, [(1, 101)])  # MN-A holds 100 units
    assert codes(ev) == ["BLK-003", "QTY-002"] and ranges_of(ev, "BLK-003") == [(101, 101)]
    assert book.transfer(MA, MB, [(91, 100)], tx="T2").outcome == "accepted"
    # units the account does not hold, but no more than it holds: BLK-003 alone
    assert only(book.transfer(MA, MB, [(85, 94)], tx="T3"), "BLK-003") == [(91, 94)]
    ev = book.terminal("cancellation", "MNG01", "MN-B", [(91, 100), (200, 210)])
    assert codes(ev) == ["BLK-003", "QTY-002"] and ranges_of(ev, "BLK-003") == [(200, 210)]
    ev = book.terminal("retirement", "MNG01", "MN-B", [(90, 100)])
    assert codes(ev) == ["BLK-003", "QTY-002"] and ranges_of(ev, "BLK-003") == [(90, 90)]


def test_qty003_issuance_beyond_the_decided_quantity_comes_with_jcm002() -> None:
    b = Book()
    assert b.decide(MNG01=60, JPN01=40).outcome == "recorded"
    assert b.issue("MNG01", [(1, 60, "MN-A")]).outcome == "accepted"
    assert b.issue("JPN01", [(1, 40, "JP-A")]).outcome == "accepted"
    ev = b.issue("MNG01", [(61, 62, "MN-A")])
    assert codes(ev) == ["JCM-002", "QTY-003"]
    assert ranges_of(ev, "JCM-002") == ranges_of(ev, "QTY-003") == [(61, 62)]
    decision = b.state.get("jc_decisions", "CA0001|D1")
    assert decision is not None and decision["issued"] == {"MNG01": "60", "JPN01": "40"}


# ---- opening holdings -----------------------------------------------------------------


def test_opening_holdings_become_blocks_with_their_attributes(book: Book) -> None:
    ev = book.opening(
        "JPN01",
        [
            rng(200, 209) | {"account_id": "JP-A", "first_transferred": True},
            rng(210, 219) | {"account_id": "RET", "state": "retired", "first_transferred": True},
        ],
        origin="MNG01",
    )
    assert (ev.outcome, ev.findings, ev.quantity) == ("recorded", (), 20)
    ev = book.opening("JPN01", [rng(1, 5) | {"account_id": "JP-A", "vintage": 2024}])
    assert ev.outcome == "recorded"  # each serial space has its own opening
    blocks = {
        (b.origin, b.start, b.end, b.account, b.state, b.vintage) for b in book.state.blocks()
    }
    assert blocks >= {
        ("MNG01", 200, 209, "JP-A", "held", 2025),
        ("MNG01", 210, 219, "RET", "retired", 2025),
        ("JPN01", 1, 5, "JP-A", "held", 2024),
    }
    assert book.state.get("openings", "JPN01|CA0001|MNG01") == {
        "event_id": "ev",
        "as_of": "2026-01-01",
    }
    # the units move like any others; retired ones never do
    assert book.transfer(JA, ("JPN01", "JP-B"), [(200, 204)], signer="JPN01").outcome == (
        "accepted"
    )
    assert only(book.transfer(JA, ("JPN01", "JP-B"), [(205, 212)]), "BLK-007") == [(210, 212)]


def test_opn001_opening_holdings_are_recorded_once(book: Book) -> None:
    assert book.opening("JPN01", [rng(1, 10) | {"account_id": "JP-A"}]).outcome == "recorded"
    ev = book.opening("JPN01", [rng(11, 20) | {"account_id": "JP-B"}])
    assert only(ev, "OPN-001", "discrepancy") == []
    assert merge(book.holdings()[("JPN01", "JP-A", "held")]) == [(1, 10)]
    assert ("JPN01", "JP-B", "held") not in book.holdings()


def test_opening_holdings_only_from_the_registry_itself(book: Book) -> None:
    ev = book.opening("JPN01", [rng(1, 10) | {"account_id": "JP-A"}], signer="MNG01")
    assert only(ev, "MSG-002", "discrepancy") == []
    ev = book.opening("IDN01", [rng(1, 10) | {"account_id": "ID-A"}])  # not in CA0001
    assert only(ev, "A6-001", "discrepancy") == []
    assert book.opening("IDN01", [rng(1, 10) | {"account_id": "ID-A"}], ca="CA0002").outcome == (
        "recorded"
    )


def test_a6013_unknown_registry(book: Book) -> None:
    ev = book.opening("MNG01", [rng(500, 510) | {"account_id": "MN-A"}], origin="XYZ01")
    assert only(ev, "A6-013", "discrepancy") == []
    ev = book.authorize("MNG", [("XYZ01", 1, 10)], auth_id="X")
    assert only(ev, "A6-013", "discrepancy") == []
    assert only(book.decide("D2", MNG01=10, XYZ01=10), "A6-013", "discrepancy") == []
    # a transfer there: no account there (ACC-003), no Party in the approach (A6-001)
    ev = book.transfer(MA, ("XYZ01", "X"), [(1, 10)])
    assert codes(ev) == ["A6-001", "A6-013", "ACC-003"]
