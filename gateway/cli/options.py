"""Option blocks several commands share, written once: ``--config``, ``--json`` and the
client flags of a command that talks to the auditors' API."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.config import LoadedConfig, load_config

CONFIG_HELP = "the gateway config file (YAML)"


def add_config(p: argparse.ArgumentParser) -> None:
    """``--config FILE``, required."""
    p.add_argument("--config", required=True, help=CONFIG_HELP)


def config_of(args: argparse.Namespace) -> LoadedConfig:
    """The config ``--config`` names, loaded (and checked)."""
    return load_config(Path(args.config))


def add_json(p: argparse.ArgumentParser, text: str = "as JSON") -> None:
    """``--json``: print JSON instead of text."""
    p.add_argument("--json", action="store_true", help=text)


def add_api_client(p: argparse.ArgumentParser, api_help: str) -> None:
    """``--api URL`` and the flags of its TLS client: ``--ca``, ``--cert``/``--key`` for
    mutual TLS, or ``--token``."""
    p.add_argument("--api", metavar="URL", help=api_help)
    p.add_argument("--ca", help="(--api) CA certificate of the API's TLS certificate")
    p.add_argument("--cert", help="(--api) client certificate for mutual TLS")
    p.add_argument("--key", help="(--api) its private key")
    p.add_argument("--token", help="(--api) a bearer token instead of a client certificate")


def add_metrics_port(p: argparse.ArgumentParser, key: str, more: str = "") -> None:
    """``--metrics-port PORT``: the plain-HTTP port of /metrics, /livez and /readyz."""
    p.add_argument(
        "--metrics-port",
        type=int,
        metavar="PORT",
        help=f"serve Prometheus metrics at /metrics and health at /livez and /readyz on "
        f"metrics.host:PORT, plain HTTP, unauthenticated (default: {key}; 0: none){more}",
    )


def metrics_port_of(args: argparse.Namespace, configured: int) -> int:
    """``--metrics-port`` if given, else ``configured``."""
    port: int | None = args.metrics_port
    return configured if port is None else port
