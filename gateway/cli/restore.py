"""``a6gw audit restore``: rebuild the audit store from ``a6.audit.log`` into a new store and
check it against every published checkpoint (the work is :mod:`gateway.services.restore`).

Exit codes: 0 every published checkpoint is a checkpoint of the restored log; 1 one is not
(or none was published); 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.options import add_config, config_of

if TYPE_CHECKING:
    from gateway.audit.restore import CheckpointCheck


def cmd_audit_restore(args: argparse.Namespace) -> int:
    from gateway.audit.open import is_postgres_url, open_store
    from gateway.services.restore import checks, published, rebuild

    lc = config_of(args)
    if args.check_only and not is_postgres_url(args.to) and not Path(args.to).is_file():
        print(f"error: no audit store at {args.to} to check", file=sys.stderr)
        return 2
    store = open_store(args.to)
    try:
        doc: dict[str, object] = {"store": args.to}
        if not args.check_only:
            print(f"rebuilding {args.to} from a6.audit.log", file=sys.stderr)
            done = rebuild(lc, store, lambda m: print(f"  {m}", file=sys.stderr, flush=True))
            doc |= {"records_read": done.records, "entries_appended": done.appended}
        size = store.size()
        doc |= {"size": size, "root": store.root().hex()}
        notes = published(lc)
        found = checks(lc, store, notes, save=not args.check_only)
    finally:
        store.close()
    bad = [c for c in found if not c.ok]
    good = [c for c in found if c.ok and c.size is not None]
    latest = max(good, key=lambda c: (c.size or 0, c.offset), default=None)
    doc |= {
        "checkpoints": len(found),
        "mismatches": [
            {"offset": c.offset, "size": c.size, "code": c.code, "detail": c.detail} for c in bad
        ],
        "latest_matching": None
        if latest is None
        else {"offset": latest.offset, "size": latest.size},
    }
    if args.json:
        print(json.dumps(doc, indent=2, sort_keys=True))
    else:
        _print(doc, bad, latest is not None and latest.size or 0)
    if not found:
        print("error: no checkpoint was published: nothing vouches for this log", file=sys.stderr)
        return 1
    return 1 if bad else 0


def _print(doc: dict[str, object], bad: list[CheckpointCheck], latest_size: int) -> None:
    if "entries_appended" in doc:
        print(f"read {doc['records_read']} records; appended {doc['entries_appended']} entries")
    print(f"store {doc['store']}: {doc['size']} entries, root {doc['root']}")
    for c in bad:
        where = f"size {c.size}" if c.size is not None else "unreadable"
        print(f"MISMATCH {c.code} checkpoint at offset {c.offset} ({where}): {c.detail}")
    n = doc["checkpoints"]
    if bad:
        print(f"FAIL: {len(bad)} of {n} published checkpoints are not checkpoints of this log")
    elif n:
        print(f"OK: all {n} published checkpoints match; the latest is of size {latest_size}")


def add_restore_parser(asub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``restore`` under ``a6gw audit``."""
    r = asub.add_parser(
        "restore",
        help="rebuild the audit store from a6.audit.log and check it against the checkpoints",
        description="Reads a6.audit.log from its first record and appends what the sequencer "
        "appended (the same entries, leaf indices and logged_at stamps) to a NEW store: a "
        "SQLite file or a postgresql:// URL. Then reads every checkpoint published on "
        "a6.audit.checkpoints and checks that each is a checkpoint of the restored log: "
        "signed by the log key (or an earlier one in gateway.log_previous_vkeys), of its "
        "origin, of a size the log reaches, with the root its entries give at that size. "
        "Matching checkpoints are saved in the new store. Exits 0 when all match, 1 on any "
        "mismatch (or none published), 2 on a usage error. Point audit.store at the new "
        "store only after it exits 0. Reads as the Kafka role `restore`.",
    )
    add_config(r)
    r.add_argument(
        "--to",
        required=True,
        metavar="STORE",
        help="the new store: a SQLite path or a postgresql:// URL (must hold no entries)",
    )
    r.add_argument(
        "--check-only",
        action="store_true",
        help="do not rebuild: check the existing store STORE (e.g. one brought back from a "
        "backup) against the published checkpoints",
    )
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.set_defaults(func=cmd_audit_restore)
