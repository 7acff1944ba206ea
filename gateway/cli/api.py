"""Commands of the HTTPS servers and their PKI: ``a6gw api``, ``a6gw ingress``,
``a6gw pki init`` (``a6gw verify --api`` is :mod:`gateway.cli.verify`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gateway import logs
from gateway.cli.config import started
from gateway.cli.options import add_config, add_metrics_port, metrics_port_of
from gateway.config import LoadedConfig
from gateway.transport.clients import clients_for


def cmd_api(args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.api.access import access_of
    from gateway.api.discrepancy_routes import KafkaPublisher
    from gateway.api.server import AuditAPI, make_app, readiness, server_tls
    from gateway.audit.open import open_store
    from gateway.observe.server import attach
    from gateway.redaction import protect_config

    logs.configure_from(args)
    lc: LoadedConfig = started(args, "api", api_read_only=args.read_only)
    protect_config(lc)
    cfg = lc.config
    store = open_store(lc.audit_store())
    sources: dict[str, tuple[str, ...]] = {}  # Party code: its registries
    for reg in cfg.registries:
        sources[reg.party] = (*sources.get(reg.party, ()), reg.id)
    verifiers = [lc.load_log_key().verifier(), *lc.previous_log_verifiers()]
    publisher = None if args.read_only else KafkaPublisher(clients_for(lc, "api"))
    api = AuditAPI(
        store,
        verifiers,
        sources,
        parties={p.code: p for p in cfg.parties},
        publisher=publisher,
        trust=lc.load_trust(),
        max_command_bytes=cfg.limits.max_message_bytes,
        witnesses=lc.witness_keys(),
        quorum=cfg.witness_quorum,
    )
    access = access_of(cfg.api)
    tls = server_tls(
        str(lc.path(cfg.api.cert_file)),
        str(lc.path(cfg.api.key_file)),
        str(lc.path(cfg.api.client_ca_file)),
    )
    host, port = args.host or cfg.api.host, args.port or cfg.api.port
    app = make_app(api, access)
    if publisher is not None:

        async def start(_app: web.Application) -> None:
            await publisher.start()

        async def stop(_app: web.Application) -> None:
            await publisher.stop()

        app.on_startup.append(start)
        app.on_cleanup.append(stop)
    metrics_port = metrics_port_of(args, cfg.metrics.api_port)
    attach(app, cfg.metrics.host, metrics_port, readiness(api, publisher), what="a6gw api")
    mode = "read-only" if publisher is None else f"commands to {cfg.kafka.bootstrap}"
    print(f"a6gw api: serving https://{host}:{port}/v1/ ({mode}; Ctrl-C to stop)", flush=True)
    # access_log=None: the app logs each request itself (gateway.http.access_log)
    web.run_app(app, host=host, port=port, ssl_context=tls, print=None, access_log=None)
    return 0


def cmd_ingress(args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.ingress import KafkaSend, ingress_from_config, ingress_tls, make_app, readiness
    from gateway.observe.server import attach
    from gateway.redaction import protect_config

    logs.configure_from(args)
    lc: LoadedConfig = started(args, "ingress")
    protect_config(lc)
    cfg = lc.config.connectors
    send = KafkaSend(clients_for(lc, "ingress"), lc.load_mac_key())
    ingress = ingress_from_config(lc, send)
    if not ingress.registry_of_cn:
        print("error: no registry is configured with transport: https", file=sys.stderr)
        return 2
    tls = ingress_tls(
        str(lc.path(cfg.ingress_cert_file)),
        str(lc.path(cfg.ingress_key_file)),
        str(lc.path(cfg.ca_file)),
    )
    app = make_app(ingress, send.close)
    metrics_port = metrics_port_of(args, lc.config.metrics.ingress_port)
    attach(app, lc.config.metrics.host, metrics_port, readiness(ingress, send), what="a6gw ingress")
    host, port = args.host or cfg.ingress_host, args.port or cfg.ingress_port
    names = ", ".join(sorted(ingress.registry_of_cn.values()))
    print(f"a6gw ingress: https://{host}:{port}/v1/events for {names}", flush=True)
    # access_log=None: the app logs each request itself (gateway.http.access_log)
    web.run_app(app, host=host, port=port, ssl_context=tls, print=None, access_log=None)
    return 0


def cmd_pki_init(args: argparse.Namespace) -> int:
    from gateway.http.pki import init_pki

    root = Path(args.dir)
    if (root / "ca.pem").exists() and args.keep_existing:
        print(f"{root / 'ca.pem'} exists; left as it is")
        return 0
    if (root / "ca.pem").exists() and not args.force:
        print(f"error: {root / 'ca.pem'} exists (use --force to replace the PKI)", file=sys.stderr)
        return 2
    init_pki(root, tuple(args.clients))
    names = ", ".join(["server", *args.clients])
    print(f"wrote ca.pem and certificates for {names} in {root}")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "api",
        help="serve the auditors' HTTPS API",
        description="Serve checkpoints, entries, search, inclusion and consistency proofs, "
        "chains of custody, discrepancies, reconciliation runs, and each Party's structured "
        "summary and AEF over HTTPS. Clients "
        "authenticate with a client certificate (common name listed in api.clients) or a "
        "bearer token (api.token_sha256). POST /v1/discrepancies/{id}/commands takes an "
        "operator's signed command, checks it against the trust file and puts it on "
        "a6.discrepancy.commands (kafka.bootstrap); --read-only answers it 503.",
    )
    add_config(p)
    p.add_argument("--host", help="listen address (default: api.host)")
    p.add_argument("--port", type=int, help="listen port (default: api.port)")
    p.add_argument(
        "--read-only",
        action="store_true",
        help="no Kafka producer: discrepancy commands are answered 503 API-READONLY",
    )
    logs.add_arguments(p)
    add_metrics_port(p, "metrics.api_port", "; the API's own port serves only the API")
    p.set_defaults(func=cmd_api)

    p = sub.add_parser(
        "ingress",
        help="serve the HTTPS ingress where partner registries post signed events",
        description="Accept signed events from registries configured with transport https "
        "(mutual TLS; RFC 9421 signatures) and put them on their a6.in.<registry-id> topic.",
    )
    add_config(p)
    p.add_argument("--host", help="listen address (default: connectors.ingress_host)")
    p.add_argument("--port", type=int, help="listen port (default: connectors.ingress_port)")
    logs.add_arguments(p)
    add_metrics_port(p, "metrics.ingress_port")
    p.set_defaults(func=cmd_ingress)

    p = sub.add_parser("pki", help="a local test PKI (CA, server and client certificates)")
    psub = p.add_subparsers(dest="pki_command", metavar="ACTION", required=True)
    i = psub.add_parser("init", help="create a CA with server and client certificates")
    i.add_argument("dir", metavar="DIR")
    i.add_argument(
        "--clients",
        nargs="*",
        default=["auditor", "a6gw-gateway", "JPN01", "MNG01", "IDN01"],
        help="client certificate identities (default: auditor and the demo registries)",
    )
    i.add_argument("--force", action="store_true", help="replace an existing PKI")
    i.add_argument(
        "--keep-existing", action="store_true", help="do nothing if DIR already has a CA"
    )
    i.set_defaults(func=cmd_pki_init)
