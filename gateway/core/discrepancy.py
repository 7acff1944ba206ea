"""The lifecycle of a discrepancy: open → acknowledged → resolved, every step on record.

A discrepancy is opened by whatever finds it (a reconciliation run, a parked delivery, a
continuous check) with a stable code, a severity and the blocks and registries involved.
People move it on with signed commands: *acknowledge* (someone owns it), *resolve* (fixed,
with a note saying how), or *resolve by hand* (an operator's signed correction, the DES
"manual intervention"). A resolved discrepancy is final; the same finding seen again later
is a new discrepancy. Each transition is a plain value the caller logs as an audit entry.

Codes of refused commands (stable):

- REC-101: no discrepancy with that id;
- REC-102: the transition is not allowed from the discrepancy's status;
- REC-103: a resolution needs a note (and a manual one the operator's correction).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Status = Literal["open", "acknowledged", "resolved"]
Action = Literal["acknowledge", "resolve", "resolve-by-hand"]

#: Which actions each status allows.
ALLOWED: dict[Status, frozenset[Action]] = {
    "open": frozenset({"acknowledge", "resolve", "resolve-by-hand"}),
    "acknowledged": frozenset({"resolve", "resolve-by-hand"}),
    "resolved": frozenset(),
}


@dataclass(frozen=True)
class Discrepancy:
    id: str
    code: str  # what was found, e.g. REC-002 or DLV-001
    severity: Literal["info", "warning", "error"]
    registries: tuple[str, ...]
    blocks: tuple[tuple[str, str, int, int], ...]  # (ca_id, origin, first, last)
    first_seen: str  # ISO 8601, UTC
    status: Status = "open"
    owner: str | None = None  # who acknowledged it
    resolution: str | None = None  # how it was resolved
    manual: bool = False  # resolved by an operator's correction
    history: tuple[tuple[str, str, str], ...] = ()  # (action, by, at)


@dataclass(frozen=True)
class Command:
    """A signed command's content (the signature is checked where it arrives)."""

    discrepancy_id: str
    action: Action
    by: str  # the signer's principal
    at: str  # ISO 8601, UTC
    note: str = ""
    correction: str = ""  # resolve-by-hand: what the operator changed, and where


@dataclass(frozen=True)
class Refused:
    code: str
    message: str


def apply(known: Discrepancy | None, cmd: Command) -> Discrepancy | Refused:
    """The discrepancy after ``cmd``, or why ``cmd`` is refused (the state is unchanged)."""
    if known is None or known.id != cmd.discrepancy_id:
        return Refused("REC-101", f"no discrepancy {cmd.discrepancy_id!r}")
    if cmd.action not in ALLOWED[known.status]:
        return Refused("REC-102", f"cannot {cmd.action} a discrepancy that is {known.status}")
    history = (*known.history, (cmd.action, cmd.by, cmd.at))
    if cmd.action == "acknowledge":
        return replace(known, status="acknowledged", owner=cmd.by, history=history)
    if not cmd.note.strip():
        return Refused("REC-103", "a resolution needs a note saying how it was resolved")
    if cmd.action == "resolve-by-hand" and not cmd.correction.strip():
        return Refused("REC-103", "a resolution by hand needs the operator's correction")
    resolution = (
        cmd.note if cmd.action == "resolve" else f"{cmd.note} (correction: {cmd.correction})"
    )
    return replace(
        known,
        status="resolved",
        resolution=resolution,
        manual=cmd.action == "resolve-by-hand",
        history=history,
    )
