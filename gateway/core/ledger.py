"""The ledger checks: one pure function per event type, over a :class:`LedgerState`.

Each returns an :class:`Evaluation` listing *every* failing check (like the transaction
log's evaluation results), the Article 6 actions the gateway derives, and the effects to
apply. Proposals that fail a check are rejected; notifications that fail are discrepancies.
Each code is listed, with its rule, in the README; shared helpers are in ``gateway.core.rules``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from gateway.core.blocks import (
    Block,
    intersect,
)
from gateway.core.model import Directory, Evaluation, Event, Finding
from gateway.core.rules import (
    const,
    held_parts,
    move,
    participation,
    quantity_of,
    ranges_of,
    sender_is,
    shape,
)
from gateway.core.state import LedgerState, Put
from gateway.core.transfers import transfer, transfer_answer
from schemas import events as ev
from schemas._types import SerialRange

# ---- event types ----------------------------------------------------------------------------


def issuance(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Issuance)
    ranges = ranges_of(p.blocks)
    findings = sender_is(event, p.registry_id) + participation(event, d, p.ca_id, [p.registry_id])
    findings += shape(ranges)
    qty = quantity_of(ranges)
    decision = state.get("jc_decisions", f"{p.ca_id}|{p.decision_id}")
    if decision is None:
        findings.append(Finding("JCM-001", f"no Joint Committee decision {p.decision_id} recorded"))
    else:
        allocated = {a["registry_id"]: int(a["quantity"]) for a in decision["allocation"]}
        issued = int(decision.get("issued", {}).get(p.registry_id, 0))
        if p.registry_id not in allocated:
            findings.append(Finding("JCM-002", f"decision allocates nothing to {p.registry_id}"))
        elif issued + qty > allocated[p.registry_id]:
            findings.append(
                Finding(
                    "JCM-002",
                    f"issuance of {qty} exceeds the allocation: {issued} of "
                    f"{allocated[p.registry_id]} already issued",
                    tuple(ranges),
                )
            )
        if decision["vintage"] != p.vintage:
            findings.append(Finding("JCM-001", "vintage differs from the decision's"))
    taken = [
        part
        for r in ranges
        if r.start <= r.end
        for _, part in intersect(state.overlapping(p.ca_id, p.registry_id, r), r)[0]
    ]
    if taken:
        findings.append(Finding("BLK-004", "serials already issued", tuple(taken)))
    if findings:
        return Evaluation("rejected", tuple(findings), quantity=qty)
    effects = [
        Put("blocks", blk.key, blk.to_record())
        for blk in (
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
        )
    ]
    assert decision is not None
    issued_map = dict(decision.get("issued", {}))
    issued_map[p.registry_id] = str(int(issued_map.get(p.registry_id, 0)) + qty)
    effects.append(
        Put("jc_decisions", f"{p.ca_id}|{p.decision_id}", {**decision, "issued": issued_map})
    )
    return Evaluation("accepted", effects=tuple(effects), actions=("Issuance",), quantity=qty)


def _terminal(
    event: Event,
    state: LedgerState,
    d: Directory,
    *,
    registry: str,
    account: str,
    to_account: str,
    new_state: str,
    action: str,
    ca_id: str,
    origin: str,
    blocks: Sequence[SerialRange],
) -> Evaluation:
    ranges = ranges_of(blocks)
    findings = (
        sender_is(event, registry) + participation(event, d, ca_id, [registry]) + shape(ranges)
    )
    parts, held = held_parts(
        state, ca_id, origin, registry, account, [r for r in ranges if r.start <= r.end]
    )
    findings += held
    if findings:
        return Evaluation("rejected", tuple(findings), quantity=quantity_of(ranges))
    effects = move(parts, const(state=new_state, account=to_account))
    return Evaluation(
        "accepted", effects=tuple(effects), actions=(action,), quantity=quantity_of(ranges)
    )


def retirement(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Retirement)
    return _terminal(
        event,
        state,
        d,
        registry=p.registry_id,
        account=p.account_id,
        to_account=p.retirement_account_id,
        new_state="retired",
        action="Use",
        ca_id=p.ca_id,
        origin=p.originating_registry,
        blocks=p.blocks,
    )


def cancellation(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Cancellation)
    return _terminal(
        event,
        state,
        d,
        registry=p.registry_id,
        account=p.account_id,
        to_account=p.cancellation_account_id,
        new_state="cancelled",
        action="Cancellation",
        ca_id=p.ca_id,
        origin=p.originating_registry,
        blocks=p.blocks,
    )


def jc_decision(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.JcIssuanceDecision)
    findings: list[Finding] = []
    if sum(int(a.quantity) for a in p.allocation) != int(p.quantity):
        findings.append(
            Finding("JCM-002", "the allocation does not add up to the decided quantity")
        )
    parties = d.ca_parties.get(p.ca_id, ())
    for a in p.allocation:
        if d.registry_party.get(a.registry_id) not in parties:
            findings.append(Finding("A6-001", f"{a.registry_id} is not a registry of {p.ca_id}"))
    key = f"{p.ca_id}|{p.decision_id}"
    if state.get("jc_decisions", key) is not None:
        findings.append(Finding("JCM-005", f"decision {p.decision_id} is already recorded"))
    if findings:
        return Evaluation("discrepancy", tuple(findings))
    record = p.model_dump(mode="json") | {"issued": {}}
    return Evaluation("recorded", effects=(Put("jc_decisions", key, record),))


def authorization(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Authorization)
    findings: list[Finding] = []
    if event.signer_principal != p.authorizing_party:
        findings.append(
            Finding(
                "MSG-002", f"{event.signer_principal} cannot authorize for {p.authorizing_party}"
            )
        )
    if p.authorizing_party not in d.ca_parties.get(p.ca_id, ()):
        findings.append(
            Finding("A6-001", f"{p.authorizing_party} does not participate in {p.ca_id}")
        )
    key = f"{p.ca_id}|{p.authorization_id}"
    current = state.get("authorizations", key)
    if current is not None and current["version"] >= p.version:
        findings.append(
            Finding("AUT-001", f"version {p.version} is not newer than {current['version']}")
        )
    if findings:
        return Evaluation("discrepancy", tuple(findings))
    return Evaluation(
        "recorded",
        effects=(Put("authorizations", key, p.model_dump(mode="json")),),
        actions=("Authorization",),
    )


def recorded(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    """Notifications the ledger only records for now (accounts, inventory, reported rows)."""
    return Evaluation("recorded")


EVALUATORS: dict[str, Callable[[Event, LedgerState, Directory], Evaluation]] = {
    "issuance": issuance,
    "transfer": transfer,
    "transfer.answer": transfer_answer,
    "retirement": retirement,
    "cancellation": cancellation,
    "jcm.issuance.decided": jc_decision,
    "authorization": authorization,
}


def evaluate(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    """Run the checks for one authenticated event against the current ledger state."""
    return EVALUATORS.get(event.name, recorded)(event, state, d)
