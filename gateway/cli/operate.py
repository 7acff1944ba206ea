"""``a6gw lag`` and ``a6gw dlq list|replay``: the worker seen from outside (see
:mod:`gateway.services.operate`).

Exit codes: 0 done, 1 refused or failed (a coded message on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from gateway.cli.options import add_config, add_json, config_of
from gateway.errors import GatewayError


def cmd_lag(args: argparse.Namespace) -> int:
    from gateway.services.operate import lag, render_lag

    lc = config_of(args)
    try:
        rows = asyncio.run(lag(lc))
    except GatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([r.row() for r in rows], indent=2))
    else:
        print(render_lag(rows))
    return 0


def _dlq_line(d: dict[str, Any]) -> str:
    fault = d.get("fault") or {}
    where = f"{d.get('topic')}[{d.get('partition')}]@{d.get('offset')}"
    step = f" {fault.get('step')}/{fault.get('exception')}" if fault else ""
    return f"{where:<36} {d.get('reason_code'):<8} {d.get('size'):>8}B{step}  {d.get('reason')}"


def cmd_dlq_list(args: argparse.Namespace) -> int:
    from gateway.core.faults import FAULT_CODES
    from gateway.services.operate import dead_letters

    lc = config_of(args)
    try:
        letters = asyncio.run(dead_letters(lc))
    except GatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.faults:
        letters = [d for d in letters if d.get("reason_code") in FAULT_CODES]
    if args.json:
        print(json.dumps(letters, indent=2))
    else:
        for d in letters:
            print(_dlq_line(d))
    return 0


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    from gateway.services.operate import replay

    lc = config_of(args)
    try:
        done = asyncio.run(replay(lc, args.topic, args.partition, args.offset))
    except GatewayError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(done, indent=2))
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "lag",
        help="per partition: log end, the agent's own position, the group's committed offset",
    )
    add_config(p)
    add_json(p, "print JSON rows")
    p.set_defaults(func=cmd_lag)

    p = sub.add_parser("dlq", help="list dead letters; replay a gateway fault's input")
    dsub = p.add_subparsers(dest="dlq_command", metavar="ACTION", required=True)
    ls = dsub.add_parser("list", help="the dead letters on a6.dlq")
    add_config(ls)
    ls.add_argument("--faults", action="store_true", help="only gateway faults (GWF-…)")
    add_json(ls, "print the dead-letter records")
    ls.set_defaults(func=cmd_dlq_list)
    rp = dsub.add_parser(
        "replay",
        help="republish the input a gateway fault dead-lettered (by where it was read)",
    )
    add_config(rp)
    rp.add_argument("--topic", required=True, help="the topic the dead input was read from")
    rp.add_argument("--partition", required=True, type=int)
    rp.add_argument("--offset", required=True, type=int)
    rp.set_defaults(func=cmd_dlq_replay)
