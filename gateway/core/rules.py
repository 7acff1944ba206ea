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
from gateway.core.state import LedgerState, Put
from schemas._types import SerialRange

FIRST_INTERNATIONAL = "First international transfer"


def ranges_of(blocks: Sequence[SerialRange]) -> list[Range]:
    return [Range(int(b.serial_start), int(b.serial_end)) for b in blocks]


def shape(ranges: Sequence[Range]) -> list[Finding]:
    """BLK-001 and BLK-002: every range well formed, none overlapping another."""
    out: list[Finding] = []
    bad = malformed(ranges)
    if bad:
        out.append(Finding("BLK-001", "serial_start is after serial_end", tuple(bad)))
    dup = overlapping_pairs(ranges)
    if dup:
        out.append(Finding("BLK-002", "blocks of one transaction overlap", tuple(dup)))
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
        puts += [Put("blocks", b.key, b.to_record()) for b in pieces]
    return puts


def const(**changes: Any) -> Callable[[Range], dict[str, Any]]:
    return lambda _part: changes


def quantity_of(ranges: Sequence[Range]) -> int:
    """Units named, each once: overlapping ranges (BLK-002) must not push the total past
    the 18 digits a decision's ``quantity`` may carry."""
    return sum(r.quantity for r in merge_ranges(r for r in ranges if r.start <= r.end))
