"""``a6gw worker`` and ``a6gw topics``: run the stream worker; create or update its topics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway import logs
from gateway.cli.config import started
from gateway.cli.options import add_config, add_metrics_port, config_of, metrics_port_of


def cmd_worker(args: argparse.Namespace) -> int:
    from gateway.redaction import protect_config
    from gateway.worker.run import (
        clean_instance_id,
        hold_folder,
        instance_id_for,
        plan_members,
        run_worker,
        supervise,
    )

    fmt, level = logs.configure_from(args)
    lc = started(args, "worker")  # every broken file named, before Kafka or any child
    protect_config(lc)
    datadir = Path(args.datadir) if args.datadir else lc.data_dir / "worker"
    if args.supervise:
        if not hold_folder(datadir, "supervisor.lock"):
            print(f"a6gw worker: another supervisor uses {datadir}", file=sys.stderr)
            return 2
        cmd = [sys.executable, "-m", "gateway", "worker", "--config", args.config]
        cmd += ["--log-format", fmt, "--log-level", level]  # each child logs alike
        members = plan_members(
            cmd,
            datadir,
            args.processes,
            gateway_id=lc.config.gateway.id,
            instance_id=args.instance_id,
            static=args.static,
            metrics_port=metrics_port_of(args, lc.config.metrics.worker_port),
        )
        return supervise(members)
    if args.processes != 1:
        print("a6gw worker: --processes needs the supervisor", file=sys.stderr)
        return 2
    ident = None
    if args.static:
        ident = args.instance_id and clean_instance_id(args.instance_id)
        ident = ident or instance_id_for(lc.config.gateway.id, datadir)
    port = metrics_port_of(args, lc.config.metrics.worker_port)
    return run_worker(lc, loglevel=level, datadir=datadir, instance_id=ident, metrics_port=port)


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
    p = sub.add_parser(
        "worker",
        help="run the stream worker (ingest, ledger, sequencer)",
        description="Run the stream worker, supervised: a child that stalls or dies is started "
        "again. Workers share the partitions of the input topics and of a6.ledger through "
        "the consumer group <gateway.id>: run `a6gw worker` on several machines, or "
        "--processes N on one, or both (see the README, 'How the work spreads').",
    )
    add_config(p)
    logs.add_arguments(p)
    p.add_argument(
        "--loglevel", dest="log_level", choices=logs.LEVELS, help="the same as --log-level"
    )
    p.add_argument(
        "--datadir",
        help="this worker's folder: its tables, attempts journal and restarts.json "
        "(default: <data_dir>/worker; with --processes N, one folder <datadir>/<i> per "
        "process); give each worker on one machine its own",
    )
    p.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="supervise N worker processes, each a member of the consumer group with its "
        "own folder and instance id, each restarted on its own (default 1)",
    )
    p.add_argument(
        "--instance-id",
        metavar="ID",
        help="the worker's static group-instance id (with --processes N: ID-0 ... ID-<N-1>): "
        "a restarted worker that rejoins under it gets its partitions back at once instead "
        "of after kafka.session_timeout_s. Unique per worker (two live workers with one id "
        "fence each other); default: <gateway.id>-<host>-<folder name>-<digest of the "
        "folder's path>, stable while the host name and the folder stay the same",
    )
    p.add_argument(
        "--no-instance-id",
        dest="static",
        action="store_false",
        help="join the group as a dynamic member: a stopped worker leaves the group at once, "
        "a restarted one waits for a rebalance",
    )
    p.add_argument(
        "--no-supervise",
        dest="supervise",
        action="store_false",
        help="run the worker in this process, without restarting it when its watchdog "
        "finds it stalled (for service managers that restart on failure)",
    )
    add_metrics_port(
        p,
        "metrics.worker_port",
        "; with --processes N, process i serves PORT + i (one port per process: scrape "
        "each, and sum over them)",
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
