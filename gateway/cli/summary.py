"""``a6gw summary``: a Party's BTR structured summary (CTF Table 4 rows 5, 7-14) from the log.

Reads the audit store of the config (every entry, in log order), computes the rows of each
year asked for (:mod:`gateway.core.summary`), and prints them beside the rows the Party
reported, if it did. ``--json`` prints the full drill-down: the blocks behind every row and
the inventory figures behind R5. ``--check`` compares with the reported rows
(:mod:`gateway.core.summary_check`) and, unless ``--dry-run``, records each year's check as
an audit entry (``summary-check``) and one discrepancy per finding on ``a6.discrepancies``,
published the way a reconciliation run publishes its record. The work is
:mod:`gateway.services.reporting`'s.

The summary is computed at a published checkpoint (the latest, or ``--size N``): only the
entries below it count, and the output names it (origin, tree size, root) and where the
Party's settings came from (the log's ``party-settings`` entries, else the config).
``--bundle DIR`` recomputes it from a verified audit bundle alone (``--vkey FILE`` pins the
log key), with no config and no store; a check is then never recorded (give ``--dry-run``).

Exit codes: 0 shown, or checked and consistent (or nothing reported and nothing found);
1 checked and inconsistent; 2 a usage error (unknown Party, a year outside the NDC period,
no NDC period: CTF-101/102; no published checkpoint of that size: RPT-SIZE; a bundle that
does not verify: RPT-BUNDLE; no settings for the Party in the bundle: RPT-SETTINGS).
"""

from __future__ import annotations

import argparse
import json
import sys

from gateway.cli.options import add_json
from gateway.cli.report_source import add_source, source_of
from gateway.cli.verify import UsageProblem
from gateway.core import summary as sm
from gateway.services.report_log import settings_for
from gateway.services.reporting import record_check, summary_at, text

USAGE = 2


def cmd_summary(args: argparse.Namespace) -> int:
    try:
        if args.dry_run and not args.check:
            raise UsageProblem("--dry-run goes with --check")
        if args.bundle is not None and args.check and not args.dry_run:
            raise UsageProblem("--check on a --bundle is never recorded: add --dry-run")
        source = source_of(args)
    except UsageProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    if settings_for(source.log, args.party, source.parties) is None and source.lc is not None:
        print(f"error: no party {args.party!r} in the log or the config", file=sys.stderr)
        return USAGE
    at = summary_at(source.log, args.party, source.parties, args.year, check=args.check)
    rs = at.years
    if args.json:
        print(json.dumps(at.to_dict(), indent=2, sort_keys=True))
    elif not rs:
        first, last = sm.period_of(at.method)
        print(f"{at.stamp.text()}\nno data for {at.method.code} in its NDC period {first}-{last}")
    else:
        print(f"{at.stamp.text()}\n\n{text(rs)}")
    if not args.check:
        return 0
    if not args.dry_run and rs and source.lc is not None:
        found = record_check(source.lc, rs, at.method.code)
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
        "figures and the Party's corresponding-adjustment method and NDC period (its last "
        "party-settings entry in the log, else the config); beside them the rows the Party "
        "reported; at a published checkpoint (the latest, or --size N), named in the output "
        "with the settings' source (log or config). --bundle DIR recomputes it from a "
        "verified audit bundle alone (a check is then never recorded: give --dry-run). "
        "--check compares the two and "
        "records the check (an audit entry per year, a discrepancy per difference: CTF-001 "
        "a row differs, CTF-002 a row that cannot be computed was reported, CTF-003 a "
        "non-zero row was reported as not applicable, CTF-004 units used with no recorded "
        "first transfer). Exit codes: 0 consistent, 1 inconsistent, 2 usage error (and "
        "RPT-SIZE, RPT-BUNDLE, RPT-SETTINGS).",
    )
    add_source(p)
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
