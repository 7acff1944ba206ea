"""Authorizations and the first transfer, derived by the gateway (never taken on trust).

Decision 2/CMA.3 annex para 2: for ITMOs authorized for use towards an NDC the first
transfer is the first international transfer; for other international mitigation purposes
it is the authorization, the issuance, or the use or cancellation, as the first
transferring Party specifies (CN-2026 Table 49(b)). A unit is first transferred once
(A6-006); it carries the authorization it was first transferred under, so its purposes
survive every later transfer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from gateway.core.actions import first_transfer_rows
from gateway.core.blocks import TERMINAL, Block, Range, evolve, intersect
from gateway.core.model import Directory, Evaluation, Event, Finding
from gateway.core.rules import FIRST_INTERNATIONAL, known_registries, move
from gateway.core.state import LedgerState, Put
from schemas import events as ev

Trigger = Literal["international", "authorization", "issuance", "use"]
NDC_PURPOSES = frozenset({"NDC", "NDC and OIMP", "NDC and IMP", "NDC and OP"})
# Article 6 ITMOs are mitigation from 2021 onwards (2/CMA.3 annex para 1(e)).
FIRST_VINTAGE = 2021


def auth_key(ca_id: str, authorization_id: str) -> str:
    return f"{ca_id}|{authorization_id}"


def itmo_authorization(
    state: LedgerState, block: Block, auth_id: str | None = None
) -> dict[str, Any] | None:
    """The authorization the units of ``block`` are ITMOs under: ``auth_id`` (a first
    transfer happening now), else the one they were first transferred under; None when
    they are not ITMOs."""
    auth_id = auth_id or (block.authorization_id if block.first_transferred else None)
    return state.get("authorizations", auth_key(block.ca_id, auth_id)) if auth_id else None


def covering(
    state: LedgerState, block: Block, part: Range, party: str | None
) -> tuple[list[tuple[Range, dict[str, Any]]], list[Range]]:
    """Split ``part`` by the coverage of ``party``'s non-revoked authorizations.

    Returns the covered pieces, each with the authorization covering it (a higher version
    wins where coverages overlap), and the gaps no authorization covers.
    """
    covered: list[tuple[Range, dict[str, Any]]] = []
    remaining = [part]
    # party's non-revoked authorizations in the approach, highest version first: those whose
    # coverage of the block's serial space meets ``part`` (the others would change nothing)
    for auth in state.authorizations_over(block.ca_id, party, block.origin, part.start, part.end):
        for c in auth.get("coverage", ()):
            if c["originating_registry"] != block.origin:
                continue
            cov = Range(int(c["serial_start"]), int(c["serial_end"]))
            rest: list[Range] = []
            for r in remaining:
                lo, hi = max(r.start, cov.start), min(r.end, cov.end)
                if lo > hi:
                    rest.append(r)
                    continue
                covered.append((Range(lo, hi), auth))
                if r.start < lo:
                    rest.append(Range(r.start, lo - 1))
                if hi < r.end:
                    rest.append(Range(hi + 1, r.end))
            remaining = rest
    return sorted(covered, key=lambda c: c[0].start), sorted(remaining, key=lambda r: r.start)


def triggers(auth: dict[str, Any], trigger: Trigger) -> bool:
    """Whether ``trigger`` is the first transfer under ``auth``."""
    definition: str = auth["first_transfer_definition"]
    if trigger == "international":
        return definition == FIRST_INTERNATIONAL or auth["purposes"] in NDC_PURPOSES
    if trigger in ("authorization", "issuance"):
        # Either way the first transfer cannot precede the authorization or the issuance:
        # it happens at whichever of the two comes second.
        return definition in ("Authorisation", "Issuance")
    return definition == "Use or Cancellation"


def in_timeframe(auth: dict[str, Any], vintage: int) -> bool:
    frame = auth.get("authorized_timeframe")
    if not frame:
        return True
    first, last = (int(y) for y in frame.split(" - "))
    return first <= vintage <= last


class FirstTransfers:
    """Accumulates first-transfer pieces and checks them (A6-004, A6-005) per authorization."""

    def __init__(self, state: LedgerState) -> None:
        self.state = state
        self.pieces: list[tuple[Block, Range, dict[str, Any]]] = []

    def add(self, block: Block, piece: Range, auth: dict[str, Any]) -> None:
        self.pieces.append((block, piece, auth))

    @property
    def ranges(self) -> list[Range]:
        return [piece for _, piece, _ in self.pieces]

    def findings(self) -> list[Finding]:
        out: list[Finding] = []
        late = tuple(p for b, p, a in self.pieces if not in_timeframe(a, b.vintage))
        if late:
            # AEF Table 2 "Authorized timeframe": the vintage lies inside it.
            out.append(Finding("A6-004", "vintage outside the authorized timeframe", late))
        for auth_id, (auth, qty, pieces) in self._per_auth().items():
            cap = auth.get("authorized_quantity")
            if cap is None:
                continue
            done = int(auth.get("first_transferred_qty", "0"))
            # Units a pending transfer proposes to first transfer count too: the counter
            # rises only when the answer accepts, and both answers may still accept.
            pending = self._pending(auth["ca_id"], auth_id)
            if done + pending + qty > int(cap):
                # AEF Table 2 "Authorized quantity": the most that may be first transferred.
                out.append(
                    Finding(
                        "A6-005",
                        f"{auth_id}: {done} first transferred + {pending} pending + {qty} "
                        f"would exceed the authorized {cap}",
                        tuple(pieces),
                    )
                )
        return out

    def _pending(self, ca_id: str, auth_id: str) -> int:
        """Units proposed for first transfer under ``auth_id`` by transfers not yet answered."""
        return self.state.pending_first_transfer(ca_id, auth_id)

    def _per_auth(self) -> dict[str, tuple[dict[str, Any], int, list[Range]]]:
        per: dict[str, tuple[dict[str, Any], int, list[Range]]] = {}
        for _, piece, auth in self.pieces:
            a, qty, pieces = per.get(auth["authorization_id"], (auth, 0, []))
            per[auth["authorization_id"]] = (a, qty + piece.quantity, [*pieces, piece])
        return per

    def counter_effects(self) -> list[Put]:
        """Raise each authorization's first-transferred counter."""
        return [
            Put(
                "authorizations",
                auth_key(auth["ca_id"], aid),
                {
                    **auth,
                    "first_transferred_qty": str(int(auth.get("first_transferred_qty", "0")) + qty),
                },
            )
            for aid, (auth, qty, _) in self._per_auth().items()
        ]

    def auth_for(self, piece: Range) -> str | None:
        return next((a["authorization_id"] for _, p, a in self.pieces if p == piece), None)


def mark_new_blocks(
    state: LedgerState, blocks: Sequence[Block], party: str | None, trigger: Trigger
) -> tuple[list[Block], FirstTransfers]:
    """Split not-yet-stored blocks by coverage and mark the pieces ``trigger`` first-transfers."""
    ft = FirstTransfers(state)
    out: list[Block] = []
    for b in blocks:
        covered, _ = covering(state, b, b.range, party)
        cursor = b.start
        for piece, auth in covered:
            if not triggers(auth, trigger):
                continue
            if piece.start > cursor:
                out.append(evolve(b, start=cursor, end=piece.start - 1))
            out.append(
                evolve(
                    b,
                    start=piece.start,
                    end=piece.end,
                    first_transferred=True,
                    authorization_id=auth["authorization_id"],
                )
            )
            ft.add(b, piece, auth)
            cursor = piece.end + 1
        if cursor <= b.end:
            out.append(evolve(b, start=cursor, end=b.end))
    return out, ft


def _by_a_party_of(event: Event, party: str, ca_id: str, d: Directory, verb: str) -> list[Finding]:
    """MSG-002: the signer is ``party``; A6-001: ``party`` takes part in ``ca_id``."""
    findings: list[Finding] = []
    if event.signer_principal != party:
        findings.append(Finding("MSG-002", f"{event.signer_principal} cannot {verb} for {party}"))
    if party not in d.ca_parties.get(ca_id, ()):
        findings.append(Finding("A6-001", f"{party} does not take part in {ca_id}"))
    return findings


def authorization(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Authorization)
    findings = _by_a_party_of(event, p.authorizing_party, p.ca_id, d, "authorize")
    findings += known_registries(d, [c.originating_registry for c in p.coverage])
    key = auth_key(p.ca_id, p.authorization_id)
    current = state.get("authorizations", key)
    if current is not None and current["version"] >= p.version:
        findings.append(
            Finding("AUT-001", f"version {p.version} is not newer than {current['version']}")
        )
    if p.purposes == "NDC" and p.first_transfer_definition != FIRST_INTERNATIONAL:
        # 2/CMA.3 annex para 2(a): for NDC use the first transfer is the first international
        # transfer; other definitions are for OIMP only (para 2(b), CN-2026 Table 22(b)).
        findings.append(
            Finding(
                "A6-007",
                f"purposes NDC need '{FIRST_INTERNATIONAL}', not '{p.first_transfer_definition}'",
            )
        )
    if (p.metric == "GHG") == (p.non_ghg_metric is not None):
        findings.append(Finding("A6-014", "a non-GHG metric is named iff the metric is non-GHG"))
    if p.authorized_timeframe:
        first, last = (int(y) for y in p.authorized_timeframe.split(" - "))
        if not FIRST_VINTAGE <= first <= last:
            findings.append(
                Finding(
                    "A6-004",
                    f"timeframe {p.authorized_timeframe} is not within {FIRST_VINTAGE} onwards",
                )
            )
    if findings:
        return Evaluation("discrepancy", tuple(findings))
    record = p.model_dump(mode="json")
    record["first_transferred_qty"] = (current or {}).get("first_transferred_qty", "0")
    effects: list[Put] = []
    actions = ["Authorization"]
    rows: list[dict[str, Any]] = []
    if p.status != "revoked" and triggers(record, "authorization"):
        # Units already issued become ITMOs now (their issuance came first).
        staged = LedgerState({"authorizations": {key: record}})
        ft = FirstTransfers(state)
        parts: list[tuple[Block, Range]] = []
        for c in p.coverage:
            want = Range(int(c.serial_start), int(c.serial_end))
            for block, part in intersect(
                state.overlapping(p.ca_id, c.originating_registry, want), want
            )[0]:
                if block.first_transferred or block.state in TERMINAL or block.state == "reserved":
                    continue
                for piece, auth in covering(staged, block, part, p.authorizing_party)[0]:
                    parts.append((block, piece))
                    ft.add(block, piece, auth)
        late = ft.findings()
        if late:
            return Evaluation("discrepancy", tuple(late))
        if parts:
            effects += move(
                parts,
                lambda _r: {"first_transferred": True, "authorization_id": p.authorization_id},
            )
            record["first_transferred_qty"] = str(
                int(record["first_transferred_qty"]) + sum(r.quantity for _, r in parts)
            )
            actions.append("First transfer")
            rows = first_transfer_rows([(b, r, record) for b, r, _ in ft.pieces], "Authorization")
    effects.insert(0, Put("authorizations", key, record))
    return Evaluation("recorded", effects=tuple(effects), actions=tuple(actions), a6=tuple(rows))


def entity_authorized(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    """An authorized entity (AEF Table 5): recorded, with its data, for the Party's report."""
    p = event.payload
    assert isinstance(p, ev.EntityAuthorized)
    findings = _by_a_party_of(event, p.authorizing_party, p.ca_id, d, "act")
    return Evaluation("discrepancy", tuple(findings)) if findings else Evaluation("recorded")
