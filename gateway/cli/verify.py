"""``a6gw verify``: an audit bundle offline, or a live auditors' API (``--api``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway.cli.options import add_api_client


def _vkeys(path: str) -> list[str]:
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def verify_api_command(args: argparse.Namespace) -> int:
    from gateway.api.client import AuditClient, save_checkpoint, verify_api
    from gateway.audit.note import parse_vkey
    from gateway.http.tls import client_tls

    if not args.vkey:
        print("error: --api needs --vkey FILE: the log key you trust", file=sys.stderr)
        return 2
    if not args.ca:
        print("error: --api needs --ca FILE: the CA of the API's certificate", file=sys.stderr)
        return 2
    verifiers = [parse_vkey(line) for line in _vkeys(args.vkey)]
    since_path = Path(args.since) if args.since else None
    since = since_path.read_text(encoding="utf-8") if since_path else None
    client = AuditClient(
        args.api, client_tls(args.ca, args.cert, args.key), token=args.token or None
    )
    try:
        report = verify_api(
            client, verifiers, since=since, sample=args.sample, say=lambda m: print(f"  {m}")
        )
    finally:
        client.close()
    save = Path(args.save) if args.save else since_path or Path("a6gw-api.checkpoint")
    save_checkpoint(save, report.note)
    cp = report.checkpoint
    print(f"OK: {cp.size} entries, root {cp.root.hex()}, origin {cp.origin} (API {args.api})")
    print(f"saved the checkpoint to {save} for the next --since")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from gateway.audit.bundle import verify_bundle

    if args.api:
        return verify_api_command(args)
    if not args.bundle:
        print("error: give a bundle DIR, or --api URL", file=sys.stderr)
        return 2

    def progress(done: int, total: int) -> None:
        if total >= 10_000 and (done % 100_000 == 0 or done == total):
            print(f"  hashed {done:,}/{total:,} entries", file=sys.stderr, flush=True)

    since = Path(args.since) if args.since else None
    trusted = Path(args.vkey).read_text(encoding="utf-8").strip() if args.vkey else None
    report = verify_bundle(Path(args.bundle), since=since, progress=progress, trusted_vkey=trusted)
    print(f"OK: {report.size} entries, root {report.root}, origin {report.origin}")
    if since:
        print(f"OK: consistent with the earlier checkpoint {since}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("verify", help="verify an audit bundle offline, or a live API")
    p.add_argument(
        "bundle", metavar="DIR", nargs="?", help="folder with entries.ndjson, checkpoint, log.vkey"
    )
    p.add_argument(
        "--since",
        metavar="OLD_CHECKPOINT",
        help="also prove the log is an extension of this earlier checkpoint",
    )
    p.add_argument(
        "--vkey",
        metavar="FILE",
        help="the log key you trust (a vkey line); the bundle's log.vkey alone only proves "
        "that the bundle is consistent with itself",
    )
    add_api_client(p, "verify a live API instead of a bundle")
    p.add_argument(
        "--save", help="(--api) where to save the verified checkpoint (default: the --since file)"
    )
    p.add_argument(
        "--sample", type=int, default=16, help="(--api) random entries to prove (default 16)"
    )
    p.set_defaults(func=cmd_verify)
