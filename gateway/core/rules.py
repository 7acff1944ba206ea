"""Shared rule helpers for the ledger checks: shapes, holdings, moves, participation."""

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
from gateway.core.model import Directory, Event, Finding
from gateway.core.state import LedgerState, Put, block_put
from schemas._types import SerialRange

FIRST_INTERNATIONAL = "First international transfer"


def ranges_of(blocks: Sequence[SerialRange]) -> list[Range]:
    return [Range(int(b.serial_start), int(b.serial_end)) for b in blocks]


def shape(ranges: Sequence[Range]) -> list[Finding]:
    """BLK-001 and BLK-002: every range well formed, none overlapping another."""
    out: list[Finding] = []
    bad = malformed(ranges)
    if bad:
        out.append(Finding("BLK-001", "serial_start is after serial_end", tuple(bad), True))
    dup = overlapping_pairs(ranges)
    if dup:
        out.append(Finding("BLK-002", "blocks of one transaction overlap", tuple(dup), True))
    return out


def sender_is(event: Event, registry_id: str) -> list[Finding]:
    if event.signer_principal != registry_id:
        return [Finding("MSG-002", f"{event.signer_principal} cannot act for {registry_id}")]
    return []


def participation(
    event: Event, d: Directory, ca_id: str, registries: Sequence[str]
) -> list[Finding]:
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


def held_parts(
    state: LedgerState, ca_id: str, origin: str, registry: str, account: str, want: Sequence[Range]
) -> tuple[list[tuple[Block, Range]], list[Finding]]:
    """BLK-003 / BLK-007 / BLK-009: the account holds every requested range, none terminal
    or reserved; when it does not, QTY-002 compares the quantity with its balance."""
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
        findings += within_balance(state, ca_id, origin, registry, account, quantity_of(want))
    if terminal:
        findings.append(Finding("BLK-007", "units are retired or cancelled", tuple(terminal)))
    if reserved:
        findings.append(
            Finding("BLK-009", "units are reserved by a transfer in progress", tuple(reserved))
        )
    return parts, findings


def move(
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
        puts += [block_put(b) for b in pieces]
    return puts


def const(**changes: Any) -> Callable[[Range], dict[str, Any]]:
    return lambda _part: changes


def quantity_of(ranges: Sequence[Range]) -> int:
    """Units named, each once: overlapping ranges (BLK-002) must not push the total past
    the 18 digits a decision's ``quantity`` may carry."""
    return sum(r.quantity for r in merge_ranges(r for r in ranges if r.start <= r.end))


HOLDING_TYPES = ("government-holding", "participant-holding")


def account_of(state: LedgerState, registry: str, account: str) -> dict[str, Any] | None:
    return state.get("accounts", f"{registry}|{account}")


def transferring_account(
    state: LedgerState, registry: str, account: str, allowed: Sequence[str] = HOLDING_TYPES
) -> list[Finding]:
    """ACC-001 exists, ACC-002 open, ACC-008 of a type that may give units away."""
    acc = account_of(state, registry, account)
    if acc is None:
        # UKETS check1002: the transferring account must exist in the transferring registry.
        return [Finding("ACC-001", f"account {registry}/{account} does not exist")]
    if acc["status"] != "open":
        # UKETS check1003-1005: closed, blocked or suspended accounts do not transfer.
        return [Finding("ACC-002", f"account {registry}/{account} is {acc['status']}")]
    if acc["account_type"] not in allowed:
        # UKETS check1007 -> ITL 5904: account type not allowed for the transaction type.
        return [Finding("ACC-008", f"a {acc['account_type']} account cannot give units away")]
    return []


def acquiring_account(
    state: LedgerState, registry: str, account: str, allowed: Sequence[str] = HOLDING_TYPES
) -> list[Finding]:
    """ACC-003 exists (DES 5902), ACC-005 open (5906), ACC-004 eligible type (5903)."""
    acc = account_of(state, registry, account)
    if acc is None:
        return [Finding("ACC-003", f"acquiring account {registry}/{account} does not exist")]
    if acc["status"] != "open":
        return [Finding("ACC-005", f"acquiring account {registry}/{account} is {acc['status']}")]
    if acc["account_type"] not in allowed:
        return [Finding("ACC-004", f"a {acc['account_type']} account cannot receive these units")]
    return []


def declared_quantity(declared: str | None, ranges: Sequence[Range]) -> list[Finding]:
    """QTY-001: a declared quantity is positive and equals the units the blocks name."""
    if declared is None:
        return []
    named = quantity_of(ranges)
    if int(declared) <= 0 or int(declared) != named:
        # UKETS check3007/3008 -> 5904: quantity must be a positive integer.
        return [Finding("QTY-001", f"declared quantity {declared} != {named} units in the blocks")]
    return []


def within_balance(
    state: LedgerState, ca_id: str, origin: str, registry: str, account: str, wanted: int
) -> list[Finding]:
    """QTY-002: the quantity does not exceed what the account holds (UKETS check3005)."""
    have = state.held(ca_id, origin, registry, account)
    if wanted > have:
        return [Finding("QTY-002", f"{wanted} units wanted, {registry}/{account} holds {have}")]
    return []


def one_period(
    parts: Sequence[tuple[Block, Range]], d: Directory, party: str | None
) -> list[Finding]:
    """BLK-005: every block's vintage lies in the originating Party's NDC period.

    UKETS check3003 keeps one transaction in one commitment period; for Article 6 units the
    period is the NDC implementation period (AEF Table 1). ``parts`` are the blocks and the
    part of each the transaction names: the finding names those parts, not whole blocks.
    """
    period = d.ndc_period.get(party or "")
    if period is None:
        return []
    outside = tuple(r for b, r in parts if not period[0] <= b.vintage <= period[1])
    if outside:
        return [
            Finding("BLK-005", f"vintages outside the NDC period {period[0]}-{period[1]}", outside)
        ]
    return []


def known_registries(d: Directory, registries: Sequence[str]) -> list[Finding]:
    """A6-013: every registry named is a known Party ITMO registry (CN-2026 Table 28)."""
    return [
        Finding("A6-013", f"unknown registry {r}")
        for r in dict.fromkeys(registries)
        if r not in d.registry_party
    ]
