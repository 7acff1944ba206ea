"""The first transfer, derived for every definition (2/CMA.3 annex para 2; CN-2026 Table 49(b)).

- "First international transfer": when the acquiring registry accepts a cross-Party move;
- "Authorisation" and "Issuance": at whichever of the authorization and the issuance comes
  second;
- "Use or Cancellation": at the retirement or cancellation.

Each unit is first transferred once, under one authorization whose purposes it keeps through
every later transfer, and that authorization's counter rises by exactly the units.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.core.a6book import Book, only

MA, MB, JA, JB = ("MNG01", "MN-A"), ("MNG01", "MN-B"), ("JPN01", "JP-A"), ("JPN01", "JP-B")


def counters_match(b: Book) -> bool:
    """Every authorization's counter equals the units first transferred under it."""
    units: dict[str, int] = {}
    for blk in b.state.blocks():
        if blk.first_transferred and blk.authorization_id:
            units[blk.authorization_id] = units.get(blk.authorization_id, 0) + blk.quantity
    return all(
        int(a["first_transferred_qty"]) == units.get(a["authorization_id"], 0)
        for a in (b.state.get("authorizations", k) or {} for k in b.state.tables["authorizations"])
    )


def issued() -> Book:
    b = Book()
    assert b.decide().outcome == "recorded"
    assert b.issue("MNG01", [(1, 100, "MN-A")]).outcome == "accepted"
    return b


def test_first_international_transfer_when_the_acquiring_registry_accepts() -> None:
    b = issued()
    ev = b.authorize("MNG", [("MNG01", 1, 100)])
    assert (ev.outcome, ev.actions) == ("recorded", ("Authorization",))
    assert b.transfer(MA, JA, [(1, 30)], tx="T1").actions == ("First transfer",)
    assert b.first() == {} and b.counter() == 0  # proposed, not yet transferred
    assert b.answer("JPN01", tx="T1", answer="rejected").actions == ()
    assert b.first() == {} and b.counter() == 0
    assert b.transfer(MA, JA, [(1, 30)], tx="T2").actions == ("First transfer",)
    assert b.answer("JPN01", tx="T2").actions == ("Acquisition",)
    assert b.first() == {"AUTH-1": [(1, 30)]} and b.counter() == 30 and counters_match(b)
    # once: back home and abroad again is no first transfer
    assert b.transfer(JA, MA, [(1, 30)], tx="T3").actions == ("Transfer",)
    assert b.answer("MNG01", tx="T3").actions == ("Acquisition",)
    assert b.transfer(MA, JA, [(1, 40)], tx="T4").actions == ("First transfer",)  # 31-40 are
    assert b.answer("JPN01", tx="T4").outcome == "recorded"
    assert b.first() == {"AUTH-1": [(1, 40)]} and b.counter() == 40 and counters_match(b)
    # moves inside one Party never are
    assert b.transfer(MA, MB, [(41, 60)], tx="T5").actions == ("Transfer",)
    assert b.transfer(JA, JB, [(1, 40)], tx="T6").actions == ("Transfer",)
    assert b.counter() == 40 and counters_match(b)


def test_purposes_other_than_ndc_first_transfer_internationally_if_so_defined() -> None:
    b = issued()
    assert b.authorize("MNG", [("MNG01", 1, 100)], purposes="OIMP").outcome == "recorded"
    assert b.transfer(MA, JA, [(1, 10)]).actions == ("First transfer",)
    assert b.answer("JPN01").outcome == "recorded"
    assert b.first() == {"AUTH-1": [(1, 10)]} and counters_match(b)


@pytest.mark.parametrize("definition", ["Authorisation", "Issuance"])
def test_authorisation_or_issuance_at_whichever_comes_second(definition: str) -> None:
    b = issued()
    assert b.terminal("cancellation", "MNG01", "MN-A", [(91, 100)]).outcome == "accepted"
    oimp: dict[str, Any] = {"purposes": "OIMP", "definition": definition}
    # issued first: the authorization first transfers the units it covers (not the
    # cancelled ones, nor serials not issued yet)
    ev = b.authorize("MNG", [("MNG01", 41, 150)], **oimp)
    assert (ev.outcome, ev.actions) == ("recorded", ("Authorization", "First transfer"))
    assert b.first() == {"AUTH-1": [(41, 90)]} and b.counter() == 50 and counters_match(b)
    # authorized first: the issuance does
    ev = b.issue("MNG01", [(101, 200, "MN-B")])
    assert (ev.outcome, ev.actions) == ("accepted", ("Issuance", "First transfer"))
    assert b.first() == {"AUTH-1": [(41, 90), (101, 150)]} and b.counter() == 100
    # a new version covering more first transfers only the newly covered units
    ev = b.authorize("MNG", [("MNG01", 1, 150)], version=2, status="amended", **oimp)
    assert ev.actions == ("Authorization", "First transfer")
    assert b.first() == {"AUTH-1": [(1, 90), (101, 150)]} and b.counter() == 140
    ev = b.authorize("MNG", [("MNG01", 1, 150)], version=3, status="amended", **oimp)
    assert ev.actions == ("Authorization",) and b.counter() == 140
    # later moves, abroad included, and uses are no first transfer
    assert b.transfer(MA, JA, [(1, 10)]).actions == ("Transfer",)
    assert b.answer("JPN01").actions == ("Acquisition",)
    assert b.terminal("cancellation", "JPN01", "JP-A", [(1, 5)]).actions == ("Cancellation",)
    assert b.terminal("retirement", "MNG01", "MN-A", [(11, 20)]).actions == ("Use",)
    assert b.counter() == 140 and counters_match(b)
    # a revoked authorization first transfers nothing
    ev = b.authorize("MNG", [("MNG01", 1, 200)], version=4, status="revoked", **oimp)
    assert ev.actions == ("Authorization",)
    assert b.issue("MNG01", [(201, 210, "MN-B")]).actions == ("Issuance",)
    assert b.counter() == 140 and counters_match(b)


def test_use_or_cancellation_at_the_retirement_or_cancellation() -> None:
    b = issued()
    ev = b.authorize("MNG", [("MNG01", 1, 100)], purposes="OIMP", definition="Use or Cancellation")
    assert (ev.outcome, ev.actions) == ("recorded", ("Authorization",))
    assert b.issue("MNG01", [(101, 110, "MN-A")]).actions == ("Issuance",)
    # moving the units, abroad included, is not their first transfer
    assert b.transfer(MA, JA, [(1, 20)]).actions == ("Transfer",)
    assert b.answer("JPN01").actions == ("Acquisition",)
    assert b.first() == {} and b.counter() == 0
    ev = b.terminal("cancellation", "JPN01", "JP-A", [(1, 10)])
    assert ev.actions == ("First transfer", "Cancellation")
    assert b.first() == {"AUTH-1": [(1, 10)]} and b.counter() == 10
    ev = b.terminal("retirement", "MNG01", "MN-A", [(21, 30)])  # Mongolia's own use
    assert ev.actions == ("First transfer", "Use")
    assert b.first() == {"AUTH-1": [(1, 10), (21, 30)]} and b.counter() == 20
    # a use towards Japan's NDC: the units' purposes do not cover it
    assert only(b.terminal("retirement", "JPN01", "JP-A", [(11, 20)]), "A6-003") == [(11, 20)]
    # units no authorization covers are cancelled with no first transfer
    assert b.terminal("cancellation", "MNG01", "MN-A", [(101, 105)]).actions == ("Cancellation",)
    assert b.counter() == 20
    # a cancellation of both kinds first transfers exactly the covered units
    ev = b.terminal("cancellation", "MNG01", "MN-A", [(95, 100), (106, 110)])
    assert ev.actions == ("First transfer", "Cancellation")
    assert b.first() == {"AUTH-1": [(1, 10), (21, 30), (95, 100)]} and b.counter() == 26
    assert counters_match(b)


def test_purposes_survive_later_transfers() -> None:
    b = issued()
    assert b.authorize("MNG", [("MNG01", 1, 50)], auth_id="NDC-1").outcome == "recorded"
    ev = b.authorize("MNG", [("MNG01", 51, 100)], auth_id="OIMP-1", purposes="OIMP")
    assert ev.outcome == "recorded"
    assert b.transfer(MA, JA, [(1, 100)]).actions == ("First transfer",)
    assert b.answer("JPN01").outcome == "recorded"
    assert b.first() == {"NDC-1": [(1, 50)], "OIMP-1": [(51, 100)]}
    # on within Japan, back to Mongolia and to Japan again
    assert b.transfer(JA, JB, [(1, 100)], tx="T2").outcome == "accepted"
    assert b.transfer(JB, MA, [(41, 60)], tx="T3").outcome == "accepted"
    assert b.answer("MNG01", tx="T3").outcome == "recorded"
    assert b.transfer(MA, JB, [(41, 60)], tx="T4").actions == ("Transfer",)
    assert b.answer("JPN01", tx="T4").outcome == "recorded"
    # a newer authorization of the same serials for NDC use changes nothing for units
    # already first transferred under another
    assert b.authorize("MNG", [("MNG01", 51, 100)], auth_id="NDC-2").outcome == "recorded"
    ev = b.terminal("retirement", "JPN01", "JP-B", [(1, 100)])
    assert only(ev, "A6-003") == [(51, 100)]
    assert b.terminal("retirement", "JPN01", "JP-B", [(1, 50)]).actions == ("Use",)
    assert b.terminal("cancellation", "JPN01", "JP-B", [(51, 100)]).actions == ("Cancellation",)
    assert (b.counter("NDC-1"), b.counter("OIMP-1"), b.counter("NDC-2")) == (50, 50, 0)
    assert counters_match(b)


def test_first_transfers_in_one_proposal_under_several_authorizations() -> None:
    b = issued()
    b.authorize("MNG", [("MNG01", 1, 20), ("MNG01", 61, 70)])
    b.authorize("MNG", [("MNG01", 21, 40)], auth_id="AUTH-2", purposes="OIMP")
    ev = b.authorize(
        "MNG",
        [("MNG01", 41, 60)],
        auth_id="AUTH-3",
        purposes="OIMP",
        definition="Use or Cancellation",
    )
    assert ev.outcome == "recorded"
    assert b.transfer(MA, JA, [(11, 65)]).actions == ("First transfer",)
    assert b.answer("JPN01").outcome == "recorded"
    assert b.first() == {"AUTH-1": [(11, 20), (61, 65)], "AUTH-2": [(21, 40)]}
    assert (b.counter(), b.counter("AUTH-2"), b.counter("AUTH-3")) == (15, 20, 0)
    assert counters_match(b)
