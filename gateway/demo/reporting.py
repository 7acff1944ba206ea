"""The demo's Article 6 reporting: structured summaries checked, AEF reports exported.

For each Party, rows 5 and 7-14 of its structured summary (CTF Table 4) are computed from
the log by its corresponding-adjustment method and checked against the rows it reported:
Japan's 2025 rows agree; Mongolia's row 7 for the current year leaves out one first
transfer, a CTF-001
discrepancy naming the row and the blocks behind it. Each Party's AEF for the demo's year
is then exported (CSV, JSON and XLSX), after its holdings roll forward.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.audit.store import AuditStore
from gateway.config import LoadedConfig
from gateway.core import summary as sm
from gateway.core import summary_log as sl
from gateway.core.aef_write import write
from gateway.core.topics import AUDIT_TOPIC
from gateway.errors import GatewayError
from gateway.services import discrepancies as dq
from gateway.services.entries import read_entries
from gateway.services.report_log import from_bundle
from gateway.services.reporting import (
    aef_at,
    method_of,
    records,
    results,
    text,
    today_utc,
    write_files,
)
from gateway.transport.clients import clients_for
from gateway.transport.publish import publish
from gateway.worker.process import WorkerProcess

Say = Callable[[str], None]


def expected(year: int) -> dict[str, list[tuple[int, str, str]]]:
    """What each Party's check must find, the demo running in ``year``: (year, code, row)."""
    return {"JPN": [], "MNG": [(year, "CTF-001", "R7")], "IDN": []}


def _entries(store: AuditStore) -> list[dict[str, Any]]:
    return [json.loads(b) for b in store.entries()]


def check_summaries(
    lc: LoadedConfig, store: AuditStore, worker: WorkerProcess, say: Say
) -> list[str]:
    """Check every Party's reported rows; returns what did not end as planted."""
    problems: list[str] = []
    entries = _entries(store)
    items: list[tuple[str, bytes, bytes]] = []
    at_ms = int(time.time() * 1000)
    for party in lc.config.parties:
        method = method_of(party)
        facts = sl.collect(entries, party.code)
        rs = results(facts, method, sm.default_years(facts, method), check=True)
        shown = [r for r in rs if r.reported is not None]
        say(
            f"structured summary of {party.code} ({party.ca_method}, by {party.ca_year} "
            f"year): {len(rs)} years computed, {len(shown)} reported"
        )
        for line in text(shown).splitlines():
            say(f"  {line}")
        found = [(r.summary.year, f.code, f.row) for r in rs for f in r.findings]
        if found != expected(datetime.now(UTC).year).get(party.code, []):
            problems.append(f"summary of {party.code}: found {found}")
        registries = [r.id for r in lc.config.registries if r.party == party.code]
        items += records(rs, at_ms, registries)
    asyncio.run(publish(clients_for(lc, "summary"), items, mac_key=lc.load_mac_key()))
    want = sum(1 for topic, _, _ in items if topic != AUDIT_TOPIC)
    deadline = time.monotonic() + 60
    while True:
        logged = dq.states(read_entries(store.entries()))
        opened = [d for d in logged.values() if d.found_by == "summary"]
        if len(opened) >= want:
            break
        worker.check_alive()
        if time.monotonic() > deadline:
            raise GatewayError("the summary's discrepancies were not logged", code="DEMO-LOG")
        time.sleep(0.3)
    for d in opened:
        blocks = ", ".join(f"{c}:{o}:{s}-{e}" for c, o, s, e in d.blocks)
        say(f"discrepancy {d.code} ({', '.join(d.registries)}): {d.summary}; blocks {blocks}")
    return problems


def export_aefs(lc: LoadedConfig, bundle: Path, workdir: Path, say: Say) -> list[str]:
    """Each Party's AEF for the current year, in the three formats, recomputed from the
    exported audit bundle alone (its checkpoint, the Parties' settings it records), as an
    auditor would; returns the problems."""
    problems: list[str] = []
    log = from_bundle(bundle, trusted_vkey=lc.load_log_key().public_vkey())
    year = datetime.now(UTC).year
    for party in lc.config.parties:
        try:
            rf, aef, stamp = aef_at(log, party.code, None, year=year, submitted=today_utc())
        except GatewayError as exc:
            problems.append(f"AEF of {party.code}: {exc}")
            continue
        out = workdir / "aef" / party.code
        written = []
        for fmt in ("csv", "json", "xlsx"):
            written += write_files(out, write(aef, fmt, stamp))
        counts = ", ".join(f"{name} {len(rows)}" for name, rows in aef.tables.items())
        say(
            f"AEF {party.code} {year} at checkpoint size {log.size} (from the bundle): {counts}; "
            f"holdings roll forward on {len(rf.lines)} keys; {len(written)} files in {out}"
        )
    return problems
