"""``a6gw reconcile``: one DES-style snapshot reconciliation of a registry (the work is
:func:`gateway.services.reconciliation.run`'s), or, with ``--every``, one of each registry
named (or of every registry) at each tick until stopped (:mod:`gateway.services.schedule`).

Exit codes: 0 the books agree (with ``--every``: stopped by SIGTERM or SIGINT), 1 they do
not, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from gateway import logs
from gateway.cli.options import add_config, config_of
from gateway.config import LoadedConfig


def cmd_reconcile(args: argparse.Namespace) -> int:
    from gateway.audit.open import open_store
    from gateway.redaction import protect_config
    from gateway.services.reconciliation import run

    logs.configure_from(args)
    lc = config_of(args)
    protect_config(lc)
    known = [r.id for r in lc.config.registries]
    unknown = [r for r in args.registry or [] if r not in known]
    if unknown:
        print(f"error: no registry {unknown[0]!r} in the config", file=sys.stderr)
        return 2
    if args.every is not None:
        return _every(args, lc, args.registry or known)
    if not args.registry or len(args.registry) > 1:
        print("error: give one --registry (several only with --every)", file=sys.stderr)
        return 2
    store = open_store(lc.audit_store(), readonly=True)
    snapshot = Path(args.snapshot) if args.snapshot else None
    report, found = run(
        lc,
        store,
        args.registry[0],
        snapshot=snapshot,
        say=lambda m: print(f"  {m}", file=sys.stderr, flush=True),
        record=not args.dry_run,
        request=args.request,
        wait_s=args.wait,
    )
    doc = report.to_dict() | {"registry": args.registry[0], "audit_trail": found}
    text = json.dumps(doc, indent=2, sort_keys=True)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0 if report.status == "completed" else 1


def _every(args: argparse.Namespace, lc: LoadedConfig, registries: list[str]) -> int:
    """``--every``: reconcile ``registries`` at each tick until SIGTERM or SIGINT."""
    from gateway.audit.open import open_store
    from gateway.services.reconciliation import run
    from gateway.services.schedule import Schedule

    for flag in ("request", "out"):
        if getattr(args, flag):
            print(f"error: --{flag} is for one run, not with --every", file=sys.stderr)
            return 2
    if args.snapshot and len(registries) != 1:
        print("error: --snapshot with --every needs exactly one --registry", file=sys.stderr)
        return 2
    log = logging.getLogger("a6gw.reconcile")
    if not logging.getLogger().handlers:  # nothing configured the logs yet
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
    if log.level == logging.NOTSET:
        log.setLevel(logging.INFO)

    def job(registry: str) -> Callable[[], str]:
        def reconcile_one() -> str:
            store = open_store(lc.audit_store(), readonly=True)
            try:
                report, found = run(
                    lc,
                    store,
                    registry,
                    snapshot=Path(args.snapshot) if args.snapshot else None,
                    say=lambda m: log.debug("%s: %s", registry, m),
                    record=not args.dry_run,
                    wait_s=args.wait,
                )
            finally:
                store.close()
            agree = "the books agree" if report.status == "completed" else "the books differ"
            return (
                f"{report.status}, {agree} ({len(report.cell_diffs)} totals and "
                f"{len(report.block_diffs)} block ranges differ; {len(found)} ranges traced)"
            )

        return reconcile_one

    schedule = Schedule(args.every, {r: job(r) for r in registries}, log)
    signals = {"n": 0}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        signals["n"] += 1
        if signals["n"] > 1:
            raise KeyboardInterrupt  # a second signal: stop now
        log.info("%s: stopping after the current run", signal.Signals(signum).name)
        schedule.stop()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        schedule.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0


def _duration(text: str) -> float:
    from gateway.services.schedule import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


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
    p.add_argument(
        "--registry",
        action="append",
        help="the registry id, e.g. IDN01 (with --every: repeat it for several; default "
        "every registry of the config)",
    )
    p.add_argument(
        "--every",
        type=_duration,
        metavar="DURATION",
        help="run again at each DURATION (30s, 15m, 1h, 1h30m, 1d) until SIGTERM or Ctrl-C; "
        "runs never overlap; a failed run is logged and retried at the next tick",
    )
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
