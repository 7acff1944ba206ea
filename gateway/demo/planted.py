"""The demo's planted inconsistencies, found by snapshot reconciliation.

- IDN01 (the HTTPS partner) serves a holdings snapshot that differs from the audit log by one
  block: the last 100 units of its participant account's issuance are missing (REC-001 for
  the cell's total, REC-002 for the units);
- JPN01 (a Kafka registry) exports a snapshot that misses an acquisition: the units MNG01
  transferred to JP-GOV-1 and Japan has not retired (REC-001, REC-002).

Each is pulled or read, reconciled in three phases and recorded (an audit entry and one
discrepancy per difference), and the demo checks that exactly the planted codes are found.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.audit.logstore import LogStore
from gateway.config import LoadedConfig
from gateway.demo.https import HttpsPartner
from gateway.reconciliation import gateway_view, run

Say = Callable[[str], None]


def snapshot_rows(store: LogStore, registry: str) -> list[dict[str, Any]]:
    """The registry's holdings exactly as the audit log has them, as snapshot rows."""
    holdings, _types = gateway_view(store.entries(), registry)
    return [
        {
            "account_id": h.account,
            "ca_id": h.ca_id,
            "origin": h.origin,
            "serial_start": str(h.start),
            "serial_end": str(h.end),
            "unit_type": h.unit_type,
            "vintage": h.vintage,
        }
        for h in sorted(holdings, key=lambda h: (h.account, h.ca_id, h.origin, h.start))
    ]


def plant_and_reconcile(
    lc: LoadedConfig, store: LogStore, https: HttpsPartner, workdir: Path, say: Say
) -> list[str]:
    """Plant both inconsistencies, reconcile both registries; returns what went wrong."""
    problems: list[str] = []
    # IDN01: one block short by its last 100 units.
    rows = snapshot_rows(store, "IDN01")
    biggest = max(rows, key=lambda r: int(r["serial_end"]) - int(r["serial_start"]))
    biggest["serial_end"] = str(int(biggest["serial_end"]) - 100)
    https.sim.holdings = rows
    say("IDN01's partner registry now reports one block 100 units short; reconciling it")
    report, _ = run(lc, store, "IDN01", snapshot=None, say=lambda m: say(f"  IDN01 {m}"))
    if report.codes != ["REC-001", "REC-002"]:
        problems.append(f"IDN01: found {report.codes}, planted REC-001 and REC-002")
    # JPN01: its export misses the acquisition from MNG01.
    rows = [r for r in snapshot_rows(store, "JPN01") if r["origin"] != "MNG01"]
    snapshot = workdir / "JPN01-holdings.json"
    snapshot.write_text(json.dumps({"rows": rows}, indent=1), encoding="utf-8")
    say("JPN01's holdings export misses the units it acquired from MNG01; reconciling it")
    report, found = run(lc, store, "JPN01", snapshot=snapshot, say=lambda m: say(f"  JPN01 {m}"))
    if report.codes != ["REC-001", "REC-002"]:
        problems.append(f"JPN01: found {report.codes}, planted REC-001 and REC-002")
    if not any(found.values()):
        problems.append("JPN01: phase 3 found no audit trail for the missing units")
    return problems
