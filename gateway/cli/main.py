"""The ``a6gw`` command line: the parser of every command group, and the entry point."""

from __future__ import annotations

import argparse
import sys

from gateway import __version__
from gateway.cli import (
    aef,
    api,
    audit,
    checks,
    config,
    demo,
    discrepancy,
    kafka,
    operate,
    reconcile,
    schemas,
    summary,
    ui,
    verify,
    witness,
    worker,
)
from gateway.errors import GatewayError

EPILOG = """\
examples:
  a6gw demo                         replay the bundled JCM scenario on a local Kafka broker
  a6gw demo --export bundle/        ... and write the audit bundle to bundle/
  a6gw verify bundle/               check an audit bundle offline
  a6gw kafka start                  run a local single-node Kafka broker
  a6gw worker --config config.yaml  run the stream worker
  a6gw config check --config config.yaml   check the config and every file it names
  a6gw discrepancy list --config config.yaml --status open   discrepancies still open
"""


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
    kafka.add_kafka_parser(sub)
    operate.add_parsers(sub)  # lag, dlq
    worker.add_parsers(sub)  # worker, topics
    demo.add_parsers(sub)  # demo, init
    verify.add_parser(sub)
    api.add_parsers(sub)  # api, ingress, pki
    audit.add_parser(sub)
    reconcile.add_parser(sub)
    discrepancy.add_parser(sub)
    aef.add_parser(sub)
    summary.add_parser(sub)
    checks.add_parser(sub)
    schemas.add_parser(sub)
    config.add_parser(sub)  # config check
    witness.add_parser(sub)  # witness serve, witness keygen
    ui.add_parser(sub)
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
