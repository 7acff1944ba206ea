"""``a6gw worker`` and ``a6gw topics``: run the stream worker; create or update its topics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.options import add_config, config_of


def cmd_worker(args: argparse.Namespace) -> int:
    from gateway.worker.run import run_worker, supervise

    lc = config_of(args)  # fail fast on a bad config, before any child starts
    if args.supervise:
        cmd = [sys.executable, "-m", "gateway", "worker", "--config", args.config]
        cmd += ["--loglevel", args.loglevel, "--no-supervise"]
        datadir = Path(args.datadir) if args.datadir else lc.data_dir / "worker"
        cmd += ["--datadir", str(datadir)] if args.datadir else []
        return supervise(cmd, status=datadir / "restarts.json")
    tables = Path(args.datadir) if args.datadir else None
    return run_worker(lc, loglevel=args.loglevel, datadir=tables)


def cmd_topics(args: argparse.Namespace) -> int:
    import asyncio

    from gateway.cli.kafka import admin_clients
    from gateway.transport.topic_plan import ensure_topics

    lc = config_of(args)
    admin = admin_clients(lc, args.admin_credentials)
    topics, created = asyncio.run(ensure_topics(admin, lc.config))
    for name, n in topics.items():
        print(f"{name:<32} {n:>3} partitions {'(created)' if name in created else ''}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("worker", help="run the stream worker (ingest, ledger, sequencer)")
    add_config(p)
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
    add_config(p)
    p.add_argument(
        "--admin-credentials",
        metavar="FILE",
        help="the broker admin's credentials (default: see `a6gw kafka provision --help`)",
    )
    p.set_defaults(func=cmd_topics)
