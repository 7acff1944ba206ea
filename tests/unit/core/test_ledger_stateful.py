"""Random ledger histories against a deliberately simple model (hypothesis stateful).

The real ledger (``evaluate`` + ``LedgerState.apply``, through :class:`a6book.Book`) and the
model see the same random steps: issuances, transfers within a registry and across the two
registries with accept/reject answers, retirements, cancellations and Japan's authorization,
valid and invalid, over two serial spaces of ``S`` serials. The model is one record per unit
(where it is, its state, the authorization it was first transferred under) and a handful of
rules. After every step the two must agree on whether the step was accepted and on every
unit; and the ledger must conserve units, keep each serial in one block and never let blocks
overlap.

The world: accounts A, B (open holding), C (blocked), RET, CAN in each registry, N nowhere;
MNG authorizes all its serials for NDC use (first international transfer) up to ``CAP``
units; JPN may, at some step, authorize its serials 1..``JP_COVER`` for OIMP only, first
transferred at authorization or issuance, whichever is later. Transaction ids are unique.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from gateway.core.model import Evaluation
from gateway.core.state import LedgerState
from tests.unit.core.a6book import Book
from tests.unit.core.test_state_index import agrees_with_scans

S = 24
REGISTRIES = ("MNG01", "JPN01")
PARTY = {"MNG01": "MNG", "JPN01": "JPN"}
KINDS = {
    "A": "government-holding",
    "B": "participant-holding",
    "C": "participant-holding",  # blocked at the start
    "RET": "retirement",
    "CAN": "cancellation",
}
OPEN_HOLDING = ("A", "B")
ACCOUNTS = ("A", "B", "A", "B", "C", "RET", "N")  # N is never opened
DECISIONS = {"D25": 2025, "D26": 2026}
MN_AUTH, JP_AUTH = "MN-NDC", "JP-OIMP"
CAP, JP_COVER = 5, 12

Key = tuple[str, int]  # (originating registry, serial): one unit
Ranges = list[tuple[int, int]]


@dataclass
class Unit:
    registry: str
    account: str
    vintage: int
    state: str = "held"
    auth: str | None = None  # the authorization it was first transferred under
    tx: str | None = None  # the transfer that reserves it


@dataclass
class Proposal:
    dst: tuple[str, str]
    origin: str
    units: list[Key]
    first: list[Key]  # first transferred if the answer accepts
    status: str = "proposed"


def named(ranges: Ranges) -> list[int] | None:
    """The serials ``ranges`` name, or None when one is inverted or two overlap."""
    if any(s > e for s, e in ranges):
        return None
    serials = [x for s, e in ranges for x in range(s, e + 1)]
    return serials if len(serials) == len(set(serials)) else None


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        b = Book(accounts=False)
        for registry in REGISTRIES:
            for account, kind in KINDS.items():
                assert b.open(registry, account, kind).outcome == "recorded"
            assert b.block(registry, "C").outcome == "recorded"
        for decision, vintage in DECISIONS.items():
            assert b.decide(decision, vintage=vintage, MNG01=S, JPN01=S).outcome == "recorded"
        ev = b.authorize("MNG", [("MNG01", 1, S)], auth_id=MN_AUTH, authorized_quantity=str(CAP))
        assert ev.outcome == "recorded"
        self.book = b
        self.units: dict[Key, Unit] = {}
        self.proposals: dict[str, Proposal] = {}
        self.jp_authorized = False
        self.steps = 0

    # ---- the model's rules -------------------------------------------------------------
    def covering(self, key: Key, party: str) -> str | None:
        """The authorization by ``party`` that covers the unit, if any."""
        origin, serial = key
        if (party, origin) == ("MNG", "MNG01"):
            return MN_AUTH
        if (party, origin) == ("JPN", "JPN01") and self.jp_authorized and serial <= JP_COVER:
            return JP_AUTH
        return None

    def holds(self, holder: tuple[str, str], keys: list[Key]) -> bool:
        return all(
            (u := self.units.get(k)) is not None
            and u.state == "held"
            and (u.registry, u.account) == holder
            for k in keys
        )

    def counted(self, auth: str) -> int:
        return sum(u.auth == auth for u in self.units.values())

    def pending(self) -> int:
        return sum(len(p.first) for p in self.proposals.values() if p.status == "proposed")

    def usable(self, key: Key, party: str) -> bool:
        """A use towards ``party``'s NDC: its own units, or units first transferred for NDC."""
        return PARTY[key[0]] == party or self.units[key].auth == MN_AUTH

    def expect(self, ev: Evaluation, ok: bool, actions: tuple[str, ...]) -> None:
        self.steps += 1
        assert (ev.outcome in ("accepted", "recorded")) is ok, (ok, ev.outcome, ev.findings)
        if ok:
            assert (ev.findings, ev.actions) == ((), actions)
        else:
            assert ev.findings and ev.effects == ()

    # ---- drawing inputs ----------------------------------------------------------------
    def draw_ranges(self, data: st.DataObject) -> Ranges:
        out: Ranges = []
        for _ in range(data.draw(st.sampled_from([1, 1, 1, 2]))):
            s = data.draw(st.integers(1, S))
            out.append((s, data.draw(st.integers(max(1, s - 1), min(S, s + 6)))))
        return out

    def draw_source(self, data: st.DataObject) -> tuple[str, tuple[str, str], Ranges]:
        """Origin, holder and ranges: mostly a run of units one account holds, else anything."""
        held = sorted(k for k, u in self.units.items() if u.state == "held")
        if held and data.draw(st.integers(0, 3)) > 0:
            origin, s = data.draw(st.sampled_from(held))
            u = self.units[(origin, s)]
            e = s
            while self.holds((u.registry, u.account), [(origin, e + 1)]):
                e += 1
            ranges = [(s, data.draw(st.integers(s, e)))]
            if data.draw(st.integers(0, 5)) == 0:
                ranges += self.draw_ranges(data)[:1]
            return origin, (u.registry, u.account), ranges
        origin = data.draw(st.sampled_from(REGISTRIES))
        holder = (data.draw(st.sampled_from(REGISTRIES)), data.draw(st.sampled_from(ACCOUNTS)))
        return origin, holder, self.draw_ranges(data)

    # ---- steps -------------------------------------------------------------------------
    @initialize()
    def issue_some(self) -> None:
        for registry in REGISTRIES:
            self.issue_as_model(registry, "A", "D25", [(1, 8)])

    @rule(data=st.data())
    def issue(self, data: st.DataObject) -> None:
        registry = data.draw(st.sampled_from(REGISTRIES))
        free = [s for s in range(1, S + 1) if (registry, s) not in self.units]
        if free and data.draw(st.integers(0, 3)) > 0:
            s = data.draw(st.sampled_from(free))
            ranges = [(s, data.draw(st.integers(s, min(S, s + 4))))]
        else:
            ranges = self.draw_ranges(data)
        self.issue_as_model(
            registry,
            data.draw(st.sampled_from(ACCOUNTS)),
            data.draw(st.sampled_from(sorted(DECISIONS))),
            ranges,
        )

    def issue_as_model(self, registry: str, account: str, decision: str, ranges: Ranges) -> None:
        ev = self.book.issue(
            registry,
            [(s, e, account) for s, e in ranges],
            decision_id=decision,
            vintage=DECISIONS[decision],
        )
        serials = named(ranges)
        keys = [(registry, s) for s in serials or ()]
        ok = (
            serials is not None
            and account in OPEN_HOLDING
            and not any(k in self.units for k in keys)
        )
        first = {k for k in keys if self.covering(k, PARTY[registry]) == JP_AUTH}
        self.expect(ev, ok, ("Issuance", "First transfer") if first else ("Issuance",))
        if ok:
            for k in keys:
                auth = JP_AUTH if k in first else None
                self.units[k] = Unit(registry, account, DECISIONS[decision], auth=auth)

    @rule(data=st.data())
    def transfer(self, data: st.DataObject) -> None:
        origin, src, ranges = self.draw_source(data)
        registry = src[0]
        if data.draw(st.booleans()):
            registry = "JPN01" if registry == "MNG01" else "MNG01"
        if data.draw(st.integers(0, 5)) == 0:
            account = data.draw(st.sampled_from(ACCOUNTS))  # maybe the same, or no holding
        else:  # another holding account
            account = data.draw(st.sampled_from([a for a in OPEN_HOLDING if (registry, a) != src]))
        dst = (registry, account)
        claim = data.draw(st.sampled_from([None, None, None, True, False]))
        tx = f"TX-{self.steps}"
        extra: dict[str, Any] = {} if claim is None else {"first_transfer": claim}
        ev = self.book.transfer(src, dst, ranges, tx=tx, origin=origin, **extra)
        serials = named(ranges)
        keys = [(origin, s) for s in serials or ()]
        ok = (
            serials is not None
            and src != dst
            and src[1] in OPEN_HOLDING
            and dst[1] in OPEN_HOLDING
            and self.holds(src, keys)
        )
        first: list[Key] = []
        if ok and PARTY[src[0]] != PARTY[dst[0]]:
            for k in keys:
                if self.units[k].auth is not None:
                    continue  # first transferred once only
                auth = self.covering(k, PARTY[src[0]])
                ok = ok and auth is not None  # A6-002
                if auth == MN_AUTH:
                    first.append(k)
            ok = ok and self.counted(MN_AUTH) + self.pending() + len(first) <= CAP  # A6-005
        ok = ok and claim in (None, bool(first))  # A6-006
        self.expect(ev, ok, ("First transfer",) if first else ("Transfer",))
        if not ok:
            return
        for k in keys:
            if src[0] == dst[0]:
                self.units[k].account = dst[1]
            else:
                self.units[k].state, self.units[k].tx = "reserved", tx
        if src[0] != dst[0]:
            self.proposals[tx] = Proposal(dst, origin, keys, first)

    @precondition(lambda self: any(p.status == "proposed" for p in self.proposals.values()))
    @rule(data=st.data())
    def answer(self, data: st.DataObject) -> None:
        """Mostly the acquirer answering a pending transfer; now and then a wrong answer."""
        pick = data.draw(st.integers(0, 9))
        if pick < 8:
            tx = data.draw(
                st.sampled_from(
                    sorted(t for t, p in self.proposals.items() if p.status == "proposed")
                )
            )
        elif pick < 9:
            tx = data.draw(st.sampled_from(sorted(self.proposals)))
        else:
            tx = "TX-NONE"
        p = self.proposals.get(tx)
        signer, origin = p.dst[0] if p else "JPN01", p.origin if p else "MNG01"
        if data.draw(st.integers(0, 7)) == 0:
            signer = data.draw(st.sampled_from(REGISTRIES))
        if data.draw(st.integers(0, 7)) == 0:
            origin = data.draw(st.sampled_from(REGISTRIES))
        answer = data.draw(st.sampled_from(["accepted", "rejected"]))
        ev = self.book.answer(signer, tx=tx, answer=answer, origin=origin)
        if p is None:  # no proposal: TRN-001 at once, nothing changes
            self.expect(ev, False, ())
            return
        ok = (
            p is not None
            and p.status == "proposed"
            and signer == p.dst[0]  # JCM-003
            and origin == p.origin  # TRN-003
        )
        self.expect(ev, ok, ("Acquisition",) if answer == "accepted" else ())
        if not ok or p is None:
            return
        for k in p.units:
            u = self.units[k]
            u.state, u.tx = "held", None
            if answer == "accepted":
                u.registry, u.account = p.dst
                u.auth = MN_AUTH if k in p.first else u.auth
        p.status = "completed" if answer == "accepted" else "rejected"

    @rule(data=st.data(), kind=st.sampled_from(["retirement", "cancellation"]))
    def terminal(self, data: st.DataObject, kind: str) -> None:
        origin, src, ranges = self.draw_source(data)
        right = "RET" if kind == "retirement" else "CAN"
        if data.draw(st.integers(0, 5)) == 0:
            to = data.draw(st.sampled_from(["RET", "CAN", "A", "N"]))
        else:
            to = right
        party, year = PARTY.get(src[0], "JPN"), 2025
        if data.draw(st.integers(0, 7)) == 0:
            party = data.draw(st.sampled_from(["MNG", "JPN"]))
        if data.draw(st.integers(0, 7)) == 0:
            year = data.draw(st.sampled_from([2020, 2030, 2031]))
        use: dict[str, Any] = (
            {"using_party": party, "ndc_year": year} if kind == "retirement" else {}
        )
        ev = self.book.terminal(kind, src[0], src[1], ranges, origin=origin, to=to, **use)
        serials = named(ranges)
        keys = [(origin, s) for s in serials or ()]
        ok = (
            serials is not None
            and src[1] in OPEN_HOLDING
            and to == right  # JCM-004
            and self.holds(src, keys)
        )
        if ok and kind == "retirement":
            ok = (
                party == PARTY[src[0]]  # A6-010
                and 2021 <= year <= 2030  # A6-009
                and all(self.usable(k, party) for k in keys)  # A6-002, A6-003
            )
        self.expect(ev, ok, ("Use",) if kind == "retirement" else ("Cancellation",))
        if ok:
            for k in keys:
                self.units[k].state = "retired" if kind == "retirement" else "cancelled"
                self.units[k].account = to

    @precondition(lambda self: not self.jp_authorized)
    @rule()
    def authorize_japan(self) -> None:
        ev = self.book.authorize(
            "JPN",
            [("JPN01", 1, JP_COVER)],
            auth_id=JP_AUTH,
            purposes="OIMP",
            definition="Authorisation",
        )
        self.jp_authorized = True
        now = [
            k
            for k, u in self.units.items()
            if self.covering(k, "JPN") == JP_AUTH and u.state == "held" and u.auth is None
        ]
        self.expect(ev, True, ("Authorization", "First transfer") if now else ("Authorization",))
        for k in now:
            self.units[k].auth = JP_AUTH

    # ---- after every step --------------------------------------------------------------
    @invariant()
    def every_unit_is_where_the_model_says(self) -> None:
        real: dict[Key, tuple[object, ...]] = {}
        for b in self.book.state.blocks():
            assert b.first_transferred == (b.authorization_id is not None)
            assert (b.state == "reserved") == (b.reserved_by is not None)
            for s in range(b.start, b.end + 1):
                assert (b.origin, s) not in real, f"serial {s} of {b.origin} in two blocks"
                real[(b.origin, s)] = (
                    b.registry,
                    b.account,
                    b.state,
                    b.authorization_id,
                    b.vintage,
                    b.reserved_by,
                )
        model = {
            k: (u.registry, u.account, u.state, u.auth, u.vintage, u.tx)
            for k, u in self.units.items()
        }
        assert real == model

    @invariant()
    def blocks_never_overlap(self) -> None:
        blocks = sorted(self.book.state.blocks(), key=lambda b: (b.origin, b.start))
        for prev, cur in zip(blocks, blocks[1:], strict=False):
            assert cur.start <= cur.end
            assert prev.origin != cur.origin or prev.end < cur.start, (prev, cur)
        # the serial index is exactly what the block table holds
        rebuilt = sorted(LedgerState(self.book.state.tables).blocks(), key=lambda b: b.key)
        assert rebuilt == sorted(blocks, key=lambda b: b.key)

    @invariant()
    def indexes_say_what_a_scan_of_the_tables_says(self) -> None:
        agrees_with_scans(self.book.state)

    @invariant()
    def units_are_conserved(self) -> None:
        """Per serial space and vintage: issued = held + reserved + retired + cancelled."""
        real: Counter[tuple[str, int, str]] = Counter()
        for b in self.book.state.blocks():
            real[(b.origin, b.vintage, b.state)] += b.quantity
        model = Counter((k[0], u.vintage, u.state) for k, u in self.units.items())
        assert real == model
        for decision, vintage in DECISIONS.items():
            rec = self.book.state.get("jc_decisions", f"CA0001|{decision}")
            assert rec is not None
            for origin in REGISTRIES:
                issued = int(rec["issued"].get(origin, "0"))
                states = ("held", "reserved", "retired", "cancelled")
                assert issued == sum(real[(origin, vintage, st_)] for st_ in states)

    @invariant()
    def first_transfers_are_counted_and_capped(self) -> None:
        for auth in (MN_AUTH, JP_AUTH):
            rec = self.book.state.get("authorizations", f"CA0001|{auth}")
            counted = 0 if rec is None else int(rec["first_transferred_qty"])
            assert counted == self.counted(auth)
        assert self.counted(MN_AUTH) + self.pending() <= CAP
        for b in self.book.state.blocks():
            if b.reserved_by is not None:
                rec = self.book.state.get("transfers", f"CA0001|{b.reserved_by}")
                assert rec is not None and rec["status"] == "proposed"


TestLedgerStateful = LedgerMachine.TestCase
TestLedgerStateful.settings = settings(deadline=None)
