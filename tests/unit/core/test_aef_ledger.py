"""The AEF roll-forward over a log the ledger itself wrote: every kind of first transfer
(to another Party, at issuance, at authorization, at use or cancellation), transfers back,
uses, cancellations and opening holdings, over two years, for both Parties."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.core import aef_vocab as v
from gateway.core.aef import build
from gateway.core.aef_rollforward import roll_forward
from gateway.core.blocks import Block
from gateway.core.decision import decision_entry
from gateway.core.ledger import evaluate
from gateway.core.model import Evaluation
from tests.unit.core.a6book import Book, make_event

AUTH: dict[str, Any] = {"sectors": ["Energy generation"], "mitigation_type": "Emission reductions"}
OIMP: dict[str, Any] = {"purposes": "OIMP"} | AUTH
REGISTRIES = {"JPN": {"JPN01"}, "MNG": {"MNG01"}}


@dataclass
class LoggedBook(Book):
    """A :class:`Book` that keeps the audit entry of each decision, decided at ``now``."""

    now: str = "2025-01-01T00:00:00.000Z"
    log: list[dict[str, Any]] = field(default_factory=list)

    def do(self, principal: str, name: str, data: dict[str, Any]) -> Evaluation:
        event = make_event(principal, name, data, event_id=f"ev-{self.version}")
        out = evaluate(event, self.state, self.directory)
        self.state.apply(out.effects, self.version)
        self.version += 1
        after = [Block.from_record(e.value) for e in out.effects if e.table == "blocks"]
        ca = data.get("ca_id")
        self.log.append(
            decision_entry(event, out, decided_at=self.now, blocks_after=after, ca_id=ca)
        )
        return out


def ledger() -> LoggedBook:
    b = LoggedBook()
    b.now = "2025-03-01T00:00:00.000Z"
    assert b.decide().outcome == "recorded"
    assert b.issue("MNG01", [(1, 1000, "MN-A")]).outcome == "accepted"
    assert b.authorize("MNG", [("MNG01", 1, 300)], **AUTH).outcome == "recorded"
    # OIMP, first transferred at issuance (issued after the authorization)
    assert (
        b.authorize(
            "MNG", [("MNG01", 2001, 2100)], auth_id="AUTH-2", definition="Issuance", **OIMP
        ).outcome
        == "recorded"
    )
    assert b.issue("MNG01", [(2001, 2100, "MN-A")]).actions == ("Issuance", "First transfer")
    # OIMP, first transferred at authorization (issued before it)
    got = b.authorize(
        "MNG", [("MNG01", 401, 450)], auth_id="AUTH-3", definition="Authorisation", **OIMP
    )
    assert got.actions == ("Authorization", "First transfer")
    # OIMP, first transferred at use or cancellation: a cancellation of 20
    assert (
        b.authorize(
            "MNG", [("MNG01", 501, 550)], auth_id="AUTH-4", definition="Use or Cancellation", **OIMP
        ).outcome
        == "recorded"
    )
    assert b.terminal("cancellation", "MNG01", "MN-A", [(501, 520)]).actions == (
        "First transfer",
        "Cancellation",
    )
    # NDC: the first transfer to Japan, which uses 50
    b.now = "2025-06-01T00:00:00.000Z"
    assert b.transfer(("MNG01", "MN-A"), ("JPN01", "JP-A"), [(1, 300)]).outcome == "accepted"
    assert b.answer("JPN01").actions == ("Acquisition",)
    assert b.terminal("retirement", "JPN01", "JP-A", [(1, 50)]).actions == ("Use",)
    # 2026: Japan moves 50 back, uses 10 more; Mongolia cancels 10 of AUTH-3's ITMOs;
    # Japan's registry brings 100 ITMOs it held before joining
    b.now = "2026-02-01T00:00:00.000Z"
    assert b.transfer(("JPN01", "JP-A"), ("MNG01", "MN-A"), [(251, 300)], tx="TX-2").outcome == (
        "accepted"
    )
    assert b.answer("MNG01", tx="TX-2").actions == ("Acquisition",)
    assert b.terminal("retirement", "JPN01", "JP-A", [(51, 60)], ndc_year=2026).actions == ("Use",)
    assert b.terminal("cancellation", "MNG01", "MN-A", [(401, 410)]).actions == ("Cancellation",)
    opening = {
        "serial_start": "900001",
        "serial_end": "900100",
        "account_id": "JP-A",
        "first_transferred": True,
        "authorization_id": "AUTH-1",
    }
    assert b.opening("JPN01", [opening], origin="MNG01").outcome == "recorded"
    return b


def lines(log: list[dict[str, Any]], party: str, year: int) -> dict[str, tuple[Any, ...]]:
    rf = roll_forward(log, party, year, REGISTRIES[party])
    assert rf.ok, [ln.text() for ln in rf.failures]
    return {ln.authorization_id: (ln.opening, dict(ln.flows), ln.closing) for ln in rf.lines}


def test_every_first_transfer_subtype_rolls_forward() -> None:
    log = ledger().log
    assert lines(log, "MNG", 2025) == {
        "AUTH-2": (0, {"first_transferred": 100}, 100),  # at issuance
        "AUTH-3": (0, {"first_transferred": 50}, 50),  # at authorization
        "AUTH-4": (0, {"first_transferred": 20, "cancelled": 20}, 0),  # at cancellation
        # AUTH-1: the first transfer to Japan is neither in nor out
    }
    assert lines(log, "JPN", 2025) == {"AUTH-1": (0, {"acquired": 300, "used": 50}, 250)}
    assert lines(log, "MNG", 2026) == {
        "AUTH-1": (0, {"acquired": 50}, 50),
        "AUTH-2": (100, {}, 100),
        "AUTH-3": (50, {"cancelled": 10}, 40),
    }
    assert lines(log, "JPN", 2026) == {
        "AUTH-1": (250, {"opened": 100, "transferred": 50, "used": 10}, 290)
    }


def test_tables_of_a_ledger_log() -> None:
    log = ledger().log
    aef = build(
        log,
        party="MNG",
        year=2025,
        registries={"MNG01"},
        ndc_period=(2021, 2030),
        submitted="01/02/2026",
    )
    got = [
        (
            r["Action type"],
            r["Action subtype"],
            r["Authorization ID"],
            r["Quantity (t CO2 eq)"],
            r["Purpose for which the ITMO has been used towards or cancelled for OIMP"],
        )
        for r in aef.tables[v.ACTIONS]
    ]
    assert got == [
        ("First transfer", "Issuance", "AUTH-2", 100, "NA"),
        ("First transfer", "Authorization", "AUTH-3", 50, "NA"),
        ("First transfer", "Use or cancellation", "AUTH-4", 20, "OIMP"),
        ("Cancellation", "Other cancellations", "AUTH-4", 20, "OIMP"),
        ("First transfer", "First transfer to another Party", "AUTH-1", 300, "NA"),
    ]
    auths = {r["Authorization ID"]: r for r in aef.tables[v.AUTHORIZATIONS]}
    assert {a: r["First transfer definition for OIMP"] for a, r in auths.items()} == {
        "AUTH-1": "NA",
        "AUTH-2": "Issuance",
        "AUTH-3": "Authorisation",
        "AUTH-4": "Use or Cancellation",
    }
    jpn = build(
        log,
        party="JPN",
        year=2026,
        registries={"JPN01"},
        ndc_period=(2021, 2030),
        submitted="01/02/2027",
    )
    held = [(r["First ID"], r["Last ID"]) for r in jpn.tables[v.HOLDINGS]]
    assert held == [(61, 250), (900001, 900100)]
    assert [
        r["Calendar year for which the ITMOs are used towards the Party's NDC"]
        for r in jpn.tables[v.ACTIONS]
        if r["Action type"] == "Use"
    ] == [2026]
