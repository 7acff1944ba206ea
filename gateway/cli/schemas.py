"""``a6gw schemas``: regenerate the JSON Schema files, or check them."""

from __future__ import annotations

import argparse


def cmd_schemas(args: argparse.Namespace) -> int:
    from schemas.gen import main as gen_main

    return gen_main(["--check"] if args.check else [])


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("schemas", help="regenerate the JSON Schema files (or --check them)")
    p.add_argument("--check", action="store_true", help="fail if the checked-in files are stale")
    p.set_defaults(func=cmd_schemas)
