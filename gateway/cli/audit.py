"""``a6gw audit export|checkpoint``: write the audit bundle; ask for a checkpoint now."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.options import add_config, config_of
from gateway.cli.restore import add_restore_parser


def cmd_audit_export(args: argparse.Namespace) -> int:
    from gateway.audit.cosigned import for_readers, no_checkpoint
    from gateway.audit.export import export_bundle
    from gateway.audit.open import open_store

    lc = config_of(args)
    store = open_store(lc.audit_store(), readonly=True)
    quorum = lc.config.witness_quorum
    latest = for_readers(store, lc.witness_keys(), quorum)
    if latest is None:
        print(
            f"error: {no_checkpoint(quorum)}; run the worker, or ask for one "
            "with `a6gw audit checkpoint`",
            file=sys.stderr,
        )
        return 2
    verifiers = [lc.load_log_key().verifier(), *lc.previous_log_verifiers()]

    def progress(done: int, total: int) -> None:
        print(f"  wrote {done:,}/{total:,} entries", file=sys.stderr, flush=True)

    cp = export_bundle(
        Path(args.dir),
        store,
        latest.note,
        verifiers,
        start=args.start,
        end=args.end,
        progress=progress if latest.size >= 10_000 else None,
    )
    what = "all" if args.start is None and args.end is None else f"[{args.start}, {args.end})"
    print(f"wrote {what} of the {cp.size} checkpointed entries to {args.dir}; root {cp.root.hex()}")
    if store.size() > cp.size:
        print(f"({store.size() - cp.size} newer entries wait for the next checkpoint)")
    return 0


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.transport.clients import clients_for
    from gateway.worker.sequencing import request_checkpoint

    lc = config_of(args)
    kafka = clients_for(lc, "checkpoint")
    note = asyncio.run(request_checkpoint(kafka, lc.load_mac_key(), args.timeout))
    if args.out:
        Path(args.out).write_text(note, encoding="utf-8")
    print(note, end="")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="audit log operations")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    e = asub.add_parser(
        "export",
        help="write the audit bundle at the latest published checkpoint",
        description="Write entries.ndjson, checkpoint and log.vkey for the latest checkpoint "
        "the sequencer published; with --start/--end only that range, with an inclusion "
        "proof per entry (proofs.ndjson, range.json).",
    )
    e.add_argument("dir", metavar="DIR")
    add_config(e)
    e.add_argument("--start", type=int, help="first leaf index of a range bundle")
    e.add_argument("--end", type=int, help="leaf index after the last one of a range bundle")
    e.set_defaults(func=cmd_audit_export)
    c = asub.add_parser(
        "checkpoint",
        help="ask the running sequencer to publish a checkpoint now, and print it",
    )
    add_config(c)
    c.add_argument("--out", help="also write the signed note to this file")
    c.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    c.set_defaults(func=cmd_audit_checkpoint)
    add_restore_parser(asub)
