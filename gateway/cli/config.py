"""``a6gw config check``: the config and every file it names, checked before a process
needs them; and the start check of ``a6gw worker``, ``api`` and ``ingress`` (:func:`started`).

Exit codes: 0 no problem (warnings allowed), 1 problems found, 2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gateway.cli.options import add_config
from gateway.config import LoadedConfig

DESCRIPTION = """\
Load the config file, the trust file, the gateway's signing key, log key and MAC key (its
mode must be 0600), each role's Kafka credentials, the TLS files of the API, the ingress and
the connectors (certificate and key belong together, CA files parse, expiry within 30 days
warned), and open the SQLite audit and nonce stores read-only. Nothing is created and,
without --online, nothing goes over the network. Every problem is named, with its code
(docs/codes.md), its file and a hint. --online also signs in to Kafka with each role's
credentials, checks that the gateway's topics exist, and opens a PostgreSQL store read-only.

exit: 0 no problem (warnings allowed), 1 problems found, 2 a usage error."""


def cmd_check(args: argparse.Namespace) -> int:
    from gateway.services.configcheck.check import PROCESSES, check

    processes = tuple(args.process) if args.process else PROCESSES
    report, lc = check(Path(args.config), processes=processes)
    if args.online and lc is not None:
        from gateway.services.configcheck.online import online

        online(report, lc)
    if args.format == "json":
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(report.text())
    return 1 if report.errors else 0


def started(args: argparse.Namespace, process: str, *, api_read_only: bool = False) -> LoadedConfig:
    """The config of a process about to start, after the offline check (warnings on stderr).

    :raises ConfigError: (A6-CFG-CHECK) naming every broken file: the process does not start.
    """
    from gateway.services.configcheck.check import require

    lc, report = require(Path(args.config), process, api_read_only=api_read_only)
    for warning in report.warnings:
        print(f"a6gw {process}: {warning.text()}", file=sys.stderr)
    return lc


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("config", help="check the config and the files it names")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    c = csub.add_parser(
        "check",
        help="check the config, keys, credentials, TLS files and stores; name every problem",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config(c)
    c.add_argument(
        "--online",
        action="store_true",
        help="also sign in to Kafka (metadata, the gateway's topics) and PostgreSQL, read-only",
    )
    c.add_argument(
        "--process",
        action="append",
        choices=("worker", "api", "ingress"),
        help="check only what this process needs (repeatable; default: all of them and the "
        "command-line tools' credentials)",
    )
    c.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    c.set_defaults(func=cmd_check)
