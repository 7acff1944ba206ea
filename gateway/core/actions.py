"""Article 6 actions as the ledger takes them: one row per Party, serial range and action.

Each accepted decision that moves ITMOs carries the AEF Table 3 rows it creates (decision
2/CMA.3 annex para 20; action types from CN-2026 Table 25(b), subtypes 26(b)), written when
the act happens and never before: a transfer's rows are written when the acquiring registry
accepts it, not when it is proposed, so a rejected or timed-out transfer leaves no first
transfer (domain.md §e.3 I-A6-7). Only ITMOs have rows: units first transferred now or
earlier, under an authorization.

A row names the Party whose report it belongs to (``party``): the first transferring Party
for a first transfer, the transferring Party for a transfer, the acquiring Party for an
acquisition, the using Party for a use, and the Party of the cancelling registry for a
cancellation. The structured summary and the AEF export are computed from these rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from gateway.core.blocks import Block, Range

ActionType = Literal["First transfer", "Transfer", "Acquisition", "Use", "Cancellation"]
#: The fields of a row, in order (``None`` where a field does not apply).
ROW_FIELDS = (
    "action",
    "subtype",
    "party",
    "ca_id",
    "authorization_id",
    "first_transferring_party",
    "registry",
    "origin",
    "first",
    "last",
    "quantity",
    "vintage",
    "unit_type",
    "purposes",
    "metric",
    "transferring_party",
    "acquiring_party",
    "using_party",
    "using_entity",
    "use_year",
)


def row(
    action: ActionType,
    block: Block,
    part: Range,
    auth: Mapping[str, Any],
    *,
    party: str,
    registry: str,
    subtype: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One action row for the units ``part`` of ``block``, ITMOs under ``auth``."""
    out: dict[str, Any] = dict.fromkeys(ROW_FIELDS)
    out |= {
        "action": action,
        "subtype": subtype,
        "party": party,
        "ca_id": block.ca_id,
        "authorization_id": auth["authorization_id"],
        "first_transferring_party": auth["authorizing_party"],
        "registry": registry,
        "origin": block.origin,
        "first": str(part.start),
        "last": str(part.end),
        "quantity": str(part.quantity),
        "vintage": block.vintage,
        "unit_type": block.unit_type,
        "purposes": auth["purposes"],
        "metric": auth.get("metric", "GHG"),
    }
    unknown = set(extra) - set(ROW_FIELDS)
    if unknown:
        raise ValueError(f"not row fields: {sorted(unknown)}")
    return out | extra


def first_transfer_rows(
    pieces: list[tuple[Block, Range, dict[str, Any]]], subtype: str, registry: str | None = None
) -> list[dict[str, Any]]:
    """The first transfers of ``pieces`` (block, range, authorization), each reported by its
    authorizing Party, where the units are (or ``registry``)."""
    return [
        row(
            "First transfer",
            b,
            r,
            a,
            party=a["authorizing_party"],
            registry=registry or b.registry,
            subtype=subtype,
        )
        for b, r, a in pieces
    ]


def transfer_rows(
    parts: list[tuple[Block, Range, dict[str, Any] | None, bool]],
    *,
    registry_party: Mapping[str, str],
    source: str,
    target: str,
) -> list[dict[str, Any]]:
    """A settled transfer from registry ``source`` to ``target``: for each part (block,
    range, its authorization or None when not an ITMO, whether this is its first transfer),
    the transferring Party's first transfer or transfer and the acquiring Party's
    acquisition."""
    src, dst = registry_party.get(source, ""), registry_party.get(target, "")
    out: list[dict[str, Any]] = []
    for block, part, auth, first in parts:
        if auth is None:
            continue  # not an ITMO: no Article 6 action
        sides = {"transferring_party": src, "acquiring_party": dst}
        if first:
            subtype = "First transfer to another Party"
            out.append(row("First transfer", block, part, auth, party=src, registry=source,
                           subtype=subtype, **sides))  # fmt: skip
        else:
            out.append(row("Transfer", block, part, auth, party=src, registry=source, **sides))
        out.append(row("Acquisition", block, part, auth, party=dst, registry=target, **sides))
    return out
