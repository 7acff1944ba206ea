"""``a6gw demo`` and ``a6gw init``: replay the bundled scenario; write the demo's world."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gateway import logs


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway.demo.run import run_demo

    fmt, level = logs.configure_from(args)
    # the worker the demo starts logs alike (it reads these as its defaults)
    os.environ[logs.FORMAT_ENV], os.environ[logs.LEVEL_ENV] = fmt, level
    export = Path(args.export) if args.export else None
    return run_demo(Path(args.workdir), export=export, port=args.port, keep_running=args.keep)


def cmd_init(args: argparse.Namespace) -> int:
    from gateway.demo.world import write_world

    root = Path(args.dir)
    if args.keep_existing and (root / "config.yaml").exists():
        print(f"{root / 'config.yaml'} exists; left as it is")
        return 0
    world = write_world(
        root,
        bootstrap=args.bootstrap,
        partitions=args.partitions,
        security_protocol=args.security_protocol,
    )
    print(f"wrote {world.config_path}, {root / 'trust.yaml'} and keys in {root / 'keys'}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("demo", help="replay the bundled JCM scenario end to end on a local broker")
    p.add_argument("--export", metavar="DIR", help="write the audit bundle to DIR")
    p.add_argument("--workdir", default=".a6gw/demo", help="working folder (wiped each run)")
    p.add_argument("--port", type=int, default=19292, help="port of the demo's own broker")
    p.add_argument("--keep", action="store_true", help="keep the broker and worker running")
    logs.add_arguments(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("init", help="write a sample config, trust file and keys (the demo world)")
    p.add_argument("dir", metavar="DIR", help="folder to write config.yaml, trust.yaml, keys/ into")
    p.add_argument("--bootstrap", default="127.0.0.1:19092", help="Kafka bootstrap host:port")
    p.add_argument("--partitions", type=int, default=4, help="partitions per gateway topic")
    p.add_argument(
        "--security-protocol",
        choices=("SASL_PLAINTEXT", "SASL_SSL", "PLAINTEXT"),
        help="kafka.security_protocol (default SASL_PLAINTEXT: run `a6gw kafka provision`)",
    )
    p.add_argument("--keep-existing", action="store_true", help="do nothing if DIR has a config")
    p.set_defaults(func=cmd_init)
