"""``a6gw aef export``: a Party's Agreed Electronic Format for one year, from the audit log.

Reads every entry of the config's audit store, checks that the Party's ITMO holdings roll
forward (I-AEF-1: last year's holdings + what came in - what went out = this year's, per
cooperative approach, authorization and vintage), and only then writes the five tables
(:mod:`gateway.core.aef`) as CSV files, one JSON document or one XLSX workbook
(:mod:`gateway.core.aef_write`); the work is :mod:`gateway.services.reporting`'s.

The AEF is computed at a published checkpoint (the latest, or ``--size N``), and every
format names it (origin, tree size, root) with the settings' source: the JSON document's
``checkpoint`` and ``settings`` members, a ``-manifest.json`` file beside the CSV files,
a ``Checkpoint`` sheet of the workbook. ``--bundle DIR`` recomputes it from a verified
audit bundle alone (``--vkey FILE`` pins the log key).

Exit codes: 0 written; 1 refused (the holdings do not roll forward, or a coded refusal of
the export: a required value missing, a value outside its controlled vocabulary, ...);
2 a usage or configuration error (RPT-SIZE no published checkpoint of that size,
RPT-BUNDLE a bundle that does not verify, RPT-SETTINGS no settings for the Party).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.report_source import add_source, source_of
from gateway.cli.verify import UsageProblem
from gateway.core.aef import Aef
from gateway.core.aef_rollforward import RollForward
from gateway.core.aef_vocab import BAD_PARAMETER, CARP_FIELDS, FIELDS, TABLES
from gateway.core.aef_write import FORMATS, write
from gateway.core.report_stamp import Stamp
from gateway.errors import AefError
from gateway.services.report_log import settings_for
from gateway.services.reporting import aef_at, today_utc, write_files

DESCRIPTION = """\
Write a Party's Agreed Electronic Format (AEF, current "V2") for one reported year, from
the audit log alone:

  Table 1 Submission           Party, version, reported year, date of submission, and the
                               NDC implementation period (the log's party-settings entry,
                               else parties[].ndc_period in the config)
  Table 2 Authorizations       the Party's authorizations dated up to 31 December, each in
                               its latest version so dated (revoked ones too)
  Table 3 Actions              the Party's Article 6 actions decided in the year (UTC): first
                               transfers, transfers, acquisitions, uses, cancellations
  Table 4 Holdings             the ITMOs in the Party's registries at 31 December
                               23:59:59.999 UTC, one row per block
  Table 5 Authorized entities  the entities the Party authorized up to 31 December

Fields the CARP populates are never written (their columns are left out):
{carp}

Before writing, the holdings must roll forward per (cooperative approach, authorization,
vintage): holdings(Y-1) + acquisitions + first transfers that stay + ITMOs brought in by
opening holdings - transfers out - uses - cancellations = holdings(Y). If they do not, or
a value is missing or outside its CN-2026 controlled vocabulary, nothing is written and the
command exits 1 with the coded error.

The AEF is computed at a published checkpoint of the log (the latest, or --size N): only
the entries below it count, and the files name it (origin, tree size, root) and the
settings' source (log or config): the JSON document's "checkpoint" and "settings", a
-manifest.json file beside the CSV files (with each file's SHA-256), a "Checkpoint" sheet
in the workbook. --bundle DIR recomputes it from a verified audit bundle alone.
"""


def summary(rf: RollForward, aef: Aef, stamp: Stamp, written: list[Path]) -> str:
    lines = [f"AEF of {aef.party} for {aef.reported_year}, version {aef.version}"]
    lines.append(stamp.text())
    lines += [f"  Table {n} {t}: {len(aef.tables[t])} rows" for n, t in enumerate(TABLES, 1)]
    lines.append(f"roll-forward (I-AEF-1): {len(rf.lines)} keys, all consistent")
    lines += [f"  {line.text()}" for line in rf.lines]
    lines.append("wrote:")
    lines += [f"  {p} ({p.stat().st_size} bytes)" for p in written]
    return "\n".join(lines)


def cmd_export(args: argparse.Namespace) -> int:
    try:
        source = source_of(args)
    except UsageProblem as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    submitted = args.date or today_utc()
    try:
        if source.lc is not None and settings_for(source.log, args.party, source.parties) is None:
            raise AefError(f"no party {args.party!r} in the log or the config", code=BAD_PARAMETER)
        rf, aef, stamp = aef_at(
            source.log,
            args.party,
            source.parties,
            year=args.year,
            submitted=submitted,
            version=args.version,
        )
    except AefError as exc:
        print(f"a6gw: refused: {exc}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return 1
    written = write_files(Path(args.out), write(aef, args.format, stamp))
    print(summary(rf, aef, stamp, written))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    carp = "\n".join(f"  - {f}" for f in sorted(CARP_FIELDS))
    p = sub.add_parser(
        "aef",
        help="the Agreed Electronic Format (AEF V2) of a Party for a year, from the audit log",
        description=DESCRIPTION.format(carp=carp),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    asub = p.add_subparsers(dest="aef_command", metavar="ACTION", required=True)
    counts = ", ".join(f"{t} {len(FIELDS[t])}" for t in TABLES)
    e = asub.add_parser(
        "export",
        help="check the roll-forward, then write the five tables",
        description=DESCRIPTION.format(carp=carp) + f"\nFields written: {counts}.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_source(e)
    e.add_argument("--party", required=True, help="the reporting Party (alpha-3), e.g. JPN")
    e.add_argument("--year", required=True, type=int, help="the reported year, e.g. 2025")
    e.add_argument(
        "--format",
        required=True,
        choices=FORMATS,
        help="csv (one file per table), json (one document) or xlsx (a sheet per table)",
    )
    e.add_argument("--out", required=True, metavar="DIR", help="folder to write the files to")
    e.add_argument("--version", default="1.0", help="the submission's version X.Y (default 1.0)")
    e.add_argument("--date", help="date of submission dd/mm/yyyy (default: today, UTC)")
    e.set_defaults(func=cmd_export)
