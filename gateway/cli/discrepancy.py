"""``a6gw discrepancy``: list and show discrepancies, list reconciliation runs, and move a
discrepancy on with an operator's signed command.

Reading is local: the audit store of the config, by its index
(:mod:`gateway.services.discrepancies`).
A command is signed here (:func:`gateway.core.oversight.command_envelope`), checked as the
worker will check it, and published on ``a6.discrepancy.commands`` (or posted to the API with
``--api``, which checks it too); the command then waits for the audit entry it ends as and
prints the outcome (:mod:`gateway.services.commands`).

Exit codes of a command: 0 applied, 1 refused (a coded refusal: by the check before
publishing, or by the worker), 2 a usage error, 3 published but no outcome within --wait.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.audit.logstore import LogStore
from gateway.cli.options import add_api_client, add_config, add_json, config_of
from gateway.config import LoadedConfig
from gateway.core import discrepancy as dsc
from gateway.core.decision_time import iso_ms
from gateway.core.trust import Trust
from gateway.errors import CommandRefused
from gateway.services import discrepancies as dq
from gateway.services.commands import (
    USAGE,
    Channel,
    Check,
    direct_channel,
    send_command,
    usage_problem,
)


def now_utc() -> str:
    """The current time as the gateway writes times (UTC, milliseconds, ``Z``)."""
    return iso_ms(int(time.time() * 1000))


# -- rendering (pure) ----------------------------------------------------------------------


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Left-aligned columns; the last one is not padded."""
    lines = [list(header), *(list(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]]).rstrip()
        for line in lines
    )


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def list_text(found: Sequence[dq.Tracked]) -> str:
    if not found:
        return "no discrepancies"
    rows = [
        (
            t.discrepancy.id,
            t.discrepancy.status + (" (by hand)" if t.discrepancy.manual else ""),
            t.discrepancy.code,
            t.discrepancy.found_by,
            ",".join(t.discrepancy.registries),
            t.discrepancy.first_seen,
            _clip(t.discrepancy.summary),
        )
        for t in found
    ]
    header = ("id", "status", "code", "found by", "registries", "first seen", "summary")
    return table(header, rows)


def show_text(t: dq.Tracked) -> str:
    d = t.discrepancy
    owner = f", owned by {d.owner}" if d.owner else ""
    source = f" in {d.source_entry}" if d.source_entry else ""
    lines = [
        f"{d.id}  {d.code} ({d.severity}), {d.status}{owner}",
        f"found by {d.found_by}{source}, first seen {d.first_seen}",
        f"registries: {', '.join(d.registries) or '-'}",
    ]
    if d.blocks:
        lines.append("blocks: " + ", ".join(f"{c}:{o}:{s}-{e}" for c, o, s, e in d.blocks))
    if d.summary:
        lines.append(f"summary: {d.summary}")
    if d.resolution:
        lines.append(f"resolution{' (by hand)' if d.manual else ''}: {d.resolution}")
    lines.append("entries:")
    for s in t.steps:
        codes = f"  {', '.join(s.codes)}: {s.message}" if s.outcome == "refused" else ""
        by = f"  by {s.by}" if s.by else ""
        lines.append(f"  #{s.index:<8} {s.at}  {s.outcome:<12}{by}{codes}".rstrip())
    return "\n".join(lines)


def runs_text(runs: Sequence[dq.Run], tracked: Mapping[str, dq.Tracked]) -> str:
    if not runs:
        return "no reconciliation runs"
    rows = []
    for r in runs:
        states = [tracked[i].discrepancy.status for i in r.discrepancy_ids if i in tracked]
        resolved = sum(1 for s in states if s == "resolved")
        found = f"{resolved}/{len(states)} resolved" if states else "-"
        found += f", {r.pending} pending" if r.pending else ""
        rows.append((r.id, r.registry, r.decided_at, r.report_status, r.status, found))
    header = ("run", "registry", "decided at", "report status", "status now", "discrepancies")
    return table(header, rows)


# -- commands ------------------------------------------------------------------------------


def _store(args: argparse.Namespace) -> LogStore:
    from gateway.audit.open import open_store

    return open_store(config_of(args).audit_store(), readonly=True)


def _dump(doc: Any) -> None:
    print(json.dumps(doc, indent=2, sort_keys=True))


def cmd_list(args: argparse.Namespace) -> int:
    from gateway.api.discrepancy_routes import discrepancy_out

    store = _store(args)
    try:
        found = dq.select(
            dq.load_discrepancies(store).values(),
            status=args.status,
            code=args.code,
            registry=args.registry,
            found_by=args.found_by,
        )
    finally:
        store.close()
    if args.json:
        _dump([discrepancy_out(t).model_dump(mode="json") for t in found])
    else:
        print(list_text(found))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from gateway.api.discrepancy_routes import discrepancy_detail

    store = _store(args)
    try:
        found = dq.load_one(store, args.id)
    finally:
        store.close()
    if found is None:
        print(f"error: no discrepancy {args.id!r} in the audit log", file=sys.stderr)
        return USAGE
    if args.json:
        _dump(discrepancy_detail(found).model_dump(mode="json"))
    else:
        print(show_text(found))
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from gateway.api.discrepancy_routes import run_out

    store = _store(args)
    try:
        tracked = dq.load_discrepancies(store)
        runs = dq.load_runs(store, tracked)
    finally:
        store.close()
    if args.json:
        _dump(
            [
                run_out(r).model_dump(mode="json")
                | {"report": r.report.model_dump(mode="json", by_alias=True)}
                for r in runs
            ]
        )
    else:
        print(runs_text(runs, tracked))
    return 0


def checked(lc: LoadedConfig, discrepancy_id: str) -> Check:
    """The check the API makes before it publishes a command, the worker's own
    (:func:`gateway.api.discrepancy_routes.check_command`); what it refuses is a
    :class:`CommandRefused`."""
    from gateway.api.discrepancy_routes import check_command
    from gateway.errors import CommandProblem

    def check(body: bytes, trust: Trust) -> None:
        try:
            check_command(
                body,
                discrepancy_id,
                trust,
                now_ms=int(time.time() * 1000),
                max_bytes=lc.config.limits.max_message_bytes,
            )
        except CommandProblem as exc:
            raise CommandRefused(exc.code, str(exc.args[0])) from exc

    return check


def api_channel(args: argparse.Namespace, discrepancy_id: str) -> Channel:
    """Posted to the API (which checks it and publishes it); the entry read from the API."""
    from gateway.api.client import AuditClient
    from gateway.errors import ApiProblem
    from gateway.http.tls import client_tls

    client = AuditClient(
        args.api, client_tls(args.ca, args.cert, args.key), token=args.token or None
    )

    def send(body: bytes) -> None:
        try:
            client.send_command(discrepancy_id, body)
        except ApiProblem as exc:
            if exc.problem_code.startswith(("MSG-", "REC-")):
                raise CommandRefused(exc.problem_code, exc.detail) from exc
            raise

    def lookup(entry_id: str) -> bytes | None:
        found = client.find_entry(entry_id)
        return None if found is None else found.body.encode("utf-8")

    return Channel(send, lookup, client.close)


def cmd_command(args: argparse.Namespace) -> int:
    from gateway.core.oversight import command_envelope
    from gateway.core.signing import load_private_key_pem

    lack = usage_problem(args.action, args.note, args.correction)
    if lack:
        print(f"error: {lack}", file=sys.stderr)
        return USAGE
    if args.api and not args.ca:
        print("error: --api needs --ca FILE: the CA of the API's certificate", file=sys.stderr)
        return USAGE
    lc = config_of(args)
    try:
        pem = Path(args.signing_key).read_bytes()
    except OSError as exc:
        print(f"error: cannot read --signing-key {args.signing_key}: {exc}", file=sys.stderr)
        return USAGE
    body = command_envelope(
        load_private_key_pem(pem),
        key_id=args.key_id,
        principal=args.principal,
        discrepancy_id=args.id,
        action=args.action,
        time=now_utc(),
        note=args.note,
        correction=args.correction,
    )
    channel = (
        api_channel(args, args.id)
        if args.api
        else direct_channel(lc, args.id, checked(lc, args.id))
    )
    try:
        return send_command(body, channel, args.wait, print)
    finally:
        channel.close()


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "discrepancy",
        help="list, show and move on discrepancies; list reconciliation runs",
        description="Discrepancies are opened by reconciliation runs, by decisions on "
        "notifications whose checks failed, and by parked deliveries; an operator moves one "
        "on with a signed command: acknowledge (open → acknowledged), resolve (→ resolved, "
        "with a note), resolve-by-hand (→ resolved, with a note and the operator's "
        "correction: the DES manual intervention). Every step is an audit entry.",
    )
    dsub = p.add_subparsers(dest="discrepancy_command", metavar="ACTION", required=True)

    def config(q: argparse.ArgumentParser) -> None:
        add_config(q)
        add_json(q, "as JSON (the API's answer)")

    q = dsub.add_parser("list", help="discrepancies as they stand, in the order they were opened")
    config(q)
    q.add_argument("--status", choices=("open", "acknowledged", "resolved"))
    q.add_argument("--code", help="what was found, e.g. REC-002 or DLV-001")
    q.add_argument("--registry", help="a registry involved, e.g. JPN01")
    q.add_argument("--found-by", choices=dsc.FOUND_BY)
    q.set_defaults(func=cmd_list)

    q = dsub.add_parser("show", help="one discrepancy and every audit entry about it")
    q.add_argument("id", metavar="ID", help="the discrepancy id (dsc-…)")
    config(q)
    q.set_defaults(func=cmd_show)

    q = dsub.add_parser(
        "runs",
        help="reconciliation runs, newest first, with their status after their discrepancies",
        description="A run that found differences is completed once all its discrepancies "
        "are resolved, completed-with-manual-intervention if one was resolved by hand.",
    )
    config(q)
    q.set_defaults(func=cmd_runs)

    for action, text in (
        ("acknowledge", "take a discrepancy on (open → acknowledged)"),
        ("resolve", "resolve a discrepancy, with a --note saying how"),
        ("resolve-by-hand", "resolve a discrepancy by an operator's --correction"),
    ):
        q = dsub.add_parser(
            action,
            help=text,
            description=f"Sign the command '{action}' with an operator key, check it, publish "
            "it on a6.discrepancy.commands (or post it to the API with --api), and wait for "
            "the audit entry it ends as. Exit codes: 0 applied, 1 refused (e.g. REC-102 not "
            "allowed from the discrepancy's status), 2 usage error, 3 no outcome within "
            "--wait.",
        )
        q.add_argument("id", metavar="ID", help="the discrepancy id (dsc-…)")
        add_config(q)
        q.add_argument(
            "--signing-key",
            required=True,
            metavar="PEM",
            help="the operator's Ed25519 private key (PKCS#8 PEM)",
        )
        q.add_argument(
            "--key-id", required=True, metavar="KID", help="the key's id in the trust file"
        )
        q.add_argument(
            "--as",
            dest="principal",
            required=True,
            metavar="PRINCIPAL",
            help="the key's principal (who acts; the command's source)",
        )
        q.add_argument("--note", default="", help="how it was resolved (resolve, by hand)")
        q.add_argument(
            "--correction", default="", help="what the operator changed, and where (by hand)"
        )
        q.add_argument(
            "--wait",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="how long to wait for the outcome (default 30; 0: do not wait)",
        )
        add_api_client(q, "post to the auditors' API instead of Kafka")
        q.set_defaults(func=cmd_command, action=action)
