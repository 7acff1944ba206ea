"""The ledger checks: one pure function per event type, over a :class:`LedgerState`.

Each returns an :class:`Evaluation` listing *every* failing check (like the transaction
log's evaluation results), the Article 6 actions the gateway derives, and the effects to
apply. Proposals that fail a check are rejected; notifications that fail are discrepancies.
Check codes and their sources are catalogued in ``gateway.core.checks``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from gateway.core.blocks import (
    TERMINAL,
    Block,
    Range,
    carve,
    intersect,
    malformed,
    merge_ranges,
    overlapping_pairs,
)
from gateway.core.model import Directory, Evaluation, Event, Finding, Notice
from gateway.core.state import LedgerState, Put
from schemas import events as ev
from schemas._types import SerialRange

FIRST_INTERNATIONAL = "First international transfer"


def _ranges(blocks: Sequence[SerialRange]) -> list[Range]:
    return [Range(int(b.serial_start), int(b.serial_end)) for b in blocks]


def _shape(ranges: Sequence[Range]) -> list[Finding]:
    """BLK-001 and BLK-002: every range well formed, none overlapping another."""
    out: list[Finding] = []
    bad = malformed(ranges)
    if bad:
        out.append(Finding("BLK-001", "serial_start is after serial_end", tuple(bad)))
    dup = overlapping_pairs(ranges)
    if dup:
        out.append(Finding("BLK-002", "blocks of one transaction overlap", tuple(dup)))
    return out


def _sender_is(event: Event, registry_id: str) -> list[Finding]:
    if event.signer_principal != registry_id:
        return [Finding("MSG-002", f"{event.signer_principal} cannot act for {registry_id}")]
    return []


def _ca_parties(event: Event, d: Directory, ca_id: str, registries: Sequence[str]) -> list[Finding]:
    """A6-001: the cooperative approach exists and every registry's Party participates."""
    parties = d.ca_parties.get(ca_id)
    if parties is None:
        return [Finding("A6-001", f"unknown cooperative approach {ca_id}")]
    out = [
        Finding("A6-001", f"{r} (Party {d.registry_party.get(r)}) does not participate in {ca_id}")
        for r in registries
        if d.registry_party.get(r) not in parties
    ]
    return out


def _held(
    state: LedgerState, ca_id: str, origin: str, registry: str, account: str, want: Sequence[Range]
) -> tuple[list[tuple[Block, Range]], list[Finding]]:
    """BLK-003 / BLK-007: the account holds every requested range, none terminal or reserved."""
    parts: list[tuple[Block, Range]] = []
    missing: list[Range] = []
    terminal: list[Range] = []
    reserved: list[Range] = []
    for r in want:
        covered, gaps = intersect(state.overlapping(ca_id, origin, r), r)
        missing.extend(gaps)
        for block, part in covered:
            if block.state in TERMINAL:
                terminal.append(part)
            elif block.registry != registry or block.account != account:
                missing.append(part)
            elif block.state == "reserved":
                reserved.append(part)
            else:
                parts.append((block, part))
    findings: list[Finding] = []
    if missing:
        findings.append(
            Finding(
                "BLK-003", f"account {registry}/{account} does not hold these units", tuple(missing)
            )
        )
    if terminal:
        findings.append(Finding("BLK-007", "units are retired or cancelled", tuple(terminal)))
    if reserved:
        findings.append(
            Finding("BLK-009", "units are reserved by a transfer in progress", tuple(reserved))
        )
    return parts, findings


def _move(
    parts: Sequence[tuple[Block, Range]], changes: Callable[[Range], dict[str, Any]]
) -> list[Put]:
    """Effects that give each part the attributes ``changes(part)``, splitting its block."""
    by_block: dict[str, tuple[Block, list[Range]]] = {}
    for block, part in parts:
        by_block.setdefault(block.key, (block, []))[1].append(part)
    puts: list[Put] = []
    for block, ranges in by_block.values():
        pieces = [block]
        for part in ranges:
            i = next(i for i, b in enumerate(pieces) if b.start <= part.start and part.end <= b.end)
            pieces[i : i + 1] = carve(pieces[i], part, **changes(part))
        puts += [Put("blocks", b.key, b.to_record()) for b in pieces]
    return puts


def _const(**changes: Any) -> Callable[[Range], dict[str, Any]]:
    return lambda _part: changes


def _quantity(ranges: Sequence[Range]) -> int:
    """Units named, each once: overlapping ranges (BLK-002) must not push the total past
    the 18 digits a decision's ``quantity`` may carry."""
    return sum(r.quantity for r in merge_ranges(r for r in ranges if r.start <= r.end))


# ---- event types ----------------------------------------------------------------------------


def issuance(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Issuance)
    ranges = _ranges(p.blocks)
    findings = _sender_is(event, p.registry_id) + _ca_parties(event, d, p.ca_id, [p.registry_id])
    findings += _shape(ranges)
    qty = _quantity(ranges)
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


def _authorized(
    state: LedgerState, block: Block, part: Range, party: str | None
) -> tuple[list[tuple[Range, str]], list[Range]]:
    """Split ``part`` by the coverage of ``party``'s non-revoked authorizations.

    Returns the covered pieces with the first-transfer definition of the authorization that
    covers each (a higher version wins where coverages overlap) and the uncovered gaps. A
    part may span several coverage entries or authorizations.
    """
    covered: list[tuple[Range, str]] = []
    remaining = [part]
    for auth in sorted(
        state.values("authorizations", f"{block.ca_id}|"), key=lambda a: -a["version"]
    ):
        if auth["status"] == "revoked" or auth["authorizing_party"] != party:
            continue
        for c in auth.get("coverage", ()):
            if c["originating_registry"] != block.origin:
                continue
            cov_start, cov_end = int(c["serial_start"]), int(c["serial_end"])
            rest: list[Range] = []
            for r in remaining:
                lo, hi = max(r.start, cov_start), min(r.end, cov_end)
                if lo > hi:
                    rest.append(r)
                    continue
                covered.append((Range(lo, hi), auth["first_transfer_definition"]))
                if r.start < lo:
                    rest.append(Range(r.start, lo - 1))
                if hi < r.end:
                    rest.append(Range(hi + 1, r.end))
            remaining = rest
    return sorted(covered, key=lambda c: c[0].start), sorted(remaining, key=lambda r: r.start)


def transfer(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Transfer)
    src, dst = p.transferring, p.acquiring
    ranges = _ranges(p.blocks)
    findings = _sender_is(event, src.registry_id)
    findings += _ca_parties(event, d, p.ca_id, [src.registry_id, dst.registry_id])
    findings += _shape(ranges)
    if (src.registry_id, src.account_id) == (dst.registry_id, dst.account_id):
        findings.append(Finding("ACC-006", "acquiring and transferring account are the same"))
    parts, held = _held(
        state,
        p.ca_id,
        p.originating_registry,
        src.registry_id,
        src.account_id,
        [r for r in ranges if r.start <= r.end],
    )
    findings += held
    qty = _quantity(ranges)
    src_party, dst_party = (
        d.registry_party.get(src.registry_id),
        d.registry_party.get(dst.registry_id),
    )
    first: list[Range] = []
    if src_party != dst_party:
        unauthorized: list[Range] = []
        split: list[tuple[Block, Range]] = []
        for block, part in parts:
            if block.first_transferred:
                split.append((block, part))
                continue
            covered, gaps = _authorized(state, block, part, src_party)
            unauthorized += gaps
            for piece, definition in covered:
                # reserve first-transfer pieces apart, so the answer can mark exactly them
                split.append((block, piece))
                if definition == FIRST_INTERNATIONAL:
                    first.append(piece)
        parts = split
        if unauthorized:
            findings.append(
                Finding(
                    "A6-002",
                    f"no valid authorization by {src_party} covers these units"
                    " before their first transfer",
                    tuple(unauthorized),
                )
            )
    if findings:
        return Evaluation("rejected", tuple(findings), quantity=qty)
    actions = ("First transfer",) if first else ("Transfer",)
    if src.registry_id == dst.registry_id:
        effects = _move(parts, _const(account=dst.account_id))
        return Evaluation("accepted", effects=tuple(effects), actions=actions, quantity=qty)
    effects = _move(parts, _const(state="reserved", reserved_by=p.transaction_id))
    record = {
        "transaction_id": p.transaction_id,
        "status": "proposed",
        "ca_id": p.ca_id,
        "origin": p.originating_registry,
        "transferring": src.model_dump(),
        "acquiring": dst.model_dump(),
        "ranges": [r.wire() for r in ranges],
        "first_transfer": [r.wire() for r in first],
        "proposed_by": event.id,
    }
    effects.append(Put("transfers", f"{p.ca_id}|{p.transaction_id}", record))
    notice = Notice(
        dst.registry_id,
        "transfer.proposed",
        {
            k: record[k]
            for k in ("transaction_id", "ca_id", "origin", "transferring", "acquiring", "ranges")
        },
    )
    return Evaluation(
        "accepted", effects=tuple(effects), actions=actions, notices=(notice,), quantity=qty
    )


def transfer_answer(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.TransferAnswer)
    key = f"{p.ca_id}|{p.transaction_id}"
    tx = state.get("transfers", key)
    if tx is None:
        return Evaluation(
            "discrepancy", (Finding("TRN-001", f"no transfer {p.transaction_id} is pending"),)
        )
    findings = _sender_is(event, tx["acquiring"]["registry_id"])
    if tx["status"] != "proposed":
        findings.append(
            Finding("TRN-002", f"transfer {p.transaction_id} is already {tx['status']}")
        )
    if tx["origin"] != p.originating_registry:
        findings.append(
            Finding(
                "TRN-003",
                f"the transfer moves units of {tx['origin']}, not {p.originating_registry}",
            )
        )
    if findings:
        return Evaluation("discrepancy", tuple(findings))
    ranges = [Range(int(r["serial_start"]), int(r["serial_end"])) for r in tx["ranges"]]
    first = [Range(int(r["serial_start"]), int(r["serial_end"])) for r in tx["first_transfer"]]
    parts = [
        (b, part)
        for r in ranges
        for b, part in intersect(state.overlapping(tx["ca_id"], tx["origin"], r), r)[0]
        if b.state == "reserved" and b.reserved_by == p.transaction_id
    ]
    if p.answer == "accepted":
        acq = tx["acquiring"]
        already = {part for b, part in parts if b.first_transferred}
        effects = _move(
            parts,
            lambda part: {
                "state": "held",
                "reserved_by": None,
                "registry": acq["registry_id"],
                "account": acq["account_id"],
                # a unit is first transferred once: moving it again keeps the mark
                "first_transferred": part in already
                or any(f.start <= part.start and part.end <= f.end for f in first),
            },
        )
        status = "completed"
        actions: tuple[str, ...] = ("Acquisition",)
    else:
        effects = _move(parts, _const(state="held", reserved_by=None))
        status, actions = "rejected", ()
    effects.append(
        Put(
            "transfers",
            key,
            {**tx, "status": status, "answer": p.answer, "reason_code": p.reason_code},
        )
    )
    notice = Notice(
        tx["transferring"]["registry_id"],
        f"transfer.{status}",
        {
            "transaction_id": p.transaction_id,
            "ca_id": p.ca_id,
            "status": status,
            "reason_code": p.reason_code,
        },
    )
    return Evaluation(
        "recorded",
        effects=tuple(effects),
        actions=actions,
        notices=(notice,),
        quantity=_quantity(ranges),
    )


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
    ranges = _ranges(blocks)
    findings = (
        _sender_is(event, registry) + _ca_parties(event, d, ca_id, [registry]) + _shape(ranges)
    )
    parts, held = _held(
        state, ca_id, origin, registry, account, [r for r in ranges if r.start <= r.end]
    )
    findings += held
    if findings:
        return Evaluation("rejected", tuple(findings), quantity=_quantity(ranges))
    effects = _move(parts, _const(state=new_state, account=to_account))
    return Evaluation(
        "accepted", effects=tuple(effects), actions=(action,), quantity=_quantity(ranges)
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
