"""The lifecycle of a discrepancy: open → acknowledged → resolved, every step on record.

A discrepancy is opened by whatever finds it (a reconciliation run, a parked delivery, a
continuous check) with a stable code, a severity and the blocks and registries involved.
People move it on with signed commands: *acknowledge* (someone owns it), *resolve* (fixed,
with a note saying how), or *resolve by hand* (an operator's signed correction, the DES
"manual intervention"). A resolved discrepancy is final; the same finding seen again later
is a new discrepancy. Each transition is a plain value the caller logs as an audit entry.

On the wire a finding is a *discrepancy record* (:func:`record`, on ``a6.discrepancies``,
keyed by its id); its id is derived from what found it, so a finding seen twice (a
redelivery, a retried run) is one discrepancy. Every transition is an audit entry of type
``discrepancy`` (:func:`opened_entry`, :func:`command_entry`) carrying the discrepancy as
it stands after it, so the latest entry per id is its current state (:func:`fold`).

Codes of refused commands (stable):

- REC-101: no discrepancy with that id;
- REC-102: the transition is not allowed from the discrepancy's status;
- REC-103: a resolution needs a note (and a manual one the operator's correction).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from gateway.core.blocks import Range, coalesce
from gateway.core.canonical import sha256_hex
from schemas import entries as en
from schemas import entry_parts as ep

Status = Literal["open", "acknowledged", "resolved"]
Action = Literal["acknowledge", "resolve", "resolve-by-hand"]
Severity = Literal["info", "warning", "error"]
#: What found it: a reconciliation run, a decision on a notification whose checks failed (an
#: act a registry completed on its own), a message that could not be delivered, or a check
#: of a Party's reported structured summary, or a witness that refused a checkpoint as a fork.
FoundBy = Literal["reconciliation", "decision", "delivery", "summary", "witness"]
FOUND_BY: tuple[FoundBy, ...] = ("reconciliation", "decision", "delivery", "summary", "witness")
#: (ca_id, originating registry or "" when unknown, first serial, last serial)
BlockRef = tuple[str, str, int, int]
ENTRY_TYPE: Final = "discrepancy"
OPENED_TYPE: Final = "a6gw.discrepancy.opened"

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
    severity: Severity
    registries: tuple[str, ...]
    blocks: tuple[BlockRef, ...]
    first_seen: str  # ISO 8601, UTC
    found_by: FoundBy = "reconciliation"
    source_entry: str = ""  # the audit entry that found it (run, decision, parked delivery)
    summary: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict, compare=False)
    status: Status = "open"
    owner: str | None = None  # who acknowledged it
    resolution: str | None = None  # how it was resolved
    manual: bool = False  # resolved by an operator's correction
    history: tuple[tuple[str, str, str], ...] = ()  # (action, by, at)

    def __post_init__(self) -> None:
        # Named merged: adjacent blocks of one serial space joined, however they were found
        # or logged (a record written before blocks were merged lists the ledger's pieces).
        merged = coalesce(((c, o), Range(s, e)) for c, o, s, e in self.blocks)
        object.__setattr__(self, "blocks", tuple((c, o, r.start, r.end) for (c, o), r in merged))


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


def discrepancy_id(found_by: FoundBy, source_entry: str, n: int = 0) -> str:
    """Deterministic: the same finding (same entry, same position) is the same discrepancy."""
    return "dsc-" + sha256_hex(f"{found_by}\n{source_entry}\n{n}".encode())[:40]


def record(d: Discrepancy) -> dict[str, Any]:
    """The wire form of a finding (``a6.discrepancies``) and of the state in audit entries."""
    out: dict[str, Any] = {
        "discrepancy_id": d.id,
        "code": d.code,
        "severity": d.severity,
        "registries": list(d.registries),
        "blocks": [
            {"ca_id": c, "origin": o, "start": str(s), "end": str(e)} for c, o, s, e in d.blocks
        ],
        "first_seen": d.first_seen,
        "found_by": d.found_by,
        "source_entry": d.source_entry,
        "summary": d.summary,
        "detail": dict(d.detail),
    }
    if d.status != "open" or d.history:
        out |= {
            "status": d.status,
            "owner": d.owner,
            "resolution": d.resolution,
            "manual": d.manual,
            "history": [{"action": a, "by": b, "at": t} for a, b, t in d.history],
        }
    return out


def from_record(doc: Mapping[str, Any]) -> Discrepancy:
    """The inverse of :func:`record` (a finding, or a state read back from an entry).

    :raises ValueError: when the record lacks a field or has one of the wrong shape.
    """
    try:
        return Discrepancy(
            id=str(doc["discrepancy_id"]),
            code=str(doc["code"]),
            severity=_one_of(doc["severity"], ("info", "warning", "error")),
            registries=tuple(str(r) for r in doc["registries"]),
            blocks=tuple(
                (str(b["ca_id"]), str(b["origin"]), int(b["start"]), int(b["end"]))
                for b in doc["blocks"]
            ),
            first_seen=str(doc["first_seen"]),
            found_by=_one_of(doc["found_by"], FOUND_BY),
            source_entry=str(doc.get("source_entry", "")),
            summary=str(doc.get("summary", "")),
            detail=dict(doc.get("detail") or {}),
            status=_one_of(doc.get("status", "open"), ("open", "acknowledged", "resolved")),
            owner=doc.get("owner"),
            resolution=doc.get("resolution"),
            manual=bool(doc.get("manual", False)),
            history=tuple(
                (str(h["action"]), str(h["by"]), str(h["at"])) for h in doc.get("history", ())
            ),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a discrepancy record: {exc!r}") from exc


def _one_of(value: Any, allowed: Sequence[str]) -> Any:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _state(d: Discrepancy) -> ep.OpenRecord:
    """The record of ``d`` as an entry carries it (open, or with its lifecycle fields)."""
    doc = record(d)
    return (ep.TrackedRecord if "status" in doc else ep.OpenRecord).model_validate(doc)


def _no_blocks(code: str, message: str) -> list[ep.Result]:
    return [ep.Result(code=code, message=message, blocks=[])]


def opened_entry(d: Discrepancy) -> dict[str, Any]:
    """The audit entry that puts a new finding on record (status ``open``)."""
    return en.DiscrepancyEntry(
        entry_version=1,
        entry_type=ENTRY_TYPE,
        entry_id="dso-" + d.id.removeprefix("dsc-"),
        input=ep.Opened(type=OPENED_TYPE, id=d.id, source=d.found_by),
        outcome="open",
        results=_no_blocks(d.code, d.summary),
        discrepancy=_state(d),
        decided_at=d.first_seen,
    ).wire()


def command_entry(
    cmd_input: Mapping[str, Any],
    after: Discrepancy | Refused,
    before: Discrepancy | None,
    at: str,
) -> dict[str, Any]:
    """The audit entry of one operator command: the discrepancy after it, or the refusal
    (with the discrepancy as it stands). ``cmd_input`` identifies the signed command
    (source, id, type, sha256, signer), from which the entry id is derived."""
    state: ep.OpenRecord | None
    outcome: Literal["refused"] | Status
    if isinstance(after, Refused):
        outcome, results = "refused", _no_blocks(after.code, after.message)
        state = _state(before) if before is not None else None
    else:
        outcome, results, state = after.status, [], _state(after)
    return en.DiscrepancyEntry(
        entry_version=1,
        entry_type=ENTRY_TYPE,
        entry_id=command_entry_id(cmd_input["source"], cmd_input["id"], cmd_input["sha256"]),
        input=ep.Command.model_validate(dict(cmd_input)),
        outcome=outcome,
        results=results,
        discrepancy=state,
        decided_at=at,
    ).wire()


def command_entry_id(source: str, command_id: str, sha256: str) -> str:
    """The entry id of a command, from its identity (the same command is the same entry)."""
    return "dsx-" + sha256_hex(f"{source}\n{command_id}\n{sha256}".encode())[:40]


def fold(entries: Iterable[en.EntryLike]) -> dict[str, Discrepancy]:
    """Every discrepancy's current state from the audit entries, in log order (what the
    entry models refuse is no discrepancy's entry: skipped)."""
    out: dict[str, Discrepancy] = {}
    for raw in entries:
        entry = en.read_entry(raw)
        if isinstance(entry, en.DiscrepancyEntry) and entry.discrepancy is not None:
            d = from_state(entry.discrepancy)
            out[d.id] = d
    return out


def from_state(doc: ep.OpenRecord) -> Discrepancy:
    """A discrepancy as an audit entry carries it (open, or with its lifecycle fields)."""
    tracked = doc if isinstance(doc, ep.TrackedRecord) else None
    return Discrepancy(
        id=doc.discrepancy_id,
        code=doc.code,
        severity=doc.severity,
        registries=tuple(doc.registries),
        blocks=tuple((b.ca_id, b.origin, int(b.start), int(b.end)) for b in doc.blocks),
        first_seen=doc.first_seen,
        found_by=doc.found_by,
        source_entry=doc.source_entry,
        summary=doc.summary,
        detail=dict(doc.detail),
        status=tracked.status if tracked else "open",
        owner=tracked.owner if tracked else None,
        resolution=tracked.resolution if tracked else None,
        manual=tracked.manual if tracked else False,
        history=tuple((h.action, h.by, h.at) for h in tracked.history) if tracked else (),
    )


def decision_finding(raw: en.EntryLike) -> Discrepancy | None:
    """A decision on a notification whose checks failed: the registry completed an act on
    its own that the gateway's books cannot follow, so the books differ. None otherwise
    (and for what the entry models refuse)."""
    entry = en.read_entry(raw)
    if not isinstance(entry, en.DecisionEntry) or entry.outcome != "discrepancy":
        return None
    inp, results = entry.input, entry.results
    ca_id = entry.ca_id or ""
    blocks = tuple(
        (ca_id, "", int(b.serial_start), int(b.serial_end)) for r in results for b in r.blocks
    )
    first = results[0] if results else ep.Result(code="MSG-000", message="", blocks=[])
    return Discrepancy(
        id=discrepancy_id("decision", entry.entry_id),
        code=first.code,
        severity="error",
        registries=(inp.signer or inp.source,),
        blocks=blocks,
        first_seen=entry.decided_at,
        found_by="decision",
        source_entry=entry.entry_id,
        summary=f"{inp.type} {inp.id}: {first.message}",
        detail={"codes": [r.code for r in results], "input": inp.model_dump()},
    )


def run_status(report_status: str, found: Iterable[Discrepancy]) -> str:
    """A reconciliation run's status with its discrepancies' lifecycle applied: an
    inconsistent run whose every discrepancy is resolved, at least one by an operator's
    correction, is "completed-with-manual-intervention" (DES status 6); resolved without one
    it is "completed"."""
    mine = list(found)
    if not mine or report_status not in ("totals-inconsistent", "blocks-inconsistent"):
        return report_status
    if any(d.status != "resolved" for d in mine):
        return report_status
    return "completed-with-manual-intervention" if any(d.manual for d in mine) else "completed"
