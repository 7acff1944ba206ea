"""The ``a6gw`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway import __version__
from gateway.cli.aef import add_parser as add_aef_parser
from gateway.cli.api import add_parsers as add_api_parsers
from gateway.cli.api import add_verify_api_args
from gateway.cli.discrepancy import add_parser as add_discrepancy_parser
from gateway.cli.summary import add_parser as add_summary_parser
from gateway.errors import GatewayError

EPILOG = """\
examples:
  a6gw demo                         replay the bundled JCM scenario on a local Kafka broker
  a6gw demo --export bundle/        ... and write the audit bundle to bundle/
  a6gw verify bundle/               check an audit bundle offline
  a6gw kafka start                  run a local single-node Kafka broker
  a6gw worker --config config.yaml  run the stream worker
  a6gw discrepancy list --config config.yaml --status open   discrepancies still open
"""


def _config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from gateway.config import load_config

    return load_config(Path(args.config))


def cmd_worker(args: argparse.Namespace) -> int:
    from gateway.worker.run import run_worker, supervise

    lc = _config(args)  # fail fast on a bad config, before any child starts
    if args.supervise:
        cmd = [sys.executable, "-m", "gateway", "worker", "--config", args.config]
        cmd += ["--loglevel", args.loglevel, "--no-supervise"]
        datadir = Path(args.datadir) if args.datadir else lc.data_dir / "worker"
        cmd += ["--datadir", str(datadir)] if args.datadir else []
        return supervise(cmd, status=datadir / "restarts.json")
    datadir = Path(args.datadir) if args.datadir else None
    return run_worker(lc, loglevel=args.loglevel, datadir=datadir)


def cmd_topics(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.cli.kafka import admin_clients
    from gateway.transport.topics import ensure_topics

    lc = _config(args)
    admin = admin_clients(lc, args.admin_credentials)
    topics, created = asyncio.run(ensure_topics(admin, lc.config))
    for name, n in topics.items():
        print(f"{name:<32} {n:>3} partitions {'(created)' if name in created else ''}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo.run import run_demo

    export = Path(args.export) if args.export else None
    return run_demo(Path(args.workdir), export=export, port=args.port, keep_running=args.keep)


def cmd_init(args: argparse.Namespace) -> int:
    from gateway.demo.world import write_world

    root = Path(args.dir)
    if args.keep_existing and (root / "config.yaml").exists():
        print(f"{root / 'config.yaml'} exists; left as it is")
        return 0
    world = write_world(
        root,
        bootstrap=args.bootstrap,
        partitions=args.partitions,
        security_protocol=args.security_protocol,
    )
    print(f"wrote {world.config_path}, {root / 'trust.yaml'} and keys in {root / 'keys'}")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from gateway.audit.bundle import verify_bundle

    if args.api:
        from gateway.cli.api import verify_api_command

        return verify_api_command(args)
    if not args.bundle:
        print("error: give a bundle DIR, or --api URL", file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        if total >= 10_000 and (done % 100_000 == 0 or done == total):
            print(f"  hashed {done:,}/{total:,} entries", file=sys.stderr, flush=True)

    since = Path(args.since) if args.since else None
    trusted = Path(args.vkey).read_text(encoding="utf-8").strip() if args.vkey else None
    report = verify_bundle(Path(args.bundle), since=since, progress=progress, trusted_vkey=trusted)
    print(f"OK: {report.size} entries, root {report.root}, origin {report.origin}")
    if since:
        print(f"OK: consistent with the earlier checkpoint {since}")
    return 0


def cmd_audit_export(args: argparse.Namespace) -> int:
    from gateway.audit.export import export_bundle
    from gateway.audit.open import open_store

    lc = _config(args)
    store = open_store(lc.audit_store())
    latest = store.latest_checkpoint()
    if latest is None:
        print(
            "error: no checkpoint has been published yet; run the worker, or ask for one "
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

    from gateway.worker.sequencing import request_checkpoint

    lc = _config(args)
    from gateway.transport.clients import clients_for

    kafka = clients_for(lc, "checkpoint")
    note = asyncio.run(request_checkpoint(kafka, lc.load_mac_key(), args.timeout))
    if args.out:
        Path(args.out).write_text(note, encoding="utf-8")
    print(note, end="")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    import json

    from gateway.audit.open import open_store
    from gateway.services.reconciliation import run

    lc = _config(args)
    if args.registry not in {r.id for r in lc.config.registries}:
        print(f"error: no registry {args.registry!r} in the config", file=sys.stderr)
        return 2
    store = open_store(lc.audit_store())
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


def cmd_checks(args: argparse.Namespace) -> int:
    from gateway.core.catalogue import CATALOGUE, render

    if args.json:
        import json
        from dataclasses import asdict

        print(json.dumps([asdict(c) | {"group": c.group} for c in CATALOGUE], indent=2))
    else:
        print(render())
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from gateway.api.gen import main as openapi_main
    from schemas.gen import main as gen_main

    argv = ["--check"] if args.check else []
    return max(gen_main(argv), openapi_main(argv))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="a6gw",
        description="Article 6 Interoperability Gateway: checks, signs and audits carbon-credit "
        "registry events on Kafka.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"a6gw {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    from gateway.cli.kafka import add_kafka_parser

    add_kafka_parser(sub)

    from gateway.cli.operate import add_parsers as add_operate_parsers

    add_operate_parsers(sub)

    p = sub.add_parser("worker", help="run the stream worker (ingest, ledger, sequencer)")
    p.add_argument("--config", required=True, help="the gateway config file (YAML)")
    p.add_argument("--loglevel", default="info", choices=["debug", "info", "warning", "error"])
    p.add_argument(
        "--datadir",
        help="this worker's table folder (default: <data_dir>/worker); "
        "give each worker on one machine its own",
    )
    p.add_argument(
        "--no-supervise",
        dest="supervise",
        action="store_false",
        help="run the worker in this process, without restarting it when its watchdog "
        "finds it stalled (for service managers that restart on failure)",
    )
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser(
        "topics", help="create the gateway's topics on the configured broker, or update them"
    )
    p.add_argument("--config", required=True, help="the gateway config file (YAML)")
    p.add_argument(
        "--admin-credentials",
        metavar="FILE",
        help="the broker admin's credentials (default: see `a6gw kafka provision --help`)",
    )
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("demo", help="replay the bundled JCM scenario end to end on a local broker")
    p.add_argument("--export", metavar="DIR", help="write the audit bundle to DIR")
    p.add_argument("--workdir", default=".a6gw/demo", help="working folder (wiped each run)")
    p.add_argument("--port", type=int, default=19292, help="port of the demo's own broker")
    p.add_argument("--keep", action="store_true", help="keep the broker and worker running")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("init", help="write a sample config, trust file and keys (the demo world)")
    p.add_argument("dir", metavar="DIR", help="folder to write config.yaml, trust.yaml, keys/ into")
    p.add_argument("--bootstrap", default="127.0.0.1:19092", help="Kafka bootstrap host:port")
    p.add_argument("--partitions", type=int, default=4, help="partitions per gateway topic")
    p.add_argument(
        "--security-protocol",
        choices=("SASL_PLAINTEXT", "SASL_SSL", "PLAINTEXT"),
        help="kafka.security_protocol (default SASL_PLAINTEXT: run `a6gw kafka provision`)",
    )
    p.add_argument("--keep-existing", action="store_true", help="do nothing if DIR has a config")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("verify", help="verify an audit bundle offline, or a live API")
    p.add_argument(
        "bundle", metavar="DIR", nargs="?", help="folder with entries.ndjson, checkpoint, log.vkey"
    )
    p.add_argument(
        "--since",
        metavar="OLD_CHECKPOINT",
        help="also prove the log is an extension of this earlier checkpoint",
    )
    p.add_argument(
        "--vkey",
        metavar="FILE",
        help="the log key you trust (a vkey line); the bundle's log.vkey alone only proves "
        "that the bundle is consistent with itself",
    )
    add_verify_api_args(p)
    p.set_defaults(func=cmd_verify)
    add_api_parsers(sub)

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
    e.add_argument("--config", required=True, help="the gateway config file (YAML)")
    e.add_argument("--start", type=int, help="first leaf index of a range bundle")
    e.add_argument("--end", type=int, help="leaf index after the last one of a range bundle")
    e.set_defaults(func=cmd_audit_export)
    c = asub.add_parser(
        "checkpoint",
        help="ask the running sequencer to publish a checkpoint now, and print it",
    )
    c.add_argument("--config", required=True, help="the gateway config file (YAML)")
    c.add_argument("--out", help="also write the signed note to this file")
    c.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (default 60)")
    c.set_defaults(func=cmd_audit_checkpoint)

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
    p.add_argument("--config", required=True, help="the gateway config file (YAML)")
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
    p.set_defaults(func=cmd_reconcile)
    add_discrepancy_parser(sub)
    add_aef_parser(sub)
    add_summary_parser(sub)

    p = sub.add_parser("checks", help="print the catalogue of coded checks")
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(func=cmd_checks)

    p = sub.add_parser("schemas", help="regenerate the JSON Schema files (or --check them)")
    p.add_argument("--check", action="store_true", help="fail if the checked-in files are stale")
    p.set_defaults(func=cmd_schemas)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.func(args)
        return result
    except GatewayError as exc:
        print(f"a6gw: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
