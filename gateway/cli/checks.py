"""``a6gw checks``: the catalogue of coded checks."""

from __future__ import annotations

import argparse

from gateway.cli.options import add_json


def cmd_checks(args: argparse.Namespace) -> int:
    from gateway.core.catalogue import CATALOGUE, render

    if args.json:
        import json
        from dataclasses import asdict

        print(json.dumps([asdict(c) | {"group": c.group} for c in CATALOGUE], indent=2))
    else:
        print(render())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("checks", help="print the catalogue of coded checks")
    add_json(p)
    p.set_defaults(func=cmd_checks)
