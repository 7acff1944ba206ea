"""Transfers: within a registry, and the DES-style cross-registry proposal and answer.

A move between two registries runs the Kyoto data exchange pattern (domain.md §c.3): the
gateway checks the proposal and reserves the units, the acquiring registry answers, and
only an accepted answer moves them (JCM-003: a cross-registry move needs both sides).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

from gateway.core.actions import transfer_rows
from gateway.core.authz import FirstTransfers, auth_key, covering, triggers
from gateway.core.blocks import Block, Range, intersect, merge_ranges, overlapping_pairs
from gateway.core.decision_time import iso_ms
from gateway.core.model import Directory, Evaluation, Event, Finding, Notice
from gateway.core.rules import (
    acquiring_account,
    const,
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
from gateway.core.state import LedgerState, Put
from schemas import events as ev


def _international(
    state: LedgerState, parts: list[tuple[Block, Range]], party: str | None
) -> tuple[list[tuple[Block, Range]], FirstTransfers, list[Range]]:
    """Split parts by authorization; collect first-transfer pieces and unauthorized gaps."""
    ft = FirstTransfers(state)
    split: list[tuple[Block, Range]] = []
    unauthorized: list[Range] = []
    for block, part in parts:
        if block.first_transferred:
            split.append((block, part))
            continue
        covered, gaps = covering(state, block, part, party)
        unauthorized += gaps
        for piece, auth in covered:
            # reserve first-transfer pieces apart, so the answer can mark exactly them
            split.append((block, piece))
            if triggers(auth, "international"):
                ft.add(block, piece, auth)
    return split, ft, unauthorized


def transfer(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.Transfer)
    src, dst = p.transferring, p.acquiring
    ranges = ranges_of(p.blocks)
    qty = quantity_of(ranges)
    findings = sender_is(event, src.registry_id)
    findings += known_registries(d, [dst.registry_id, p.originating_registry])
    findings += participation(event, d, p.ca_id, [src.registry_id, dst.registry_id])
    findings += shape(ranges) + declared_quantity(p.quantity, ranges)
    if (src.registry_id, src.account_id) == (dst.registry_id, dst.account_id):
        # UKETS check2508: acquiring and transferring accounts differ.
        findings.append(Finding("ACC-006", "acquiring and transferring account are the same"))
    findings += transferring_account(state, src.registry_id, src.account_id)
    findings += acquiring_account(state, dst.registry_id, dst.account_id)
    parts, held = held_parts(
        state,
        p.ca_id,
        p.originating_registry,
        src.registry_id,
        src.account_id,
        [r for r in ranges if r.start <= r.end],
    )
    findings += held
    src_party, dst_party = (
        d.registry_party.get(src.registry_id),
        d.registry_party.get(dst.registry_id),
    )
    findings += one_period(parts, d, d.registry_party.get(p.originating_registry))
    ft = FirstTransfers(state)
    if src_party != dst_party and dst_party is not None:
        parts, ft, unauthorized = _international(state, parts, src_party)
        if unauthorized:
            # 2/CMA.3 annex para 2 with the SBSTA 60 text: no first transfer before an
            # authorization by the first transferring Party.
            findings.append(
                Finding(
                    "A6-002",
                    f"no valid authorization by {src_party} covers "
                    "these units before their first transfer",
                    tuple(unauthorized),
                )
            )
        findings += ft.findings()
    if p.first_transfer is not None and p.first_transfer != bool(ft.pieces):
        findings.append(
            Finding(
                "A6-006",
                f"the sender says first transfer={p.first_transfer}; "
                f"the authorization says {bool(ft.pieces)}",
            )
        )
    if findings:
        return Evaluation("rejected", tuple(findings), quantity=qty)
    actions = ("First transfer",) if ft.pieces else ("Transfer",)
    if src.registry_id == dst.registry_id:
        effects = move(parts, const(account=dst.account_id))
        return Evaluation("accepted", effects=tuple(effects), actions=actions, quantity=qty)
    effects = move(parts, const(state="reserved", reserved_by=p.transaction_id))
    record: dict[str, Any] = {
        "transaction_id": p.transaction_id,
        "status": "proposed",
        "ca_id": p.ca_id,
        "origin": p.originating_registry,
        # AccountRef.model_dump(), written out
        "transferring": {"registry_id": src.registry_id, "account_id": src.account_id},
        "acquiring": {"registry_id": dst.registry_id, "account_id": dst.account_id},
        "ranges": [r.wire() for r in ranges],
        "first_transfer": [r.wire() | {"authorization_id": ft.auth_for(r)} for r in ft.ranges],
        "proposed_by": event.id,
        # DES: no answer by then and the gateway cancels the transfer (as its own input).
        "deadline": iso_ms(event.received_ms + d.transfer_answer_s * 1000),
    }
    effects.append(Put("transfers", f"{p.ca_id}|{p.transaction_id}", record))
    body = {
        k: record[k]
        for k in ("transaction_id", "ca_id", "origin", "transferring", "acquiring", "ranges")
    }
    body["ranges"] = [r.wire() for r in merge_ranges(ranges)]  # the ranges, not how sent
    notice = Notice(dst.registry_id, "transfer.proposed", body)
    return Evaluation(
        "accepted", effects=tuple(effects), actions=actions, notices=(notice,), quantity=qty
    )


def _settle(
    state: LedgerState,
    tx: dict[str, Any],
    parts: list[tuple[Block, Range]],
    answer: str,
    reason_code: int | None,
    d: Directory,
) -> tuple[list[Put], tuple[str, ...], Notice, list[dict[str, Any]]]:
    """The acquiring registry's answer applied to a transfer's reserved parts, and the
    Article 6 rows of an accepted one."""
    first = {
        Range(int(r["serial_start"]), int(r["serial_end"])): r["authorization_id"]
        for r in tx["first_transfer"]
    }
    if answer == "accepted":
        acq = tx["acquiring"]

        def arrive(part: Range) -> dict[str, Any]:
            change: dict[str, Any] = {
                "state": "held",
                "reserved_by": None,
                "registry": acq["registry_id"],
                "account": acq["account_id"],
            }
            if part in first:  # a unit is first transferred once: later moves keep the mark
                change |= {"first_transferred": True, "authorization_id": first[part]}
            return change

        effects = move(parts, arrive)
        ft = FirstTransfers(state)
        for block, part in parts:
            auth_id = first.get(part)
            auth = state.get("authorizations", auth_key(block.ca_id, auth_id)) if auth_id else None
            if auth is not None:
                ft.add(block, part, auth)
        effects += ft.counter_effects()
        status = "completed"
        actions: tuple[str, ...] = ("Acquisition",)
        itmos = []
        for block, part in parts:
            auth_id = first.get(part) or (
                block.authorization_id if block.first_transferred else None
            )
            auth = state.get("authorizations", auth_key(block.ca_id, auth_id)) if auth_id else None
            itmos.append((block, part, auth, part in first))
        rows = transfer_rows(
            itmos,
            registry_party=d.registry_party,
            source=tx["transferring"]["registry_id"],
            target=acq["registry_id"],
        )
    else:
        reserved = [(b, r) for b, r in parts if b.state == "reserved"]
        effects = move(reserved, const(state="held", reserved_by=None))
        status, actions, rows = "rejected", (), []
    key = f"{tx['ca_id']}|{tx['transaction_id']}"
    effects.append(
        Put(
            "transfers", key, {**tx, "status": status, "answer": answer, "reason_code": reason_code}
        )
    )
    notice = Notice(
        tx["transferring"]["registry_id"],
        f"transfer.{status}",
        {
            "transaction_id": tx["transaction_id"],
            "ca_id": tx["ca_id"],
            "status": status,
            "reason_code": reason_code,
        },
    )
    return effects, actions, notice, rows


def _minus(a: Sequence[Range], b: Sequence[Range]) -> list[Range]:
    """Serials of ``a`` that are not in ``b`` (both merged: sorted, disjoint)."""
    out: list[Range] = []
    j = 0
    for r in a:
        while j < len(b) and b[j].end < r.start:
            j += 1
        cursor, k = r.start, j
        while k < len(b) and b[k].start <= r.end:
            if b[k].start > cursor:
                out.append(Range(cursor, b[k].start - 1))
            cursor, k = b[k].end + 1, k + 1
        if cursor <= r.end:
            out.append(Range(cursor, r.end))
    return out


def mirror_findings(
    sent: Sequence[Range],
    debited: Sequence[tuple[Block, Range]],
    credited: Sequence[ev.CreditedBlock],
) -> list[Finding]:
    """A6-015: what the acquiring registry says it credited against what the transfer debited.

    The serials must be the same set however either side splits them into ranges (DES
    mirrored transfer, domain.md §e.2 item 3), none credited twice, and each credited range
    must carry the vintage and unit type of the debited (reserved) units it covers.
    """
    got = ranges_of(credited)
    well = [r for r in got if r.start <= r.end]
    want, have = merge_ranges(sent), merge_ranges(well)
    # (message, serials, named as the sender wrote them: backwards or overlapping ranges)
    serials = (
        (
            "credited ranges have serial_start after serial_end",
            [r for r in got if r.start > r.end],
            True,
        ),
        ("credited ranges overlap: units credited twice", overlapping_pairs(well), True),
        ("debited units the acquiring registry did not credit", _minus(want, have), False),
        ("credited units the transfer did not debit", _minus(have, want), False),
    )
    out = [Finding("A6-015", message, tuple(rs), sent) for message, rs, sent in serials if rs]
    # (what, credited as, debited as) -> serials; a backwards range covers nothing here
    differ: dict[tuple[str, str, str], list[Range]] = {}
    parts = sorted(debited, key=lambda bp: bp[1].start)
    ends = [part.end for _, part in parts]
    for c in credited:
        start, end = int(c.serial_start), int(c.serial_end)
        for i in range(bisect_left(ends, start), len(parts)):
            block, part = parts[i]
            if part.start > end:
                break
            lo, hi = max(start, part.start), min(end, part.end)
            if lo > hi:
                continue
            for what, mine, theirs in (
                ("vintage", str(c.vintage), str(block.vintage)),
                ("unit type", c.unit_type, block.unit_type),
            ):
                if mine != theirs:
                    differ.setdefault((what, mine, theirs), []).append(Range(lo, hi))
    for (what, mine, theirs), rs in sorted(differ.items()):
        out.append(
            Finding(
                "A6-015",
                f"units credited as {what} {mine} were debited as {what} {theirs}",
                tuple(merge_ranges(rs)),
            )
        )
    return out


def transfer_answer(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    p = event.payload
    assert isinstance(p, ev.TransferAnswer)
    key = f"{p.ca_id}|{p.transaction_id}"
    tx = state.get("transfers", key)
    if tx is None:
        # The answer and its proposal pass through one ledger partition, and the acquiring
        # registry learns of a proposal only from the notice sent once it is decided: an
        # answer the ledger sees first answers nothing.
        return Evaluation(
            "discrepancy",
            (
                Finding(
                    "TRN-001",
                    f"no transfer {p.transaction_id} was proposed in {p.ca_id}: an answer "
                    "can only follow the gateway's proposal notice, so this one answers "
                    "nothing and settles nothing",
                ),
            ),
        )
    findings: list[Finding] = []
    if event.signer_principal != tx["acquiring"]["registry_id"]:
        # JCM-003: only the acquiring registry completes a cross-registry move.
        findings.append(
            Finding(
                "JCM-003",
                f"only {tx['acquiring']['registry_id']} can answer transfer {p.transaction_id}",
            )
        )
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
    parts = [
        (b, part)
        for r in ranges
        for b, part in intersect(state.overlapping(tx["ca_id"], tx["origin"], r), r)[0]
        if b.state == "reserved" and b.reserved_by == p.transaction_id
    ]
    if p.answer == "accepted" and p.credited is not None:
        # 2/CMA.3 annex para 33(a): both sides record the same units; a registry that
        # credited otherwise acted on its own, and the transfer stays proposed.
        mirror = mirror_findings(ranges, parts, p.credited)
        if mirror:
            return Evaluation("discrepancy", tuple(mirror))
    effects, actions, notice, rows = _settle(state, tx, parts, p.answer, p.reason_code, d)
    return Evaluation(
        "recorded",
        effects=tuple(effects),
        actions=actions,
        notices=(notice,),
        quantity=quantity_of(ranges),
        a6=tuple(rows),
    )


def _release(state: LedgerState, tx: dict[str, Any]) -> list[Put]:
    """Effects that put a transfer's reserved units back where they were."""
    ranges = [Range(int(r["serial_start"]), int(r["serial_end"])) for r in tx["ranges"]]
    parts = [
        (b, part)
        for r in ranges
        for b, part in intersect(state.overlapping(tx["ca_id"], tx["origin"], r), r)[0]
        if b.state == "reserved" and b.reserved_by == tx["transaction_id"]
    ]
    return move(parts, const(state="held", reserved_by=None))


def transfer_timeout(event: Event, state: LedgerState, d: Directory) -> Evaluation:
    """The gateway's own timeout input: an unanswered proposal is cancelled (DES status 7)."""
    p = event.payload
    assert isinstance(p, ev.TransferTimeout)
    key = f"{p.ca_id}|{p.transaction_id}"
    tx = state.get("transfers", key)
    if event.signer_role != "gateway":
        return Evaluation("discrepancy", (Finding("MSG-002", "only the gateway times out"),))
    if tx is None:
        return Evaluation(
            "discrepancy", (Finding("TRN-001", f"no transfer {p.transaction_id} is pending"),)
        )
    if tx["status"] != "proposed":
        # The answer won the race: whichever the ledger saw first decided.
        return Evaluation(
            "discrepancy",
            (Finding("TRN-002", f"transfer {p.transaction_id} is already {tx['status']}"),),
        )
    effects = _release(state, tx)
    effects.append(Put("transfers", key, {**tx, "status": "cancelled", "answer": None}))
    body = {
        "transaction_id": p.transaction_id,
        "ca_id": p.ca_id,
        "status": "cancelled",
        "reason": f"no answer by {p.deadline}",
    }
    notices = tuple(
        Notice(tx[side]["registry_id"], "transfer.cancelled", body)
        for side in ("transferring", "acquiring")
    )
    ranges = [Range(int(r["serial_start"]), int(r["serial_end"])) for r in tx["ranges"]]
    return Evaluation(
        "recorded",
        effects=tuple(effects),
        notices=notices,
        quantity=quantity_of(ranges),
        note=f"transfer {p.transaction_id} cancelled: {body['reason']}",
    )


def overdue(transfers: Iterable[tuple[str, dict[str, Any]]], now_ms: int) -> list[dict[str, Any]]:
    """Pending transfers whose deadline has passed (the timer's question, asked of a table)."""
    now = iso_ms(now_ms)
    return [
        tx
        for _, tx in transfers
        if tx and tx.get("status") == "proposed" and tx.get("deadline", now) < now
    ]
