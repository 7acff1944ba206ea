"""``a6gw reconcile``: one DES-style snapshot reconciliation of a registry, with its record.

The gateway's view comes from the audit log alone: the latest state of every block the
decisions left (held units of the registry), account types from its ``account.opened``
decisions. The registry's view is its holdings snapshot: pulled over HTTPS from a partner
registry (paged, signed, mutual TLS), or read from a file a Kafka registry exported. The
pure comparison is :func:`gateway.core.reconcile.reconcile`; for the ranges that differ,
phase 3 looks up their audit trail (the entries that touched them) with the store's serial
search. The run ends as an audit entry (``reconciliation``: status, codes, counts) and one
discrepancy record per difference on ``a6.discrepancies``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from gateway.audit.logstore import LogStore
from gateway.audit.search import Query, SerialRange
from gateway.config import LoadedConfig
from gateway.core import discrepancy as dsc
from gateway.core.canonical import canonical_bytes, sha256_hex
from gateway.core.decision import reconciliation_entry
from gateway.core.decision_time import iso_ms
from gateway.core.reconcile import (
    BlockDiff,
    CellDiff,
    Holding,
    Report,
    holdings_from_blocks,
    reconcile,
)
from gateway.core.topics import AUDIT_TOPIC, FINDINGS_TOPIC
from gateway.errors import ConfigError, ReconciliationError
from gateway.services.entries import read_entries
from gateway.services.keys import gateway_signer
from gateway.services.partners import partner_clients
from gateway.services.snapshots import pages_of
from gateway.transport.clients import clients_for
from gateway.transport.publish import publish
from schemas.entries import DecisionEntry
from schemas.entry_parts import BlockRecord

Say = Callable[[str], None]


def gateway_view(
    entries: Iterable[bytes], registry: str
) -> tuple[list[Holding], dict[tuple[str, str], str]]:
    """The registry's held units as the audit log has them, and the account types."""
    latest: dict[tuple[str, str, str], BlockRecord] = {}
    types: dict[tuple[str, str], str] = {}
    for entry in read_entries(entries):
        if not isinstance(entry, DecisionEntry):
            continue
        account = entry.account
        if account is not None and entry.outcome in ("recorded", "accepted"):
            types[(account.registry, account.account_id)] = account.account_type
        for b in entry.blocks:
            latest[(b.ca_id, b.origin, b.start)] = b
    mine = [b.model_dump(mode="json") for b in latest.values() if b.registry == registry]
    return holdings_from_blocks(mine, types), types


def snapshot_holdings(
    rows: Iterable[Mapping[str, Any]], registry: str, types: Mapping[tuple[str, str], str]
) -> list[Holding]:
    """A registry's snapshot rows (account_id, ca_id, origin, serial_start, serial_end,
    unit_type, vintage) as holdings; account types as the gateway knows them."""
    return [
        Holding(
            registry,
            str(r["account_id"]),
            types.get((registry, str(r["account_id"])), "unknown"),
            str(r["ca_id"]),
            str(r["origin"]),
            int(r["vintage"]),
            str(r["unit_type"]),
            int(r["serial_start"]),
            int(r["serial_end"]),
        )
        for r in rows
    ]


def _snapshot_file(path: Path) -> tuple[bytes, Any]:
    """The bytes and rows of a snapshot file (``--snapshot``): a JSON list, or ``{"rows"}``.

    :raises ReconciliationError: (RECON-001) when it cannot be read or is not such JSON.
    """
    try:
        data = path.read_bytes()
        doc = json.loads(data)
        return data, doc["rows"] if isinstance(doc, dict) else doc
    except (OSError, ValueError, KeyError) as exc:
        what = exc.strerror if isinstance(exc, OSError) else f"not a snapshot ({exc!r})"
        raise ReconciliationError(f"cannot use the snapshot {path}: {what}") from exc


async def pull_snapshot(lc: LoadedConfig, registry: str) -> list[dict[str, Any]]:
    """The holdings snapshot of an HTTPS partner, all pages."""
    signer = gateway_signer(lc)
    clients = partner_clients(lc, signer.key_id, signer.key)
    if registry not in clients:
        raise ConfigError(f"{registry} is not an HTTPS registry; give --snapshot FILE")
    try:
        return await clients[registry].fetch_holdings()
    finally:
        for client in clients.values():
            await client.aclose()


def trail(store: LogStore, report: Report, limit: int = 50) -> dict[str, list[int]]:
    """Phase 3: the leaf indices of the entries that touched each differing range."""
    out: dict[str, list[int]] = {}
    for ca_id, origin, start, end in report.trail:
        found = store.search(Query(serials=SerialRange(ca_id, origin, start, end)), -1, limit)
        out[f"{ca_id}:{origin}:{start}-{end}"] = found
    return out


def records(
    registry: str, report: Report, at_ms: int, source: Mapping[str, Any] | None = None
) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of the run's audit entry and of one discrepancy per difference;
    ``source`` says where the snapshot came from (a file's digest, the signed pages)."""
    entry = reconciliation_entry(registry, report, at_ms, source)
    run_id = str(entry["entry_id"])
    out = [(AUDIT_TOPIC, run_id.encode(), canonical_bytes(entry))]
    diffs: list[CellDiff | BlockDiff] = [*report.cell_diffs, *report.block_diffs]
    for n, diff in enumerate(diffs):
        found = finding(registry, run_id, n, diff, iso_ms(at_ms))
        out.append((FINDINGS_TOPIC, found.id.encode(), canonical_bytes(dsc.record(found))))
    return out


def finding(
    registry: str, run_id: str, n: int, diff: CellDiff | BlockDiff, at: str
) -> dsc.Discrepancy:
    """The discrepancy of a run's ``n``-th difference."""
    if isinstance(diff, CellDiff):
        blocks: tuple[dsc.BlockRef, ...] = ()
        summary = (
            f"{registry}: total of cell {'/'.join(map(str, diff.cell))} is {diff.theirs} "
            f"at the registry, {diff.ours} in the gateway's log"
        )
        registries: tuple[str, ...] = (registry,)
    else:
        blocks = ((diff.ca_id, diff.origin, diff.start, diff.end),)
        summary = (
            f"{registry}: serials {diff.ca_id}:{diff.origin}:{diff.start}-{diff.end} {diff.kind}"
        )
        named = {p[0] for p in (*diff.ours, *diff.theirs)}
        registries = (registry, *sorted(named - {registry}))
    return dsc.Discrepancy(
        id=dsc.discrepancy_id("reconciliation", run_id, n),
        code=diff.code,
        severity="error",
        registries=registries,
        blocks=blocks,
        first_seen=at,
        found_by="reconciliation",
        source_entry=run_id,
        summary=summary,
        detail=diff.to_dict(),
    )


def run(
    lc: LoadedConfig,
    store: LogStore,
    registry: str,
    *,
    snapshot: Path | None,
    say: Say,
    record: bool = True,
    request: str | None = None,
    wait_s: float = 300.0,
) -> tuple[Report, dict[str, list[int]]]:
    """One reconciliation of ``registry``; returns the report and the phase-3 trail.

    The registry's snapshot: ``snapshot`` (a file), else pulled from an HTTPS partner, else
    asked of a Kafka registry (or, with ``request``, the pages it already sent for that
    reconciliation id), waiting up to ``wait_s`` for them.
    """
    say("status: initiated")
    t0 = time.monotonic()
    ours, types = gateway_view(store.entries(), registry)
    say(f"gateway view: {len(ours)} blocks held at {registry} (from {store.size()} entries)")
    reg = lc.config.registry(registry)
    source: dict[str, Any]
    if snapshot is not None:
        data, rows = _snapshot_file(snapshot)
        source = {"from": "file", "sha256": sha256_hex(data)}
    elif reg is not None and reg.transport == "https":
        rows = asyncio.run(pull_snapshot(lc, registry))
        source = {"from": "https"}
    else:
        rec_id, rows, pages = pages_of(lc, registry, rec_id=request, timeout_s=wait_s, say=say)
        source = {"from": "kafka", "reconciliation_id": rec_id, "pages": pages}
    theirs = snapshot_holdings(rows, registry, types)
    say(f"registry snapshot: {len(theirs)} blocks")
    report = reconcile(ours, theirs)
    say(
        f"phase 1 (totals): {report.cells_compared} cells, {len(report.cell_diffs)} differ; "
        f"phase 2 (blocks): {report.blocks_compared} compared, {len(report.block_diffs)} differ"
    )
    found = trail(store, report)
    say(f"phase 3 (audit trail): {sum(len(v) for v in found.values())} entries for "
        f"{len(found)} ranges")  # fmt: skip
    if record:
        items = records(registry, report, int(time.time() * 1000), source)
        asyncio.run(publish(clients_for(lc, "reconcile"), items, mac_key=lc.load_mac_key()))
        say(f"recorded: 1 audit entry and {len(items) - 1} discrepancies")
    say(f"status: {report.status} ({time.monotonic() - t0:.1f} s)")
    return report, found
