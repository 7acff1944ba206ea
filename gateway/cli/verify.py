"""``a6gw verify``: an audit bundle offline, or a live auditors' API (``--api``).

Exit codes, as auditors' tools have them (the Node verifier ``tools/verify-bundle.mjs``
gives the same; sigstore's verifier exits 1 on a failed verification too):

- 0: verified;
- 1: does not verify: a tampered or incomplete bundle, a bad signature, a bad proof, a log
  that is not an extension of the ``--since`` checkpoint, a checkpoint without
  ``--min-witnesses`` valid cosignatures by the ``--witness-key`` witnesses, a decision
  whose signer had no active key of an allowed role in the trust the log records before it
  (``AUD-SIGNER``, :mod:`gateway.audit.verify_signers`) (``FAIL: ...`` on stderr);
- 2: nothing was checked: a usage error, a ``--vkey``, ``--witness-key`` or ``--since``
  file that cannot be read or does not parse, a bundle folder that is not a folder, an API
  that cannot be asked.

Without ``--vkey`` a bundle is checked only against the keys it carries itself: a warning on
stderr says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.cli.options import add_api_client
from gateway.errors import AuditError, GatewayError

if TYPE_CHECKING:
    from gateway.audit.cosignature import Cosigner

#: What a bundle check without a pinned key proves, and what it does not.
UNPINNED = (
    "warning: no key pinned (--vkey): checked that the entries hash to the checkpoint's root "
    "and that the checkpoint is signed by a key in the bundle's own log.vkey; NOT checked "
    "that this key is the log's: anyone can write a bundle that passes this. Pin the log "
    "key you trust with --vkey FILE, or give --since with a checkpoint you obtained earlier."
)


class UsageProblem(Exception):
    """A mistake in what the user gave: exit 2 with the message, nothing verified."""


def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageProblem(f"cannot read {what} {path}: {reason}") from exc


def _vkeys(path: str) -> list[str]:
    """The verifier key lines of a ``--vkey`` file, each checked to parse.

    :raises UsageProblem: when the file cannot be read, is empty or a line is no vkey.
    """
    from gateway.audit.note import parse_vkey

    lines = [line for line in _read_text(path, "--vkey").splitlines() if line.strip()]
    if not lines:
        raise UsageProblem(f"--vkey {path}: no verifier key line (name+hexid+base64key)")
    for n, line in enumerate(lines, 1):
        try:
            parse_vkey(line.strip())
        except AuditError as exc:
            raise UsageProblem(f"--vkey {path} line {n}: {exc.args[0]}") from exc
    return [line.strip() for line in lines]


def _witness_policy(args: argparse.Namespace) -> tuple[list[Cosigner], int] | None:
    """The pinned witness keys (``--witness-key``) and ``--min-witnesses`` (default 1),
    or None when no witness key is given.

    :raises UsageProblem: a file that cannot be read or holds no witness key (type 0x04),
        or a K below 1 or above the number of keys pinned.
    """
    from gateway.audit.cosignature import parse_witness_vkey

    files, k = args.witness_key or [], args.min_witnesses
    if not files:
        if k is not None:
            raise UsageProblem("--min-witnesses needs --witness-key FILE: the witnesses you pin")
        return None
    cosigners = []
    for path in files:
        lines = [line.strip() for line in _read_text(path, "--witness-key").splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise UsageProblem(f"--witness-key {path}: no witness key line")
        for n, line in enumerate(lines, 1):
            try:
                cosigners.append(parse_witness_vkey(line))
            except AuditError as exc:
                raise UsageProblem(f"--witness-key {path} line {n}: {exc.args[0]}") from exc
    k = 1 if k is None else k
    distinct = len({(c.name, c.key_id) for c in cosigners})
    if not 1 <= k <= distinct:
        raise UsageProblem(f"--min-witnesses {k}: give a number from 1 to {distinct} (keys pinned)")
    return cosigners, k


def _check_witnesses(note: str | bytes, policy: tuple[list[Cosigner], int] | None) -> None:
    """Apply the reader's policy to a checkpoint note (VerificationError: exit 1)."""
    from gateway.audit.cosignature import require_cosignatures

    if policy is None:
        return
    found = require_cosignatures(note, policy[0], policy[1])
    names = ", ".join(c.name for c in found)
    print(f"OK: cosigned by {len(found)} pinned witnesses (at least {policy[1]}): {names}")


def _since(path: str | None) -> Path | None:
    if path is not None:
        _read_text(path, "--since")
    return Path(path) if path else None


def verify_api_command(args: argparse.Namespace) -> int:
    from gateway.api.client import AuditClient, save_checkpoint, verify_api
    from gateway.audit.note import parse_vkey
    from gateway.http.tls import client_tls

    if not args.vkey:
        raise UsageProblem("--api needs --vkey FILE: the log key you trust")
    if not args.ca:
        raise UsageProblem("--api needs --ca FILE: the CA of the API's certificate")
    verifiers = [parse_vkey(line) for line in _vkeys(args.vkey)]
    policy = _witness_policy(args)
    since_path = _since(args.since)
    since = since_path.read_text(encoding="utf-8") if since_path else None
    try:
        tls = client_tls(args.ca, args.cert, args.key)
    except GatewayError as exc:
        raise UsageProblem(str(exc)) from exc
    client = AuditClient(args.api, tls, token=args.token or None)
    try:
        report = verify_api(
            client, verifiers, since=since, sample=args.sample, say=lambda m: print(f"  {m}")
        )
    finally:
        client.close()
    _check_witnesses(report.note, policy)
    save = Path(args.save) if args.save else since_path or Path("a6gw-api.checkpoint")
    save_checkpoint(save, report.note)
    cp = report.checkpoint
    print(f"OK: {cp.size} entries, root {cp.root.hex()}, origin {cp.origin} (API {args.api})")
    print(f"saved the checkpoint to {save} for the next --since")
    return 0


def verify_bundle_command(args: argparse.Namespace) -> int:
    from gateway.audit.bundle import CHECKPOINT_FILE, verify_bundle
    from gateway.audit.verify_signers import check_bundle_signers

    bundle = Path(args.bundle)
    if not bundle.is_dir():
        what = "is not a folder" if bundle.exists() else "does not exist"
        raise UsageProblem(f"the bundle {bundle} {what}")
    trusted = _vkeys(args.vkey)[0] if args.vkey else None  # the current key comes first
    policy = _witness_policy(args)
    since = _since(args.since)

    def progress(done: int, total: int) -> None:
        if total >= 10_000 and (done % 100_000 == 0 or done == total):
            print(f"  hashed {done:,}/{total:,} entries", file=sys.stderr, flush=True)

    report = verify_bundle(bundle, since=since, progress=progress, trusted_vkey=trusted)
    signers = check_bundle_signers(bundle)
    if trusted is None:
        print(UNPINNED, file=sys.stderr)
    pinned = "pinned key" if trusted else "the bundle's own key, not pinned"
    print(f"OK: {report.size} entries, root {report.root}, origin {report.origin} ({pinned})")
    if since:
        print(f"OK: consistent with the earlier checkpoint {since}")
    print(signers.text() if signers else "signers: not checked (a range bundle)")
    _check_witnesses((bundle / CHECKPOINT_FILE).read_bytes(), policy)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """0 verified, 1 does not verify, 2 nothing checked (see the module's docstring)."""
    try:
        if args.api:
            return verify_api_command(args)
        if not args.bundle:
            raise UsageProblem("give a bundle DIR, or --api URL")
        return verify_bundle_command(args)
    except UsageProblem as exc:
        print(f"a6gw verify: error: {exc}", file=sys.stderr)
        return 2
    except AuditError as exc:  # VerificationError and malformed bundle or answer
        print(f"FAIL: {exc}", file=sys.stderr)
        return 1
    except GatewayError as exc:  # the API could not be asked
        print(f"a6gw verify: error: {exc} (nothing was verified)", file=sys.stderr)
        return 2


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "verify",
        help="verify an audit bundle offline, or a live API",
        description="Verify an audit bundle (entries.ndjson, checkpoint, log.vkey) or a live "
        "auditors' API. Exit 0: verified; 1: does not verify (FAIL: ... on stderr); 2: "
        "nothing was checked (a usage error, an unreadable or malformed --vkey or --since "
        "file, a bundle path that is not a folder, an API that cannot be asked).",
    )
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
        "that the bundle is consistent with itself (a warning says so)",
    )
    p.add_argument(
        "--witness-key",
        action="append",
        metavar="FILE",
        help="a witness's verifier key (C2SP cosignature/v1, type 0x04; `a6gw witness keygen` "
        "writes it); repeatable, a file may hold several lines. The checkpoint then needs "
        "cosignatures by at least --min-witnesses of them",
    )
    p.add_argument(
        "--min-witnesses",
        type=int,
        metavar="K",
        help="valid cosignatures by distinct pinned witnesses the checkpoint needs (default 1 "
        "with --witness-key)",
    )
    add_api_client(p, "verify a live API instead of a bundle")
    p.add_argument(
        "--save", help="(--api) where to save the verified checkpoint (default: the --since file)"
    )
    p.add_argument(
        "--sample", type=int, default=16, help="(--api) random entries to prove (default 16)"
    )
    p.set_defaults(func=cmd_verify)
