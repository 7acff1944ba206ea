"""``a6gw schemas``: regenerate the JSON Schema files and the OpenAPI document, or check them."""

from __future__ import annotations

import argparse


def cmd_schemas(args: argparse.Namespace) -> int:
    from gateway.api.gen import main as openapi_main
    from schemas.gen import main as gen_main

    argv = ["--check"] if args.check else []
    return max(gen_main(argv), openapi_main(argv))


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("schemas", help="regenerate the JSON Schema and OpenAPI files")
    p.add_argument("--check", action="store_true", help="fail if the checked-in files are stale")
    p.set_defaults(func=cmd_schemas)
