"""The demo's readable summary, derived from the audit log alone."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.audit.bundle import BundleReport
from gateway.audit.note import Checkpoint
from gateway.demo.scenario import Step
from gateway.services.entries import read_entries
from schemas.entries import DecisionEntry, InputEntry
from schemas.entry_parts import BlockRecord


def holdings_from_entries(entries: Iterable[bytes]) -> dict[tuple[str, str, str], int]:
    """Units per (registry, account, state), folding each entry's block states in log order.

    Every decision entry carries the post-state of the blocks it changed, so holdings can
    be rebuilt from the audit log by anyone who has the bundle.
    """
    latest: dict[tuple[str, str, str], BlockRecord] = {}
    for entry in read_entries(entries):
        if isinstance(entry, DecisionEntry):
            for b in entry.blocks:
                latest[(b.ca_id, b.origin, b.start)] = b
    out: dict[tuple[str, str, str], int] = defaultdict(int)
    for b in latest.values():
        out[(b.registry, b.account, b.state)] += int(b.end) - int(b.start) + 1
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class StepRow:
    """One scenario step as the log has it: its entry (None if missing) and what differs
    from its expectation."""

    step: Step
    entry: InputEntry | None
    codes: tuple[str, ...]
    problems: list[str]


def render_summary(
    rows: list[StepRow],
    holdings: dict[tuple[str, str, str], int],
    checkpoint: Checkpoint,
    report: BundleReport,
    bundle_dir: Path,
    observed: dict[str, Any],
) -> str:
    lines = ["", "Decisions (one per distinct input)", "-" * 110]
    lines.append(f"{'step':<24} {'outcome':<15} {'codes':<40} {'actions':<16} {'check':<6}")
    for r in rows:
        entry = r.entry
        mark = "ok" if not r.problems else "FAIL"
        actions = ",".join(entry.actions if isinstance(entry, DecisionEntry) else ()) or "-"
        codes = ",".join(r.codes) or "-"
        outcome: str = "?" if entry is None else entry.outcome
        if r.step.is_redelivery:
            outcome, codes = "(redelivered)", "same decision, no new audit entry"
        lines.append(f"{r.step.id:<24} {outcome:<15} {codes:<40} {actions:<16} {mark:<6}")
        for p in r.problems:
            lines.append(f"{'':<24} ! {p}")
    lines += ["", "Dead letters on a6.dlq"]
    for d in observed.get("dlq", ()):
        lines.append(
            f"  {d['topic']}@{d['partition']}:{d['offset']}  {d['reason_code']}  {d['reason']}"
        )
    lines += ["", "Notices sent to registries"]
    for topic, n in observed.get("notices", ()):
        lines.append(f"  {topic:<14} {n['kind']:<20} {n['body'].get('transaction_id', '')}")
    lines += ["", "Holdings (units) per registry, account and state, rebuilt from the audit log"]
    for (registry, account, state), qty in holdings.items():
        lines.append(f"  {registry:<6} {account:<10} {state:<9} {qty:>8}")
    lines += [
        "",
        f"Audit log: {checkpoint.size} entries, root {checkpoint.root.hex()}",
        f"Bundle:    {bundle_dir} (verified: size {report.size}, origin {report.origin})",
        "",
    ]
    return "\n".join(lines)
