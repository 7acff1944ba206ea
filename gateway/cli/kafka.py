"""``a6gw kafka start|stop|status|provision``: manage the local development Kafka broker, and
provision any broker's users and ACLs from a gateway config.

The gateway's main CLI calls :func:`add_kafka_parser` with its subparsers; every leaf parser
sets ``func`` to a handler ``(argparse.Namespace) -> int`` so the caller only has to run
``return args.func(args)``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.options import add_config, config_of
from gateway.errors import BrokerError, ConfigError
from gateway.transport.broker import DEFAULT_PORT, KAFKA_VERSION, LocalBroker
from gateway.transport.clients import ADMIN, Credentials, KafkaClients, clients_for, clients_of

if TYPE_CHECKING:
    from gateway.config import LoadedConfig

Handler = Callable[[argparse.Namespace], int]

_EPILOG = (
    "The broker is a real single-node Apache Kafka "
    f"{KAFKA_VERSION} (KRaft) run from Maven Central jars; it needs java (17+) and mvn. "
    "Environment: A6GW_KAFKA_DIR (state dir), A6GW_KAFKA_PORT (port), "
    "A6GW_KAFKA_JARS (jar cache, default ~/.cache/a6gw/kafka-<version>)."
)


def _broker(args: argparse.Namespace) -> LocalBroker:
    return LocalBroker(args.dir, port=args.port)


def admin_clients(
    lc: LoadedConfig, admin_file: str | None = None, broker_dir: str | None = None
) -> KafkaClients:
    """The broker admin's clients for ``lc``'s broker: from ``admin_file`` if given, else the
    config's ``admin`` role ($A6GW_KAFKA_CREDENTIALS_ADMIN, credential_files.admin,
    <credentials_dir>/admin.json), else the local broker's state dir (``broker_dir``,
    $A6GW_KAFKA_DIR or ./.a6gw/kafka)."""
    if admin_file:
        return clients_of(lc, Credentials.load(Path(admin_file)))
    try:
        return clients_for(lc, ADMIN)
    except ConfigError:
        local = LocalBroker(broker_dir, verbose=False).admin_path
        if not local.exists():
            raise
        return clients_of(lc, Credentials.load(local))


def _guard(handler: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (BrokerError, ConfigError) as exc:
            print(f"a6gw kafka {args.kafka_command}: {exc}", file=sys.stderr)
            return 2

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


@_guard
def cmd_start(args: argparse.Namespace) -> int:
    """Start the broker (fetching the jars on first use); 0 once it answers requests."""
    status = _broker(args).start(timeout=args.timeout)
    print(status.describe())
    print(f"bootstrap servers: {status.bootstrap}")
    return 0


@_guard
def cmd_stop(args: argparse.Namespace) -> int:
    """Stop the broker; 0 whether or not it was running."""
    broker = _broker(args)
    if broker.stop(timeout=args.timeout):
        print(f"Kafka stopped ({broker.bootstrap})")
    else:
        print(f"Kafka was not running ({broker.bootstrap})")
    return 0


@_guard
def cmd_status(args: argparse.Namespace) -> int:
    """Print the broker's status; 0 if it is running and answering, 3 if not."""
    status = _broker(args).status()
    print(status.describe())
    return 0 if status.running else 3


@_guard
def cmd_provision(args: argparse.Namespace) -> int:
    """Create the config's principals (SCRAM users) and ACLs; write their credentials."""
    from gateway.transport.acls import principal_table, provision

    lc = config_of(args)
    admin = admin_clients(lc, args.admin_credentials, args.dir)
    files = asyncio.run(provision(lc, admin))
    for who, path in sorted(files.items()):
        print(f"{who:<28} {path}")
    print(f"{len(files)} principals, {len(principal_table(lc.config))} ACLs on {admin.bootstrap}")
    return 0


def _show_help(parser: argparse.ArgumentParser) -> Handler:
    def run(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return 2

    return run


def add_kafka_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``kafka start|stop|status`` on the gateway CLI's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"client port on 127.0.0.1 (controller uses port+1; default $A6GW_KAFKA_PORT "
        f"or {DEFAULT_PORT})",
    )
    common.add_argument(
        "--dir",
        default=None,
        metavar="PATH",
        help="state dir with config, data and logs (default $A6GW_KAFKA_DIR or ./.a6gw/kafka)",
    )
    kafka = subparsers.add_parser(
        "kafka",
        help="run the local development Kafka broker",
        description="Manage the local single-node Kafka broker used for development and tests.",
        epilog=_EPILOG,
    )
    kafka.set_defaults(func=_show_help(kafka), kafka_command="")
    commands = kafka.add_subparsers(dest="kafka_command", metavar="{start,stop,status,provision}")

    start = commands.add_parser(
        "start",
        parents=[common],
        help="start the broker (idempotent) and wait until it answers",
        description="Fetch the broker jars with Maven if needed (first run only), format the "
        "storage if needed, start the broker detached and wait until it answers Kafka "
        "requests. Does nothing if it is already running.",
    )
    start.add_argument(
        "--timeout", type=float, default=90.0, help="seconds to wait for it (default 90)"
    )
    start.set_defaults(func=cmd_start)

    stop = commands.add_parser(
        "stop",
        parents=[common],
        help="stop the broker (SIGTERM, then SIGKILL)",
        description="Stop the broker: SIGTERM to its process group, SIGKILL after --timeout.",
    )
    stop.add_argument(
        "--timeout", type=float, default=30.0, help="seconds before SIGKILL (default 30)"
    )
    stop.set_defaults(func=cmd_stop)

    status = commands.add_parser(
        "status",
        parents=[common],
        help="show whether the broker is running (exit 0) or not (exit 3)",
        description="Show the broker's status. Exit code 0 if it is running and answering "
        "Kafka requests, 3 if not.",
    )
    status.set_defaults(func=cmd_status)

    prov = commands.add_parser(
        "provision",
        help="create the gateway's Kafka users and ACLs (idempotent)",
        description="With the broker's admin credential, create a SCRAM user for every "
        "principal of the config (registries, inventory agencies, the gateway's processes), "
        "write each one's credentials file (0600; existing passwords are kept) and the ACLs "
        "of the principal table (README). Safe to run again.",
    )
    add_config(prov)
    prov.add_argument(
        "--admin-credentials",
        metavar="FILE",
        help="the broker admin's credentials (default: the config's admin role, else "
        "admin.json in the local broker's state dir)",
    )
    prov.add_argument("--dir", default=None, metavar="PATH", help="the local broker's state dir")
    prov.set_defaults(func=cmd_provision)
