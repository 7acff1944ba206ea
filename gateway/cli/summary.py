"""``a6gw summary``: a Party's BTR structured summary (CTF Table 4 rows 5, 7-14) from the log.

Reads the audit store of the config (every entry, in log order), computes the rows of each
year asked for (:mod:`gateway.core.summary`), and prints them beside the rows the Party
reported, if it did. ``--json`` prints the full drill-down: the blocks behind every row and
the inventory figures behind R5. ``--check`` compares with the reported rows
(:mod:`gateway.core.summary_check`) and, unless ``--dry-run``, records each year's check as
an audit entry (``summary-check``) and one discrepancy per finding on ``a6.discrepancies``,
published the way a reconciliation run publishes its record. The work is
:mod:`gateway.services.reporting`'s.

Exit codes: 0 shown, or checked and consistent (or nothing reported and nothing found);
1 checked and inconsistent; 2 a usage error (unknown Party, a year outside the NDC period,
no NDC period: CTF-101/102).
"""

from __future__ import annotations

import argparse
import json
import sys

from gateway.cli.options import add_config, add_json, config_of
from gateway.core import summary as sm
from gateway.core import summary_log as sl
from gateway.services.reporting import (
    method_of,
    party_of,
    record_check,
    results,
    stored_entries,
    text,
)

USAGE = 2


def cmd_summary(args: argparse.Namespace) -> int:
    if args.dry_run and not args.check:
        print("error: --dry-run goes with --check", file=sys.stderr)
        return USAGE
    lc = config_of(args)
    party = party_of(lc, args.party)
    if party is None:
        print(f"error: no party {args.party!r} in the config", file=sys.stderr)
        return USAGE
    method = method_of(party)
    facts = sl.collect(stored_entries(lc), party.code)
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
        found = record_check(lc, rs, party.code)
        print(
            f"recorded: {len(rs)} check entries and {found} discrepancies",
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
    add_config(p)
    p.add_argument("--party", required=True, help="the Party's code, e.g. JPN")
    p.add_argument(
        "--year",
        type=int,
        help="one year of the NDC period (default: every year of the period up to the "
        "latest year with data)",
    )
    add_json(p, "as JSON, with the full drill-down")
    p.add_argument("--check", action="store_true", help="compare with the reported rows")
    p.add_argument("--dry-run", action="store_true", help="(--check) do not record the check")
    p.set_defaults(func=cmd_summary)
