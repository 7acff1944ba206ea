"""``a6gw witness serve`` and ``a6gw witness keygen``: a C2SP tlog-witness (docs/witness.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway import logs

SERVE = """\
Serve the C2SP tlog-witness add-checkpoint endpoint over HTTPS.

For each log of the config (its origin and its key), the witness keeps the latest
checkpoint it cosigned in its state file. It cosigns a new checkpoint only when the log's
key signed it and a consistency proof shows it extends that latest one; it answers
otherwise with the spec's status: 404 unknown origin, 403 no valid signature by the log's
key, 400 old size larger than the checkpoint's, 409 old size not the latest cosigned (the
body is that size), 422 the proof does not verify (or the same size with another root).

endpoints:
  POST <prefix>/add-checkpoint                  cosign a checkpoint (tlog-witness)
  GET  <prefix>/<sha256 hex of origin>/checkpoint  the latest cosigned checkpoint
"""

KEYGEN = """\
Write a new witness signing key (Ed25519, mode 0600) and print its verifier key.

The verifier key (name+keyid+base64(0x04 || public key), C2SP tlog-cosignature) is what
readers pin with `a6gw verify --witness-key`; it is also written to KEY_FILE.vkey. Give
each witness its own key, never the log's.
"""


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.witness.config import load_witness_config
    from gateway.witness.server import Witness, make_app, witness_tls

    logs.configure_from(args)
    lc = load_witness_config(Path(args.config))
    cfg = lc.config
    key = lc.load_key()
    tls = witness_tls(
        str(lc.path(cfg.tls.cert_file)),
        str(lc.path(cfg.tls.key_file)),
        None if cfg.tls.client_ca_file is None else str(lc.path(cfg.tls.client_ca_file)),
        cfg.tls.require_client,
    )
    witness = Witness(key, lc.logs(), lc.path(cfg.witness.state_file))
    host = args.host or cfg.listen.host
    port = cfg.listen.port if args.port is None else args.port
    app = make_app(witness, cfg.listen.prefix)
    origins = ", ".join(lc.logs())
    print(
        f"a6gw witness {key.name}: https://{host}:{port}{cfg.listen.prefix}/add-checkpoint "
        f"for {origins}\n{key.vkey()}",
        flush=True,
    )
    try:  # access_log=None: the app logs each request itself (gateway.http.access_log)
        web.run_app(app, host=host, port=port, ssl_context=tls, print=None, access_log=None)
    except OSError as exc:  # the port is taken, the address is not ours
        print(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


def cmd_keygen(args: argparse.Namespace) -> int:
    from gateway.audit.cosignature import WitnessKey

    out = Path(args.out)
    vkey_path = out.with_name(out.name + ".vkey")
    if out.exists() and not args.force:
        print(f"error: {out} exists (use --force to replace it)", file=sys.stderr)
        return 2
    key = WitnessKey.generate(args.name)
    key.key.save(out, overwrite=args.force)
    vkey_path.write_text(key.vkey() + "\n", encoding="utf-8")
    print(key.vkey())
    print(f"wrote {out} (secret, 0600) and {vkey_path}", file=sys.stderr)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("witness", help="a C2SP tlog-witness that cosigns the log's checkpoints")
    wsub = p.add_subparsers(dest="witness_command", metavar="ACTION", required=True)
    s = wsub.add_parser(
        "serve",
        help="serve the add-checkpoint endpoint over HTTPS",
        description=SERVE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--config", required=True, help="the witness config (YAML; docs/witness.md)")
    s.add_argument("--host", help="listen on this address (default: listen.host)")
    s.add_argument("--port", type=int, help="listen on this port (default: listen.port)")
    logs.add_arguments(s)
    s.set_defaults(func=cmd_serve)
    k = wsub.add_parser(
        "keygen",
        help="write a new witness key and print its verifier key",
        description=KEYGEN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    k.add_argument("--name", required=True, help="the witness's name, e.g. witness.example/jp")
    k.add_argument("--out", required=True, metavar="KEY_FILE", help="where to write the key")
    k.add_argument("--force", action="store_true", help="replace an existing key file")
    k.set_defaults(func=cmd_keygen)
