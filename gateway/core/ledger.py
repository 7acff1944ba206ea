"""The ledger checks: one pure function per event type, over a :class:`LedgerState`.

Each returns an :class:`Evaluation` listing *every* failing check (like the transaction
log's evaluation results), the Article 6 actions the gateway derives, and the effects to
apply. Proposals that fail a check are rejected; notifications that fail are discrepancies.
Every code is in ``gateway.core.catalogue``; shared helpers are in ``gateway.core.rules``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.core.accounts import account_blocked, account_closed, account_opened
from gateway.core.actions import first_transfer_rows, row
from gateway.core.authz import (
    FIRST_VINTAGE,
    NDC_PURPOSES,
    FirstTransfers,
    auth_key,
    authorization,
    covering,
    entity_authorized,
    itmo_authorization,
    mark_new_blocks,
    triggers,
)
from gateway.core.blocks import Block, Range, intersect
from gateway.core.model import Directory, Evaluation, Event, Finding
from gateway.core.rules import (
    account_of,
    acquiring_account,
    declared_quantity,
    held_parts,
    known_registries,
    move,
    one_period,
    participation,
    quantity_of,
    ranges_of,
    sender_is,
    shape,
    transferring_account,
)
from gateway.core.state import LedgerState, Put, block_put
from gateway.core.transfers import transfer, transfer_answer, transfer_timeout
from gateway.core.txids import one_transaction_per_id
from schemas import events as ev

# ---- event types ----------------------------------------------------------------------------


def _new_blocks(p: ev.Issuance) -> list[Block]:
    return [
        Block(
            p.ca_id,
            p.registry_id,
            int(b.serial_start),
            int(b.serial_end),
            p.vintage,
            p.unit_type,
            p.registry_id,
            b.account_id,
        )
        for b in p.blocks
    ]


def _decision_limits(
    decision: dict[str, Any] | None, p: ev.Issuance, qty: int, ranges: list[Range]
) -> list[Finding]:
    """JCM-001 a decision exists and matches; JCM-002 per-side allocation; QTY-003 total."""
    if decision is None:
        # JCM Common Specifications def. 1: issuance "in line with the corresponding
        # decision by the Joint Committee".
        return [Finding("JCM-001", f"no Joint Committee decision {p.decision_id} recorded")]
    out: list[Finding] = []
    allocated: dict[str, int] = {}
    for a in decision["allocation"]:  # two participants may hold accounts in one registry
        allocated[a["registry_id"]] = allocated.get(a["registry_id"], 0) + int(a["quantity"])
    issued = {k: int(v) for k, v in decision.get("issued", {}).items()}
    mine = issued.get(p.registry_id, 0)
    if p.registry_id not in allocated:
        out.append(Finding("JCM-002", f"decision allocates nothing to {p.registry_id}"))
    elif mine + qty > allocated[p.registry_id]:
        out.append(
            Finding(
                "JCM-002",
                f"issuance of {qty} exceeds the allocation: {mine} of "
                f"{allocated[p.registry_id]} already issued",
                tuple(ranges),
            )
        )
    if sum(issued.values()) + qty > int(decision["quantity"]):
        # UKETS check3010/3011: issuance never exceeds the decided cap.
        out.append(
            Finding(
                "QTY-003",
                f"issuance would exceed the decided {decision['quantity']}",
                tuple(ranges),
            )
        )
    if decision["vintage"] != p.vintage:
        out.append(Finding("JCM-001", "vintage differs from the decision's"))
    return out


def issuance(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Issuance)
    ranges = ranges_of(p.blocks)
    findings = sender_is(event, p.registry_id) + participation(event, d, p.ca_id, [p.registry_id])
    findings += shape(ranges) + declared_quantity(p.quantity, ranges)
    qty = quantity_of(ranges)
    decision = state.get("jc_decisions", f"{p.ca_id}|{p.decision_id}")
    findings += _decision_limits(decision, p, qty, ranges)
    if p.unit_type not in d.ca_unit_types.get(p.ca_id, (p.unit_type,)):
        # UKETS check3006: the unit type is allowed for the transaction (here: the approach).
        findings.append(Finding("BLK-008", f"{p.ca_id} does not issue {p.unit_type} units"))
    if p.vintage < FIRST_VINTAGE:
        findings.append(Finding("A6-004", f"vintage {p.vintage} is before {FIRST_VINTAGE}"))
    for account in dict.fromkeys(b.account_id for b in p.blocks):
        findings += acquiring_account(state, p.registry_id, account)
    party = d.registry_party.get(p.registry_id)
    new_blocks = _new_blocks(p)
    findings += one_period([(b, b.range) for b in new_blocks], d, party)
    taken = [
        part
        for r in ranges
        if r.start <= r.end
        for _, part in intersect(state.overlapping(p.ca_id, p.registry_id, r), r)[0]
    ]
    if taken:
        # One unit, one place (3/CMP.1 appendix D para 4): a serial is issued once.
        findings.append(Finding("BLK-004", "serials already issued", tuple(taken)))
    blocks, ft = mark_new_blocks(state, new_blocks, party, "issuance")
    findings += ft.findings()
    if findings:
        return Evaluation("rejected", tuple(findings), quantity=qty)
    assert decision is not None
    issued_map = dict(decision.get("issued", {}))
    issued_map[p.registry_id] = str(int(issued_map.get(p.registry_id, 0)) + qty)
    effects = [block_put(b) for b in blocks]
    effects.append(
        Put("jc_decisions", f"{p.ca_id}|{p.decision_id}", {**decision, "issued": issued_map})
    )
    effects += ft.counter_effects()
    actions = ("Issuance", "First transfer") if ft.pieces else ("Issuance",)
    rows = first_transfer_rows(ft.pieces, "Issuance", p.registry_id)
    return Evaluation(
        "accepted", effects=tuple(effects), actions=actions, quantity=qty, a6=tuple(rows)
    )


def _use_checks(
    p: ev.Retirement,
    parts: list[tuple[Block, Range]],
    state: LedgerState,
    d: Directory,
    ft: FirstTransfers,
) -> list[Finding]:
    """A6-009/010 (year and user), A6-002/003/012 (authorized for NDC use, by an entity)."""
    out: list[Finding] = []
    period = d.ndc_period.get(p.using_party)
    if period and not period[0] <= p.ndc_year <= period[1]:
        out.append(
            Finding(
                "A6-009",
                f"year {p.ndc_year} is outside {p.using_party}'s NDC period "
                f"{period[0]}-{period[1]}",
            )
        )
    if d.registry_party.get(p.registry_id) != p.using_party:
        out.append(Finding("A6-010", f"{p.using_party} cannot use units held in {p.registry_id}"))
    unauthorized: list[Range] = []
    wrong_purpose: list[Range] = []
    not_entity: list[Range] = []
    for block, part in parts:
        if d.registry_party.get(block.origin) == p.using_party:
            continue  # a domestic use: no internationally transferred outcome involved
        auth_id = block.authorization_id or ft.auth_for(part)
        auth = state.get("authorizations", auth_key(block.ca_id, auth_id)) if auth_id else None
        if auth is None or not (block.first_transferred or ft.auth_for(part)):
            unauthorized.append(part)
            continue
        if auth["purposes"] not in NDC_PURPOSES:
            wrong_purpose.append(part)
        if p.using_entity_id and p.using_entity_id not in auth.get("authorized_entity_ids", ()):
            not_entity.append(part)
    if unauthorized:
        out.append(
            Finding(
                "A6-002",
                "units used towards an NDC were not first transferred under an authorization",
                tuple(unauthorized),
            )
        )
    if wrong_purpose:
        out.append(
            Finding(
                "A6-003",
                "the units' authorization does not cover use towards an NDC",
                tuple(wrong_purpose),
            )
        )
    if not_entity:
        out.append(
            Finding("A6-012", f"{p.using_entity_id} is not an authorized entity", tuple(not_entity))
        )
    return out


def _terminal(
    event: Event,
    state: LedgerState,
    d: Directory,
    p: ev.Retirement | ev.Cancellation,
    to_account: str,
    kind: str,
) -> Evaluation:
    ranges = ranges_of(p.blocks)
    qty = quantity_of(ranges)
    findings = sender_is(event, p.registry_id) + participation(event, d, p.ca_id, [p.registry_id])
    findings += shape(ranges) + declared_quantity(p.quantity, ranges)
    findings += transferring_account(state, p.registry_id, p.account_id)
    acc = account_of(state, p.registry_id, to_account)
    if acc is None or acc["account_type"] != kind or acc["status"] != "open":
        # JCM Common Specifications defs 4-5: cancellation and retirement are transfers to a
        # cancellation or retirement account, after which units are not transferred again.
        findings.append(
            Finding("JCM-004", f"{p.registry_id}/{to_account} is not an open {kind} account")
        )
    parts, held = held_parts(
        state,
        p.ca_id,
        p.originating_registry,
        p.registry_id,
        p.account_id,
        [r for r in ranges if r.start <= r.end],
    )
    findings += held
    party = d.registry_party.get(p.originating_registry)
    findings += one_period(parts, d, party)
    ft = FirstTransfers(state)
    for block, part in parts:
        if block.first_transferred:
            continue
        for piece, auth in covering(state, block, part, party)[0]:
            if triggers(auth, "use"):
                ft.add(block, piece, auth)
    findings += ft.findings()
    if isinstance(p, ev.Retirement):
        findings += _use_checks(p, parts, state, d, ft)
    if findings:
        return Evaluation("rejected", tuple(findings), quantity=qty)
    pieces = [(b, r) for b, r in parts if not ft.auth_for(r)]
    pieces += [(b, r) for b, r, _ in ft.pieces]
    effects = move(
        pieces,
        lambda r: {
            "state": "retired" if kind == "retirement" else "cancelled",
            "account": to_account,
            **(
                {"first_transferred": True, "authorization_id": ft.auth_for(r)}
                if ft.auth_for(r)
                else {}
            ),
        },
    )
    effects += ft.counter_effects()
    action = "Use" if kind == "retirement" else "Cancellation"
    actions = ("First transfer", action) if ft.pieces else (action,)
    rows = first_transfer_rows(ft.pieces, "Use or cancellation", p.registry_id)
    rows += _terminal_rows(p, pieces, ft, state, d)
    return Evaluation(
        "accepted", effects=tuple(effects), actions=actions, quantity=qty, a6=tuple(rows)
    )


def _terminal_rows(
    p: ev.Retirement | ev.Cancellation,
    pieces: list[tuple[Block, Range]],
    ft: FirstTransfers,
    state: LedgerState,
    d: Directory,
) -> list[dict[str, Any]]:
    """The use (by the using Party, for its NDC year) or cancellation of the ITMOs among
    ``pieces``: units first transferred before, or by this very act."""
    out: list[dict[str, Any]] = []
    for block, part in pieces:
        auth = itmo_authorization(state, block, ft.auth_for(part))
        if auth is None:
            continue
        if isinstance(p, ev.Retirement):
            out.append(
                row("Use", block, part, auth, party=p.using_party, registry=p.registry_id,
                    using_party=p.using_party, using_entity=p.using_entity_id,
                    use_year=p.ndc_year)
            )  # fmt: skip
        else:
            party = d.registry_party.get(p.registry_id, "")
            out.append(
                row("Cancellation", block, part, auth, party=party, registry=p.registry_id,
                    subtype=p.subtype, using_party=party)
            )  # fmt: skip
    return out


def retirement(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Retirement)
    return _terminal(event, state, d, p, p.retirement_account_id, "retirement")


def cancellation(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Cancellation)
    return _terminal(event, state, d, p, p.cancellation_account_id, "cancellation")


def jc_decision(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.JcIssuanceDecision)
    findings: list[Finding] = []
    if sum(int(a.quantity) for a in p.allocation) != int(p.quantity):
        findings.append(
            Finding("JCM-002", "the allocation does not add up to the decided quantity")
        )
    findings += known_registries(d, [a.registry_id for a in p.allocation])
    parties = d.ca_parties.get(p.ca_id, ())
    for a in p.allocation:
        if a.registry_id in d.registry_party and d.registry_party[a.registry_id] not in parties:
            findings.append(Finding("A6-001", f"{a.registry_id} is not a registry of {p.ca_id}"))
    key = f"{p.ca_id}|{p.decision_id}"
    if state.get("jc_decisions", key) is not None:
        findings.append(Finding("JCM-005", f"decision {p.decision_id} is already recorded"))
    if findings:
        return Evaluation("discrepancy", tuple(findings))
    record = p.model_dump(mode="json") | {"issued": {}}
    return Evaluation("recorded", effects=(Put("jc_decisions", key, record),))


def opening_holdings(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    """A joining registry's signed snapshot of what it already holds in one serial space."""
    p = event.payload
    assert isinstance(p, ev.OpeningHoldings)
    ranges = ranges_of(p.blocks)
    findings = sender_is(event, p.registry_id) + participation(event, d, p.ca_id, [p.registry_id])
    findings += shape(ranges) + known_registries(d, [p.originating_registry])
    key = f"{p.registry_id}|{p.ca_id}|{p.originating_registry}"
    if state.get("openings", key) is not None:
        findings.append(
            Finding(
                "OPN-001",
                "opening holdings for this registry and serial space are already recorded",
            )
        )
    for account in dict.fromkeys(b.account_id for b in p.blocks):
        if account_of(state, p.registry_id, account) is None:
            findings.append(Finding("ACC-003", f"account {p.registry_id}/{account} does not exist"))
    taken = [
        part
        for r in ranges
        if r.start <= r.end
        for _, part in intersect(state.overlapping(p.ca_id, p.originating_registry, r), r)[0]
    ]
    if taken:
        findings.append(Finding("BLK-004", "serials already recorded elsewhere", tuple(taken)))
    if findings:
        return Evaluation("discrepancy", tuple(findings), quantity=quantity_of(ranges))
    blocks = [
        Block(
            p.ca_id,
            p.originating_registry,
            int(b.serial_start),
            int(b.serial_end),
            b.vintage,
            b.unit_type,
            p.registry_id,
            b.account_id,
            b.state,
            b.first_transferred,
            None,
            b.authorization_id,
        )
        for b in p.blocks
    ]
    effects = [block_put(b) for b in blocks]
    effects.append(Put("openings", key, {"event_id": event.id, "as_of": p.as_of}))
    return Evaluation("recorded", effects=tuple(effects), quantity=quantity_of(ranges))


def recorded(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    """Notifications the ledger only records for now (inventory, reported rows)."""
    return Evaluation("recorded")


def holdings_snapshot(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    """A page of a registry's holdings snapshot: recorded (reconciliation compares it), once
    its sender is that registry and its page number is in range."""
    p = event.payload
    assert isinstance(p, ev.HoldingsSnapshot)
    findings = sender_is(event, p.registry_id)
    if p.page > p.pages:
        findings.append(Finding("MSG-001", f"page {p.page} of {p.pages}"))
    if findings:
        return Evaluation("discrepancy", tuple(findings))
    return Evaluation("recorded", note=f"snapshot {p.reconciliation_id} page {p.page}/{p.pages}")


EVALUATORS: dict[str, Callable[[Event, LedgerState, Directory], Evaluation]] = {
    "account.opened": account_opened,
    "account.blocked": account_blocked,
    "account.closed": account_closed,
    "issuance": issuance,
    "transfer": transfer,
    "transfer.answer": transfer_answer,
    "transfer.timeout": transfer_timeout,
    "retirement": retirement,
    "cancellation": cancellation,
    "jcm.issuance.decided": jc_decision,
    "authorization": authorization,
    "entity.authorized": entity_authorized,
    "holdings.opening": opening_holdings,
    "holdings.snapshot": holdings_snapshot,
}


def evaluate(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    """Run the checks for one authenticated event against the current ledger state."""
    evaluation = EVALUATORS.get(event.name, recorded)(event, state, d)
    return one_transaction_per_id(event, state, evaluation)
