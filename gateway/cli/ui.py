"""``a6gw ui``: the auditors' page on the auditor's own machine, forwarding to the API."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway import logs
from gateway.errors import ConfigError

DESCRIPTION = """\
Serve the auditors' page (the files packaged with a6gw) at http://HOST:PORT/ui/ and forward
its /v1/ requests to the auditors' API at --api. The page checks every checkpoint
signature, inclusion and consistency proof in the browser, so the code doing the checking
comes from your own installation, not from the server being audited; the forwarder only
moves bytes.

The API is asked with your client certificate (--cert and --key, mutual TLS) or with a
bearer token read from --token-file; with neither, the token you paste into the page is
passed on. --cacert is the CA that signed the API's server certificate (default: the
system's CAs). The API is asked for its checkpoint once before serving: a server that
cannot be reached, a certificate it refuses or a TLS failure stops the command (exit 2).

The server answers only requests that name the address it listens on (Host header), so
another web page cannot borrow your credentials through it. Keep the default loopback
address: anyone who can reach the port reads the API as you.
"""

EXAMPLES = """\
examples:
  a6gw ui --api https://api.example:8443 --cacert ca.pem --cert auditor.pem --key auditor.key
  a6gw ui --api https://api.example:8443 --cacert ca.pem --token-file ~/.a6gw-token
  then open http://127.0.0.1:8088/ui/
"""


def _token(path: str) -> str:
    """The bearer token in ``path`` (surrounding whitespace dropped).

    :raises ConfigError: (A6-CFG-002) when the file cannot be read or holds no token.
    """
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the token file {path}: {exc}", code="A6-CFG-002") from exc
    if not token or any(c.isspace() for c in token):
        raise ConfigError(f"the token file {path} does not hold one token", code="A6-CFG-002")
    return token


def cmd_ui(args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.ui import STATIC
    from gateway.ui.serve import (
        PREFIX,
        Upstream,
        allowed_hosts,
        client_context,
        load_page,
        make_app,
        probe,
    )

    logs.configure_from(args)
    api = args.api.rstrip("/")
    if not api.startswith("https://"):
        print(
            "a6gw ui: error: --api must be an https:// URL (the API serves TLS only)",
            file=sys.stderr,
        )
        return 2
    if args.key and not args.cert:
        print("a6gw ui: error: --key needs --cert", file=sys.stderr)
        return 2
    tls = client_context(args.cacert, args.cert, args.key)
    token = _token(args.token_file) if args.token_file else None
    upstream = Upstream(api, tls, token, timeout=args.timeout)
    answered = probe(upstream, client_cert=args.cert is not None)
    files = load_page(STATIC)
    hosts = allowed_hosts(args.host, args.port)
    if hosts is None:
        print(
            f"a6gw ui: warning: listening on {args.host}: anyone who can reach port "
            f"{args.port} reads the API with these credentials",
            file=sys.stderr,
        )
    how = "client certificate" if args.cert else "token file" if token else "the page's token"
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"a6gw ui: the auditors' page at http://{shown}:{args.port}{PREFIX}/ "
        f"(forwarding /v1/ to {api} with {how}; the API answered {answered}; Ctrl-C to stop)",
        flush=True,
    )
    app = make_app(files, upstream, hosts)
    # access_log=None: the app logs each request itself (gateway.http.access_log)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ui",
        help="serve the auditors' web page locally, forwarding to the auditors' API",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--api", required=True, metavar="URL", help="the auditors' API, e.g. https://host:8443"
    )
    p.add_argument("--cacert", metavar="FILE", help="CA of the API's server certificate (PEM)")
    creds = p.add_mutually_exclusive_group()
    creds.add_argument("--cert", metavar="FILE", help="your client certificate (PEM)")
    creds.add_argument(
        "--token-file", metavar="FILE", help="a file holding your bearer token for the API"
    )
    p.add_argument("--key", metavar="FILE", help="the client certificate's key (PEM)")
    p.add_argument(
        "--host", default="127.0.0.1", help="listen address (default: 127.0.0.1, this machine)"
    )
    p.add_argument("--port", type=int, default=8088, help="listen port (default: 8088)")
    p.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a request to the API may take (default: 60)",
    )
    logs.add_arguments(p)
    p.set_defaults(func=cmd_ui)
