"""Article 6 and JCM checks: each code from an input that fails only that way.

A6-001/A6-002 at transfers, JCM-001/002/005, AUT-001 and TRN-* are in ``test_ledger``; the
first-transfer derivation itself is in ``test_first_transfer``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.unit.core.a6book import DIRECTORY, Book, codes, only, rng

MA, MB, JA = ("MNG01", "MN-A"), ("MNG01", "MN-B"), ("JPN01", "JP-A")


def issued(**auth: Any) -> Book:
    """Decision D1, MNG01 [1, 100] in MN-A, and MNG's authorization AUTH-1 of [1, 100]
    (NDC, first international transfer) with the extra fields ``auth``."""
    b = Book()
    assert b.decide().outcome == "recorded"
    assert b.issue("MNG01", [(1, 100, "MN-A")]).outcome == "accepted"
    assert b.authorize("MNG", [("MNG01", 1, 100)], **auth).outcome == "recorded"
    return b


def abroad(b: Book, ranges: list[tuple[int, int]], tx: str = "TX-1") -> None:
    """Move ``ranges`` from MN-A to JP-A, accepted by JPN01."""
    assert b.transfer(MA, JA, ranges, tx=tx).outcome == "accepted"
    assert b.answer("JPN01", tx=tx).outcome == "recorded"


# ---- A6-002 and A6-003: what units may be used towards an NDC --------------------------


def test_a6002_use_of_foreign_units_never_first_transferred() -> None:
    b = issued()
    # Japan's snapshot names Mongolian units that were never first transferred
    assert (
        b.opening("JPN01", [rng(500, 520) | {"account_id": "JP-A"}], origin="MNG01").outcome
        == "recorded"
    )
    ev = b.terminal("retirement", "JPN01", "JP-A", [(500, 510), (515, 515)])
    assert only(ev, "A6-002") == [(500, 510), (515, 515)]
    # they may still be cancelled: no use towards an NDC
    assert b.terminal("cancellation", "JPN01", "JP-A", [(500, 510)]).actions == ("Cancellation",)


def test_a6003_oimp_only_units_cannot_be_used_towards_an_ndc() -> None:
    b = Book()
    b.decide()
    b.issue("MNG01", [(1, 100, "MN-A")])
    assert (
        b.authorize("MNG", [("MNG01", 1, 50)], auth_id="OIMP-1", purposes="OIMP").outcome
        == "recorded"
    )
    assert b.authorize("MNG", [("MNG01", 51, 100)], auth_id="NDC-1").outcome == "recorded"
    abroad(b, [(41, 60)])
    assert only(b.terminal("retirement", "JPN01", "JP-A", [(41, 60)]), "A6-003") == [(41, 50)]
    assert b.terminal("retirement", "JPN01", "JP-A", [(51, 60)]).actions == ("Use",)
    assert b.terminal("cancellation", "JPN01", "JP-A", [(41, 50)]).actions == ("Cancellation",)


@pytest.mark.parametrize("purposes", ["NDC", "NDC and OIMP", "NDC and IMP", "NDC and OP"])
def test_every_ndc_purpose_allows_a_use(purposes: str) -> None:
    b = issued(purposes=purposes)
    abroad(b, [(1, 10)])
    assert b.terminal("retirement", "JPN01", "JP-A", [(1, 10)]).actions == ("Use",)


@pytest.mark.parametrize("purposes", ["OIMP", "IMP", "OP"])
def test_every_non_ndc_purpose_forbids_a_use(purposes: str) -> None:
    b = issued(purposes=purposes)
    abroad(b, [(1, 10)])
    assert only(b.terminal("retirement", "JPN01", "JP-A", [(1, 10)]), "A6-003") == [(1, 10)]


# ---- A6-004: vintages ----------------------------------------------------------------


def test_a6004_vintage_before_2021_at_issuance() -> None:
    b = Book(directory=replace(DIRECTORY, ndc_period={}))  # no NDC periods: A6-004 alone
    assert b.decide(vintage=2020).outcome == "recorded"
    assert only(b.issue("MNG01", [(1, 10, "MN-A")], vintage=2020), "A6-004") == []
    b.directory = DIRECTORY  # with the demo's periods 2020 is outside MNG's too
    assert codes(b.issue("MNG01", [(1, 10, "MN-A")], vintage=2020)) == ["A6-004", "BLK-005"]
    assert b.decide("D2", vintage=2021).outcome == "recorded"
    assert b.issue("MNG01", [(1, 10, "MN-A")], decision_id="D2", vintage=2021).outcome == (
        "accepted"
    )


def test_a6004_vintage_outside_the_authorized_timeframe_at_first_transfer() -> None:
    b = Book()
    b.decide()
    b.issue("MNG01", [(1, 100, "MN-A")])
    b.authorize("MNG", [("MNG01", 1, 50)], authorized_timeframe="2021 - 2024")
    b.authorize("MNG", [("MNG01", 51, 100)], auth_id="AUTH-2", authorized_timeframe="2025 - 2030")
    assert only(b.transfer(MA, JA, [(41, 60)]), "A6-004") == [(41, 50)]
    assert b.transfer(MA, MB, [(41, 50)], tx="T2").outcome == "accepted"  # no first transfer
    assert b.transfer(MA, JA, [(51, 60)], tx="T3").actions == ("First transfer",)


def test_a6004_vintage_outside_the_timeframe_at_issuance_or_authorization() -> None:
    b = Book()
    b.decide()
    oimp: dict[str, Any] = {"purposes": "OIMP", "authorized_timeframe": "2021 - 2024"}
    assert (
        b.authorize("JPN", [("JPN01", 1, 50)], definition="Issuance", **oimp).outcome == "recorded"
    )
    # authorized first: the issuance is the first transfer, of vintage 2025
    assert only(b.issue("JPN01", [(41, 60, "JP-A")]), "A6-004") == [(41, 50)]
    assert b.issue("JPN01", [(51, 60, "JP-A"), (101, 120, "JP-A")]).outcome == "accepted"
    # issued first: the authorization is
    ev = b.authorize("JPN", [("JPN01", 111, 130)], auth_id="A2", definition="Authorisation", **oimp)
    assert only(ev, "A6-004", "discrepancy") == [(111, 120)]
    assert b.state.get("authorizations", "CA0001|A2") is None


@pytest.mark.parametrize("frame", ["2019 - 2025", "2020 - 2020", "2026 - 2024"])
def test_a6004_authorized_timeframe_from_2021_in_order(frame: str) -> None:
    b = Book()
    ev = b.authorize("MNG", [("MNG01", 1, 10)], authorized_timeframe=frame)
    assert only(ev, "A6-004", "discrepancy") == []


# ---- A6-005: the authorized quantity --------------------------------------------------


def test_a6005_first_transfers_beyond_the_authorized_quantity() -> None:
    b = issued(authorized_quantity="50")
    assert only(b.transfer(MA, JA, [(1, 30), (41, 61)]), "A6-005") == [(1, 30), (41, 61)]
    abroad(b, [(1, 30)])
    assert b.counter() == 30
    assert only(b.transfer(MA, JA, [(31, 51)], tx="T2"), "A6-005") == [(31, 51)]
    abroad(b, [(31, 50)], tx="T3")
    assert b.counter() == 50
    # units first transferred already move on freely; units within the limit stay home
    assert b.transfer(JA, MA, [(1, 10)], tx="T4").outcome == "accepted"
    assert b.transfer(MA, MB, [(51, 60)], tx="T5").outcome == "accepted"


def test_a6005_counts_the_units_pending_in_proposed_transfers() -> None:
    """Two proposals within the limit each, beyond it together: the second is refused.
    (Both answers may still accept; the counter rises only when one does.)"""
    b = issued(authorized_quantity="50")
    assert b.transfer(MA, JA, [(1, 30)], tx="T1").outcome == "accepted"
    assert only(b.transfer(MA, JA, [(31, 60)], tx="T2"), "A6-005") == [(31, 60)]
    assert b.transfer(MA, JA, [(31, 50)], tx="T2").outcome == "accepted"
    # a rejected answer frees its share of the limit
    assert b.answer("JPN01", tx="T1", answer="rejected").outcome == "recorded"
    assert b.transfer(MA, JA, [(51, 80)], tx="T3").outcome == "accepted"
    assert b.answer("JPN01", tx="T2").outcome == b.answer("JPN01", tx="T3").outcome == "recorded"
    assert b.counter() == 50 and b.first() == {"AUTH-1": [(31, 80)]}


def test_a6005_at_issuance_and_at_authorization() -> None:
    b = Book()
    b.decide()
    oimp: dict[str, Any] = {"purposes": "OIMP", "authorized_quantity": "20"}
    assert (
        b.authorize("JPN", [("JPN01", 1, 50)], definition="Issuance", **oimp).outcome == "recorded"
    )
    assert only(b.issue("JPN01", [(1, 30, "JP-A")]), "A6-005") == [(1, 30)]
    assert b.issue("JPN01", [(1, 20, "JP-A")]).outcome == "accepted"
    assert only(b.issue("JPN01", [(21, 21, "JP-A")]), "A6-005") == [(21, 21)]
    assert b.issue("JPN01", [(101, 130, "JP-A")]).outcome == "accepted"  # not covered
    ev = b.authorize("JPN", [("JPN01", 101, 130)], auth_id="A2", definition="Authorisation", **oimp)
    assert only(ev, "A6-005", "discrepancy") == [(101, 130)]


# ---- A6-006, A6-007: the first transfer as the sender and the authority see it ---------


def test_a6006_first_transfer_claim_must_match_what_the_gateway_derives() -> None:
    b = issued()
    assert only(b.transfer(MA, MB, [(1, 10)], first_transfer=True), "A6-006") == []
    assert only(b.transfer(MA, JA, [(1, 10)], first_transfer=False), "A6-006") == []
    assert b.transfer(MA, JA, [(1, 10)], first_transfer=True).actions == ("First transfer",)
    assert b.answer("JPN01").outcome == "recorded"
    # a unit is first transferred once
    ev = b.transfer(JA, MA, [(1, 10)], tx="TX-2", first_transfer=True)
    assert only(ev, "A6-006") == []
    assert b.transfer(JA, MA, [(1, 10)], tx="TX-2", first_transfer=False).actions == ("Transfer",)
    assert b.transfer(MA, MB, [(11, 20)], tx="TX-3", first_transfer=False).outcome == "accepted"


@pytest.mark.parametrize("definition", ["Authorisation", "Issuance", "Use or Cancellation"])
def test_a6007_ndc_purposes_need_the_first_international_transfer(definition: str) -> None:
    b = issued()
    ev = b.authorize("MNG", [("MNG01", 1, 10)], auth_id="X", definition=definition)
    assert only(ev, "A6-007", "discrepancy") == []
    ev = b.authorize("MNG", [("MNG01", 1, 10)], auth_id="X", definition=definition, purposes="OP")
    assert ev.outcome == "recorded"


# ---- A6-009, A6-010, A6-012: who uses the units, when ----------------------------------


@pytest.mark.parametrize("year", [2020, 2031, 2035])
def test_a6009_use_in_a_year_outside_the_using_partys_ndc_period(year: int) -> None:
    b = issued()
    ev = b.terminal("retirement", "MNG01", "MN-A", [(1, 10)], ndc_year=year)
    assert only(ev, "A6-009") == []
    abroad(b, [(11, 20)])
    ev = b.terminal("retirement", "JPN01", "JP-A", [(11, 20)], ndc_year=year)
    assert only(ev, "A6-009") == []
    for registry, account, serials in (("MNG01", "MN-A", (1, 10)), ("JPN01", "JP-A", (11, 20))):
        ev = b.terminal("retirement", registry, account, [serials], ndc_year=2030)
        assert ev.actions == ("Use",)


def test_a6010_the_using_party_is_the_holding_registrys() -> None:
    b = issued()
    abroad(b, [(1, 20)])
    ev = b.terminal("retirement", "JPN01", "JP-A", [(1, 10)], using_party="MNG")
    assert only(ev, "A6-010") == []
    # Japan using units still in Mongolia's registry, never first transferred: A6-002 too
    ev = b.terminal("retirement", "MNG01", "MN-A", [(21, 30)], using_party="JPN")
    assert codes(ev) == ["A6-002", "A6-010"]


def test_a6012_using_entity_must_be_authorized() -> None:
    b = issued(authorized_entity_ids=["JP-ENT-1", "JP-ENT-2"])
    abroad(b, [(1, 30)])
    ev = b.terminal("retirement", "JPN01", "JP-A", [(1, 10), (21, 25)], using_entity_id="JP-X")
    assert only(ev, "A6-012") == [(1, 10), (21, 25)]
    ev = b.terminal("retirement", "JPN01", "JP-A", [(1, 10)], using_entity_id="JP-ENT-2")
    assert ev.actions == ("Use",)
    assert b.terminal("retirement", "JPN01", "JP-A", [(11, 20)]).actions == ("Use",)  # no entity


# ---- A6-014, JCM-002, JCM-003, JCM-004 ----------------------------------------------


def test_a6014_a_non_ghg_metric_is_named_iff_the_metric_is_non_ghg() -> None:
    b = Book()
    ev = b.authorize("MNG", [("MNG01", 1, 10)], non_ghg_metric="MWh")
    assert only(ev, "A6-014", "discrepancy") == []
    ev = b.authorize("MNG", [("MNG01", 1, 10)], metric="non-GHG")
    assert only(ev, "A6-014", "discrepancy") == []
    ev = b.authorize("MNG", [("MNG01", 1, 10)], metric="non-GHG", non_ghg_metric="MWh")
    assert ev.outcome == "recorded"


def test_jcm002_allocation_to_one_registry_in_two_lines_adds_up() -> None:
    """Two project participants may hold accounts in one registry."""
    b = Book()
    allocation = [{"registry_id": "MNG01", "quantity": q} for q in ("60", "40")]
    data = {
        "decision_id": "D1",
        "ca_id": "CA0001",
        "project_id": "MN003",
        "monitoring_period": {"start": "2025-01-01", "end": "2025-06-30"},
        "vintage": 2025,
        "quantity": "100",
        "allocation": allocation,
    }
    assert b.do("JC-JPN-MNG", "jcm.issuance.decided", data).outcome == "recorded"
    assert b.issue("MNG01", [(1, 100, "MN-A")]).outcome == "accepted"
    assert codes(b.issue("MNG01", [(101, 101, "MN-A")])) == ["JCM-002", "QTY-003"]


def test_jcm003_only_the_acquiring_registry_answers() -> None:
    b = issued()
    assert b.transfer(MA, JA, [(1, 10)]).outcome == "accepted"
    for signer in ("MNG01", "IDN01"):
        for answer in ("accepted", "rejected"):
            ev = b.answer(signer, answer=answer)
            assert only(ev, "JCM-003", "discrepancy") == []
    assert b.holdings()[("MNG01", "MN-A", "reserved")] == [(1, 10)]
    assert b.answer("JPN01").actions == ("Acquisition",)


@pytest.mark.parametrize(
    ("kind", "to"),
    [
        ("retirement", "CAN"),
        ("retirement", "MN-B"),
        ("retirement", "NOPE"),
        ("cancellation", "RET"),
        ("cancellation", "MN-B"),
        ("cancellation", "NOPE"),
    ],
)
def test_jcm004_retire_or_cancel_into_an_account_of_that_type(kind: str, to: str) -> None:
    b = issued()
    assert only(b.terminal(kind, "MNG01", "MN-A", [(1, 10)], to=to), "JCM-004") == []


@pytest.mark.parametrize("change", ["block", "close"])
def test_jcm004_retire_or_cancel_into_an_open_account(change: str) -> None:
    b = issued()
    for kind, to in (("retirement", "RET"), ("cancellation", "CAN")):
        assert getattr(b, change)("MNG01", to).outcome == "recorded"
        assert only(b.terminal(kind, "MNG01", "MN-A", [(1, 10)]), "JCM-004") == []
    assert b.open("MNG01", "RET2", "retirement").outcome == "recorded"
    ev = b.terminal("retirement", "MNG01", "MN-A", [(1, 10)], to="RET2")
    assert ev.outcome == "accepted"
    assert b.holdings()[("MNG01", "RET2", "retired")] == [(1, 10)]
