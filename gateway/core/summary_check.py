"""The structured summary a Party reported, checked against the one the log implies.

:func:`compare` sets the rows 7-14 of the latest recorded ``summary.reported`` entry for
(Party, year) beside the rows :func:`gateway.core.summary.summarise` computes;
:func:`unbacked_findings` reports the Party's uses of units with no earlier recorded first
transfer. Findings are plain values; :func:`discrepancies` makes them discrepancies (found
by "summary") and :func:`check_entry` the audit entry of the check.

Finding codes (stable; group CTF, checks over the log run on demand by ``a6gw summary
--check``, so they are documented here rather than in :mod:`gateway.core.catalogue`, whose
groups are those of the checks applied to inputs):

- CTF-001: a reported row differs from the computed one;
- CTF-002: a row the gateway cannot compute (R14 without an inventory figure) was reported;
- CTF-003: a row the gateway computes as non-zero was reported as null (not applicable);
- CTF-004: units the Party used have no recorded first transfer (I-A6-7).

Tolerance: exact, except for the rows derived from the average under the averaging approach
(R11, R12, and R14 = R5 + R12), where a difference up to 0.001 (the rounding of R11) passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from gateway.core import discrepancy as dsc
from gateway.core.blocks import Range, coalesce
from gateway.core.canonical import sha256_hex
from gateway.core.decision_time import iso_ms
from gateway.core.summary import THOUSANDTH, Row, Summary
from gateway.core.summary_log import Counted, Facts, Reported, text
from schemas import entries as en
from schemas import entry_parts as ep

DIFFERS, NOT_COMPUTABLE, REPORTED_NULL, UNBACKED = "CTF-001", "CTF-002", "CTF-003", "CTF-004"
SEVERITY: dict[str, dsc.Severity] = {
    DIFFERS: "error",
    NOT_COMPUTABLE: "warning",
    REPORTED_NULL: "error",
    UNBACKED: "error",
}
CHECK_TYPE: Final = "a6gw.summary.check"
ENTRY_TYPE: Final = "summary-check"
COMPARED = ("R7", "R8", "R9", "R10", "R11", "R12", "R13", "R14")
#: (ca_id, origin, first, last) of a finding's blocks.
Ref = tuple[str, str, int, int]


@dataclass(frozen=True)
class SummaryFinding:
    code: str
    party: str
    year: int
    row: str
    reported: Decimal | None
    computed: Decimal | None
    message: str
    blocks: tuple[Ref, ...] = ()
    entry_id: str = ""  # CTF-004: the use's entry

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "party": self.party,
            "year": self.year,
            "row": self.row,
            "reported": _show(self.reported),
            "computed": _show(self.computed),
            "message": self.message,
            "blocks": [
                {"ca_id": c, "origin": o, "first": str(f), "last": str(la)}
                for c, o, f, la in self.blocks
            ],
        } | ({"entry_id": self.entry_id} if self.entry_id else {})


def _show(d: Decimal | None) -> str | None:
    return None if d is None else text(d)


def refs(blocks: Iterable[Counted]) -> tuple[Ref, ...]:
    """The serial ranges of counted blocks, those of one serial space merged (adjacent and
    repeated ranges joined), serial spaces in the order they come."""
    merged = coalesce(((b.ca_id, b.origin), Range(b.first, b.last)) for b in blocks)
    return tuple((c, o, r.start, r.end) for (c, o), r in merged)


def latest_reported(facts: Facts, year: int) -> Reported | None:
    history = facts.reported.get(year)
    return history[-1] if history else None


def tolerance(summary: Summary, row: str) -> Decimal:
    if summary.method.averaging and row in ("R11", "R12", "R14"):
        return THOUSANDTH
    return Decimal(0)


def compare(summary: Summary, reported: Reported) -> list[SummaryFinding]:
    """The reported rows 7-14 against the computed ones, in row order."""
    out: list[SummaryFinding] = []
    for name in COMPARED:
        row, theirs = summary.rows[name], reported.rows.get(name)
        found = _compare_row(summary, row, theirs)
        if found is not None:
            out.append(found)
    return out


def _compare_row(summary: Summary, row: Row, theirs: Decimal | None) -> SummaryFinding | None:
    where = f"{summary.party} {summary.year} {row.name}"
    ours = row.value

    def finding(code: str, message: str) -> SummaryFinding:
        return SummaryFinding(
            code, summary.party, summary.year, row.name, theirs, ours, message, refs(row.blocks)
        )

    if theirs is None:
        if ours is not None and ours != 0:
            return finding(
                REPORTED_NULL,
                f"{where}: reported as not applicable, computed {text(ours)}",
            )
        return None
    if row.status == "unknown":
        return finding(
            NOT_COMPUTABLE,
            f"{where}: reported {text(theirs)}, which the gateway cannot compute ({row.reason})",
        )
    if ours is None:
        return finding(
            DIFFERS, f"{where}: reported {text(theirs)}, computed not applicable ({row.reason})"
        )
    if abs(theirs - ours) > tolerance(summary, row.name):
        return finding(DIFFERS, f"{where}: reported {text(theirs)}, computed {text(ours)}")
    return None


def unbacked_findings(facts: Facts, year: int) -> list[SummaryFinding]:
    """CTF-004 for the Party's uses counted in ``year`` whose units no earlier first transfer
    (nor opening holdings recorded as first transferred) covers."""
    out: list[SummaryFinding] = []
    for u in facts.unbacked:
        if u.use.year != year:
            continue
        c = u.use.counted
        missing = sum(g.quantity for g in u.gaps)
        gaps = ", ".join(f"{g.start}-{g.end}" for g in u.gaps)
        out.append(
            SummaryFinding(
                UNBACKED,
                facts.party,
                year,
                "R9",
                None,
                Decimal(missing),
                f"{facts.party} {year}: used units {c.ca_id}:{c.origin}:{gaps} "
                f"(entry {c.entry_id}) with no recorded first transfer",
                tuple((c.ca_id, c.origin, g.start, g.end) for g in u.gaps),
                c.entry_id,
            )
        )
    return out


def check(facts: Facts, summary: Summary) -> tuple[Reported | None, list[SummaryFinding]]:
    """The latest reported rows for the summary's year (if any) and every finding."""
    reported = latest_reported(facts, summary.year)
    found = compare(summary, reported) if reported is not None else []
    return reported, found + unbacked_findings(facts, summary.year)


def check_id(party: str, year: int, at_ms: int) -> str:
    return "ctf-" + sha256_hex(f"{party}\n{year}\n{at_ms}".encode())[:40]


def outcome(
    reported: Reported | None, findings: Sequence[SummaryFinding]
) -> Literal["consistent", "inconsistent", "unreported"]:
    """consistent, inconsistent, or unreported (nothing reported and nothing found)."""
    if findings:
        return "inconsistent"
    return "consistent" if reported is not None else "unreported"


def check_entry(
    summary: Summary,
    reported: Reported | None,
    findings: Sequence[SummaryFinding],
    at_ms: int,
) -> dict[str, Any]:
    """The audit entry of one check of (Party, year), with the computed rows."""
    entry_id = check_id(summary.party, summary.year, at_ms)
    return en.SummaryCheckEntry(
        entry_version=1,
        entry_type=ENTRY_TYPE,
        entry_id=entry_id,
        input=ep.CheckInput(
            type=CHECK_TYPE,
            id=entry_id,
            party=summary.party,
            year=summary.year,
            reported_entry=reported.entry_id if reported else None,
        ),
        outcome=outcome(reported, findings),
        results=[ep.Result(code=f.code, message=f.message, blocks=[]) for f in findings],
        summary=ep.ComputedSummary.model_validate(summary.to_dict()),
        decided_at=iso_ms(at_ms),
    ).wire()


def discrepancies(
    findings: Sequence[SummaryFinding],
    check_entry_id: str,
    at: str,
    registries: Sequence[str] = (),
) -> list[dsc.Discrepancy]:
    """One discrepancy per finding, found by "summary" in the check's entry; ``registries``:
    the Party's registries if known (else the Party itself is named)."""
    return [
        dsc.Discrepancy(
            id=dsc.discrepancy_id("summary", check_entry_id, n),
            code=f.code,
            severity=SEVERITY[f.code],
            registries=tuple(registries) or (f.party,),
            blocks=f.blocks,
            first_seen=at,
            found_by="summary",
            source_entry=check_entry_id,
            summary=f.message,
            detail={
                "row": f.row,
                "reported": _show(f.reported),
                "computed": _show(f.computed),
                "year": f.year,
                "party": f.party,
            }
            | ({"entry_id": f.entry_id} if f.entry_id else {}),
        )
        for n, f in enumerate(findings)
    ]
