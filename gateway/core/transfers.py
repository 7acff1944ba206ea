"""Transfers: within a registry, and the DES-style cross-registry proposal and answer."""

from __future__ import annotations

from gateway.core.blocks import (
    Block,
    Range,
    intersect,
)
from gateway.core.model import Directory, Evaluation, Event, Finding, Notice
from gateway.core.rules import (
    FIRST_INTERNATIONAL,
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
from schemas import events as ev


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
    ranges = ranges_of(p.blocks)
    findings = sender_is(event, src.registry_id)
    findings += participation(event, d, p.ca_id, [src.registry_id, dst.registry_id])
    findings += shape(ranges)
    if (src.registry_id, src.account_id) == (dst.registry_id, dst.account_id):
        findings.append(Finding("ACC-006", "acquiring and transferring account are the same"))
    parts, held = held_parts(
        state,
        p.ca_id,
        p.originating_registry,
        src.registry_id,
        src.account_id,
        [r for r in ranges if r.start <= r.end],
    )
    findings += held
    qty = quantity_of(ranges)
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
        effects = move(parts, const(account=dst.account_id))
        return Evaluation("accepted", effects=tuple(effects), actions=actions, quantity=qty)
    effects = move(parts, const(state="reserved", reserved_by=p.transaction_id))
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
    findings = sender_is(event, tx["acquiring"]["registry_id"])
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
        effects = move(
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
        effects = move(parts, const(state="held", reserved_by=None))
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
        quantity=quantity_of(ranges),
    )
