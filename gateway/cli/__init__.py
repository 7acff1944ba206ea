"""The ``a6gw`` command line: argparse only; the work is done by the services it calls."""

from gateway.cli.main import main

__all__ = ["main"]
