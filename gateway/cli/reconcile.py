"""``a6gw reconcile``: one DES-style snapshot reconciliation of a registry (the work is
:func:`gateway.services.reconciliation.run`'s).

Exit codes: 0 the books agree, 1 they do not, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gateway import logs
from gateway.cli.options import add_config, config_of


def cmd_reconcile(args: argparse.Namespace) -> int:
    from gateway.audit.open import open_store
    from gateway.redaction import protect_config
    from gateway.services.reconciliation import run

    logs.configure_from(args)
    lc = config_of(args)
    protect_config(lc)
    if args.registry not in {r.id for r in lc.config.registries}:
        print(f"error: no registry {args.registry!r} in the config", file=sys.stderr)
        return 2
    store = open_store(lc.audit_store(), readonly=True)
    snapshot = Path(args.snapshot) if args.snapshot else None
    report, found = run(
        lc,
        store,
        args.registry,
        snapshot=snapshot,
        say=lambda m: print(f"  {m}", file=sys.stderr, flush=True),
        record=not args.dry_run,
        request=args.request,
        wait_s=args.wait,
    )
    doc = report.to_dict() | {"registry": args.registry, "audit_trail": found}
    text = json.dumps(doc, indent=2, sort_keys=True)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if report.status == "completed" else 1


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "reconcile",
        help="reconcile a registry's holdings snapshot with the audit log (DES-style)",
        description="Three phases: totals per (registry, account type, cooperative approach, "
        "vintage, unit type); unit blocks for the cells that differ; the audit trail of the "
        "blocks that differ. Pulls an HTTPS partner's snapshot; asks a Kafka registry for "
        "one (a signed reconciliation.requested notice on a6.out.<id>, answered by signed "
        "holdings.snapshot pages on its input topic); or reads --snapshot FILE (JSON rows: "
        "account_id, ca_id, origin, serial_start, serial_end, unit_type, vintage). Records "
        "the run as an audit entry and its differences as discrepancies. Exits 0 when the "
        "books agree, 1 when they do not.",
    )
    add_config(p)
    p.add_argument("--registry", required=True, help="the registry id, e.g. IDN01")
    p.add_argument("--snapshot", help="the registry's holdings snapshot (JSON) instead of a pull")
    p.add_argument(
        "--request",
        metavar="ID",
        help="a Kafka registry's snapshot it already sent for this reconciliation id "
        "(instead of announcing a new one)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=300.0,
        metavar="S",
        help="seconds to wait for a Kafka registry's pages (default 300)",
    )
    p.add_argument("--out", help="also write the report (JSON) to this file")
    p.add_argument("--dry-run", action="store_true", help="do not record the run")
    logs.add_arguments(p)
    p.set_defaults(func=cmd_reconcile)
