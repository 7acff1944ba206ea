"""``a6gw summary``: a Party's BTR structured summary (CTF Table 4 rows 5, 7-14) from the log.

Reads the audit store of the config (every entry, in log order), computes the rows of each
year asked for (:mod:`gateway.core.summary`), and prints them beside the rows the Party
reported, if it did. ``--json`` prints the full drill-down: the blocks behind every row and
the inventory figures behind R5. ``--check`` compares with the reported rows
(:mod:`gateway.core.summary_check`) and, unless ``--dry-run``, records each year's check as
an audit entry (``summary-check``) and one discrepancy per finding on ``a6.discrepancies``,
published the way a reconciliation run publishes its record.

Exit codes: 0 shown, or checked and consistent (or nothing reported and nothing found);
1 checked and inconsistent; 2 a usage error (unknown Party, a year outside the NDC period,
no NDC period: CTF-101/102).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.config import LoadedConfig, PartyConfig, load_config
from gateway.core import discrepancy as dsc
from gateway.core import summary as sm
from gateway.core import summary_check as sc
from gateway.core import summary_log as sl
from gateway.core.canonical import canonical_bytes
from gateway.core.decision_time import iso_ms
from gateway.core.topics import AUDIT_TOPIC, FINDINGS_TOPIC

USAGE = 2
LABELS = {
    "R5": "emissions covered by the NDC (inventory)",
    "R7": "ITMOs first transferred (NDC)",
    "R8": "first transferred for OIMP",
    "R9": "ITMOs used towards the NDC",
    "R10": "net: R7 + R8 - R9",
    "R11": "average over elapsed years",
    "R12": "corresponding adjustments",
    "R13": "cumulative net (sum of R10)",
    "R14": "emissions balance: R5 + R12",
}


@dataclass(frozen=True)
class YearResult:
    summary: sm.Summary
    reported: sl.Reported | None
    findings: Sequence[sc.SummaryFinding] = field(default_factory=tuple)
    checked: bool = False

    @property
    def outcome(self) -> str:
        return sc.outcome(self.reported, self.findings)

    def to_dict(self) -> dict[str, Any]:
        rep = self.reported
        out = self.summary.to_dict() | {
            "reported": None
            if rep is None
            else {
                "entry_id": rep.entry_id,
                "decided_at": rep.decided_at,
                "rows": {k: None if v is None else sl.text(v) for k, v in rep.rows.items()},
            }
        }
        if self.checked:
            out |= {"outcome": self.outcome, "findings": [f.to_dict() for f in self.findings]}
        return out


def method_of(p: PartyConfig) -> sm.Method:
    return sm.Method(p.code, p.ndc_period, p.ca_method, p.ca_year)


def results(
    facts: sl.Facts, method: sm.Method, years: Sequence[int], *, check: bool
) -> list[YearResult]:
    out = []
    for year in years:
        summary = sm.summarise(facts, method, year)
        if check:
            reported, found = sc.check(facts, summary)
            out.append(YearResult(summary, reported, found, checked=True))
        else:
            out.append(YearResult(summary, sc.latest_reported(facts, year)))
    return out


# -- rendering (pure) ----------------------------------------------------------------------


def _cell(d: Any) -> str:
    return "-" if d is None else sl.text(d)


def year_text(r: YearResult) -> str:
    s = r.summary
    m = s.method
    basis = "averaging" if m.averaging else f"{m.ca_method}, by {m.ca_year.replace('-', ' ')} year"
    first, last = m.ndc_period or (s.year, s.year)
    head = f"{s.party} {s.year}  ({basis}; NDC period {first}-{last})"
    codes: dict[str, list[str]] = {}
    for f in r.findings:
        if f.code != sc.UNBACKED:
            codes.setdefault(f.row, []).append(f.code)
    header = ["row", "", "computed", "reported"]
    if r.checked and r.reported:
        header.append("check")
    header.append("note")
    lines = [header]
    for name in sm.ROWS:
        row = s.rows[name]
        theirs = r.reported.rows.get(name) if r.reported else None
        shown = "" if name == "R5" or r.reported is None else _cell(theirs)
        line = [name, LABELS[name], _cell(row.value), shown]
        if r.checked and r.reported:
            line.append(",".join(codes.get(name, [])) or ("" if name == "R5" else "ok"))
        line.append(row.reason if row.status != "computed" or name in ("R5", "R12") else "")
        lines.append(line)
    widths = [max(len(x[i]) for x in lines) for i in range(len(header) - 1)]
    body = [
        "  ".join([*(c.ljust(w) for c, w in zip(x, widths, strict=False)), x[-1]]).rstrip()
        for x in lines
    ]
    rep = r.reported
    where = f"entry {rep.entry_id} of {rep.decided_at}" if rep else ""
    extra = [f"  reported: {where}" if rep else "  reported: nothing (no summary.reported)"]
    extra += [f"  {f.code}: {f.message}" for f in r.findings if f.code == sc.UNBACKED]
    if r.checked:
        n = len(r.findings)
        extra.append(f"  check: {r.outcome}" + (f" ({n} finding{'s' * (n != 1)})" if n else ""))
    return "\n".join([head, *("  " + b for b in body), *extra])


def text(rs: Sequence[YearResult]) -> str:
    return "\n\n".join(year_text(r) for r in rs)


# -- recording -----------------------------------------------------------------------------


def records(
    rs: Sequence[YearResult], at_ms: int, registries: Sequence[str]
) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of each year's check entry and of one discrepancy per finding."""
    out: list[tuple[str, bytes, bytes]] = []
    for r in rs:
        entry = sc.check_entry(r.summary, r.reported, r.findings, at_ms)
        out.append((AUDIT_TOPIC, entry["entry_id"].encode(), canonical_bytes(entry)))
        for d in sc.discrepancies(r.findings, entry["entry_id"], iso_ms(at_ms), registries):
            out.append((FINDINGS_TOPIC, d.id.encode(), canonical_bytes(dsc.record(d))))
    return out


def _party(lc: LoadedConfig, code: str) -> PartyConfig | None:
    return next((p for p in lc.config.parties if p.code == code), None)


def _entries(lc: LoadedConfig) -> list[dict[str, Any]]:
    from gateway.audit.open import open_store

    store = open_store(lc.audit_store())
    try:
        return [json.loads(raw) for raw in store.entries()]
    finally:
        store.close()


def cmd_summary(args: argparse.Namespace) -> int:
    if args.dry_run and not args.check:
        print("error: --dry-run goes with --check", file=sys.stderr)
        return USAGE
    lc = load_config(Path(args.config))
    party = _party(lc, args.party)
    if party is None:
        print(f"error: no party {args.party!r} in the config", file=sys.stderr)
        return USAGE
    method = method_of(party)
    facts = sl.collect(_entries(lc), party.code)
    years = [args.year] if args.year is not None else sm.default_years(facts, method)
    rs = results(facts, method, years, check=args.check)
    if args.json:
        doc = {"party": party.code, "years": [r.to_dict() for r in rs]}
        print(json.dumps(doc, indent=2, sort_keys=True))
    elif not rs:
        first, last = sm.period_of(method)
        print(f"no data for {party.code} in its NDC period {first}-{last}")
    else:
        print(text(rs))
    if not args.check:
        return 0
    if not args.dry_run and rs:
        registries = [r.id for r in lc.config.registries if r.party == party.code]
        items = records(rs, int(time.time() * 1000), registries)
        from gateway.services.reconciliation import publish
        from gateway.transport.clients import clients_for

        asyncio.run(publish(clients_for(lc, "summary"), items, mac_key=lc.load_mac_key()))
        print(
            f"recorded: {len(rs)} check entries and {len(items) - len(rs)} discrepancies",
            file=sys.stderr,
        )
    return 1 if any(r.outcome == "inconsistent" for r in rs) else 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "summary",
        help="a Party's BTR structured summary (CTF Table 4 rows 5, 7-14) from the audit log",
        description="Rows 5 and 7-14 of the structured summary (decision 5/CMA.3, CTF Table "
        "4) per year, computed from the Article 6 action rows, the recorded inventory "
        "figures and the Party's corresponding-adjustment method in the config; beside them "
        "the rows the Party reported. --check compares the two and records the check (an "
        "audit entry per year, a discrepancy per difference: CTF-001 a row differs, CTF-002 "
        "a row that cannot be computed was reported, CTF-003 a non-zero row was reported as "
        "not applicable, CTF-004 units used with no recorded first transfer). Exit codes: 0 "
        "consistent, 1 inconsistent, 2 usage error.",
    )
    p.add_argument("--config", required=True, help="the gateway config file (YAML)")
    p.add_argument("--party", required=True, help="the Party's code, e.g. JPN")
    p.add_argument(
        "--year",
        type=int,
        help="one year of the NDC period (default: every year of the period up to the "
        "latest year with data)",
    )
    p.add_argument("--json", action="store_true", help="as JSON, with the full drill-down")
    p.add_argument("--check", action="store_true", help="compare with the reported rows")
    p.add_argument("--dry-run", action="store_true", help="(--check) do not record the check")
    p.set_defaults(func=cmd_summary)
