"""Article 6 reporting from the audit log: a Party's AEF and its BTR structured summary.

The AEF (``a6gw aef export``, ``GET /v1/aef``): the holdings must roll forward (I-AEF-1:
last year's holdings + what came in - what went out = this year's, per cooperative
approach, authorization and vintage) before the five tables (:mod:`gateway.core.aef`) are
built; :mod:`gateway.core.aef_write` writes them as CSV files, one JSON document or one
XLSX workbook.

The structured summary (``a6gw summary``, ``GET /v1/summary``): rows 5 and 7-14 of CTF
Table 4 per year (:mod:`gateway.core.summary`), beside the rows the Party reported, checked
against them on request (:mod:`gateway.core.summary_check`); a check is recorded as an
audit entry per year and a discrepancy per finding (:func:`records`, published by
:func:`record_check`).

Both are computed at a published checkpoint (:mod:`gateway.services.report_log`): only the
entries ``[0, size)`` count, the Party's settings are the log's at that size (or the
config's for a log that records none), and the answer carries the checkpoint's origin,
size and root and the settings' source (:class:`~gateway.core.report_stamp.Stamp`):
:func:`summary_at`, :func:`aef_at`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from gateway.audit.open import open_store
from gateway.config import LoadedConfig, PartyConfig
from gateway.core import discrepancy as dsc
from gateway.core import summary as sm
from gateway.core import summary_check as sc
from gateway.core import summary_log as sl
from gateway.core import trust_log
from gateway.core.aef import Aef, build
from gateway.core.aef_rollforward import RollForward, require, roll_forward
from gateway.core.canonical import canonical_bytes
from gateway.core.decision_time import iso_ms
from gateway.core.report_stamp import Stamp
from gateway.core.topics import AUDIT_TOPIC, FINDINGS_TOPIC
from gateway.services.report_log import LogAt, require_settings


class Settings(Protocol):
    """A Party's reporting settings: a ``PartyConfig`` or a logged ``PartySettings``."""

    @property
    def code(self) -> str: ...
    @property
    def ndc_period(self) -> tuple[int, int] | None: ...
    @property
    def ca_method(self) -> sm.CaMethod: ...
    @property
    def ca_year(self) -> sm.CaYear: ...


# -- the AEF -------------------------------------------------------------------------------


def today_utc() -> str:
    return datetime.now(UTC).strftime("%d/%m/%Y")


def export_party(
    party: Settings,
    registries: Collection[str],
    entries: Iterable[dict[str, Any]],
    *,
    year: int,
    submitted: str,
    version: str = "1.0",
) -> tuple[RollForward, Aef]:
    """The roll-forward (required to pass) and the AEF of ``party`` (its ITMO registries
    ``registries``) for ``year``: pure, over entries already read.

    :raises AefError: when the holdings do not roll forward, or the export is refused.
    """
    log = [e for e in entries if e.get("entry_type") not in trust_log.KINDS]  # no decision
    rf = require(roll_forward(log, party.code, year, registries))
    aef = build(
        log,
        party=party.code,
        year=year,
        registries=registries,
        ndc_period=party.ndc_period,
        submitted=submitted,
        version=version,
    )
    return rf, aef


def write_files(out: Path, files: dict[str, bytes]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written


# -- the structured summary ----------------------------------------------------------------

LABELS = {
    "R5": "emissions covered by the NDC (inventory)",
    "R7": "ITMOs first transferred (NDC)",
    "R8": "first transferred for OIMP",
    "R9": "ITMOs used towards the NDC",
    "R10": "net: R7 + R8 - R9",
    "R11": "average over elapsed years",
    "R12": "corresponding adjustments",
    "R13": "cumulative net (sum of R10)",
    "R14": "emissions balance: R5 + R12",
}


@dataclass(frozen=True)
class YearResult:
    summary: sm.Summary
    reported: sl.Reported | None
    findings: Sequence[sc.SummaryFinding] = field(default_factory=tuple)
    checked: bool = False

    @property
    def outcome(self) -> str:
        return sc.outcome(self.reported, self.findings)

    def to_dict(self) -> dict[str, Any]:
        rep = self.reported
        out = self.summary.to_dict() | {
            "reported": None
            if rep is None
            else {
                "entry_id": rep.entry_id,
                "decided_at": rep.decided_at,
                "rows": {k: None if v is None else sl.text(v) for k, v in rep.rows.items()},
            }
        }
        if self.checked:
            out |= {"outcome": self.outcome, "findings": [f.to_dict() for f in self.findings]}
        return out


def method_of(p: Settings) -> sm.Method:
    return sm.Method(p.code, p.ndc_period, p.ca_method, p.ca_year)


def results(
    facts: sl.Facts, method: sm.Method, years: Sequence[int], *, check: bool
) -> list[YearResult]:
    out = []
    for year in years:
        summary = sm.summarise(facts, method, year)
        if check:
            reported, found = sc.check(facts, summary)
            out.append(YearResult(summary, reported, found, checked=True))
        else:
            out.append(YearResult(summary, sc.latest_reported(facts, year)))
    return out


# -- the structured summary: rendering (pure) ----------------------------------------------


def _cell(d: Any) -> str:
    return "-" if d is None else sl.text(d)


def year_text(r: YearResult) -> str:
    s = r.summary
    m = s.method
    basis = "averaging" if m.averaging else f"{m.ca_method}, by {m.ca_year.replace('-', ' ')} year"
    first, last = m.ndc_period or (s.year, s.year)
    head = f"{s.party} {s.year}  ({basis}; NDC period {first}-{last})"
    codes: dict[str, list[str]] = {}
    for f in r.findings:
        if f.code != sc.UNBACKED:
            codes.setdefault(f.row, []).append(f.code)
    header = ["row", "", "computed", "reported"]
    if r.checked and r.reported:
        header.append("check")
    header.append("note")
    lines = [header]
    for name in sm.ROWS:
        row = s.rows[name]
        theirs = r.reported.rows.get(name) if r.reported else None
        shown = "" if name == "R5" or r.reported is None else _cell(theirs)
        line = [name, LABELS[name], _cell(row.value), shown]
        if r.checked and r.reported:
            line.append(",".join(codes.get(name, [])) or ("" if name == "R5" else "ok"))
        line.append(row.reason if row.status != "computed" or name in ("R5", "R12") else "")
        lines.append(line)
    widths = [max(len(x[i]) for x in lines) for i in range(len(header) - 1)]
    body = [
        "  ".join([*(c.ljust(w) for c, w in zip(x, widths, strict=False)), x[-1]]).rstrip()
        for x in lines
    ]
    rep = r.reported
    where = f"entry {rep.entry_id} of {rep.decided_at}" if rep else ""
    extra = [f"  reported: {where}" if rep else "  reported: nothing (no summary.reported)"]
    extra += [f"  {f.code}: {f.message}" for f in r.findings if f.code == sc.UNBACKED]
    if r.checked:
        n = len(r.findings)
        extra.append(f"  check: {r.outcome}" + (f" ({n} finding{'s' * (n != 1)})" if n else ""))
    return "\n".join([head, *("  " + b for b in body), *extra])


def text(rs: Sequence[YearResult]) -> str:
    return "\n\n".join(year_text(r) for r in rs)


# -- the structured summary: recording -----------------------------------------------------


def records(
    rs: Sequence[YearResult], at_ms: int, registries: Sequence[str]
) -> list[tuple[str, bytes, bytes]]:
    """(topic, key, value) of each year's check entry and of one discrepancy per finding."""
    out: list[tuple[str, bytes, bytes]] = []
    for r in rs:
        entry = sc.check_entry(r.summary, r.reported, r.findings, at_ms)
        out.append((AUDIT_TOPIC, entry["entry_id"].encode(), canonical_bytes(entry)))
        for d in sc.discrepancies(r.findings, entry["entry_id"], iso_ms(at_ms), registries):
            out.append((FINDINGS_TOPIC, d.id.encode(), canonical_bytes(dsc.record(d))))
    return out


def record_check(lc: LoadedConfig, rs: Sequence[YearResult], party: str) -> int:
    """Publish each year's check entry and its discrepancies (:func:`records`), each record
    with its MAC, as the ``summary`` principal; returns how many discrepancies."""
    from gateway.transport.clients import clients_for
    from gateway.transport.publish import publish

    registries = [r.id for r in lc.config.registries if r.party == party]
    items = records(rs, int(time.time() * 1000), registries)
    asyncio.run(publish(clients_for(lc, "summary"), items, mac_key=lc.load_mac_key()))
    return len(items) - len(rs)


def party_of(lc: LoadedConfig, code: str) -> PartyConfig | None:
    """The Party ``code`` of the config, if it has one."""
    return next((p for p in lc.config.parties if p.code == code), None)


def stored_entries(lc: LoadedConfig) -> list[bytes]:
    """Every entry of the config's audit store, as stored, in log order."""
    store = open_store(lc.audit_store(), readonly=True)
    try:
        return list(store.entries())
    finally:
        store.close()


def log_entries(lc: LoadedConfig) -> list[dict[str, Any]]:
    """Every entry of the config's audit store, decoded, in log order."""
    return [json.loads(raw) for raw in stored_entries(lc)]


# -- at a checkpoint -----------------------------------------------------------------------


def report_entries(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries a report reads: all but the trust and the Parties' settings (read apart)."""
    return [e for e in entries if e.get("entry_type") not in trust_log.KINDS]


@dataclass(frozen=True)
class SummaryAt:
    """A Party's structured summary at a checkpoint: how it was computed, each year's rows."""

    method: sm.Method
    years: list[YearResult]
    stamp: Stamp

    def to_dict(self) -> dict[str, Any]:
        """What ``a6gw summary --json`` prints."""
        return {
            "party": self.method.code,
            "years": [r.to_dict() for r in self.years],
            **self.stamp.to_dict(),
        }


def summary_at(
    log: LogAt,
    party: str,
    configured: Mapping[str, PartyConfig] | None,
    year: int | None = None,
    *,
    check: bool = False,
) -> SummaryAt:
    """``party``'s summary over ``log`` (every year of the NDC period up to the latest with
    data, or ``year``), with the settings the log records, else the config's.

    :raises GatewayError: RPT-SETTINGS (no settings), CTF-101/102/103 (see
        :mod:`gateway.core.summary`), RPT-LOG (a settings entry that cannot be read).
    """
    settings, source = require_settings(log, party, configured)
    method = method_of(settings)
    facts = sl.collect(report_entries(log.entries), settings.code)
    years = [year] if year is not None else sm.default_years(facts, method)
    return SummaryAt(method, results(facts, method, years, check=check), log.stamp(source))


def aef_at(
    log: LogAt,
    party: str,
    configured: Mapping[str, PartyConfig] | None,
    *,
    year: int,
    submitted: str,
    version: str = "1.0",
) -> tuple[RollForward, Aef, Stamp]:
    """``party``'s AEF for ``year`` over ``log``: its registries as the log names them, its
    settings as the log records them (else the config's), and the stamp of the checkpoint.

    :raises GatewayError: RPT-SETTINGS; AefError as :func:`export_party`.
    """
    settings, source = require_settings(log, party, configured)
    rf, aef = export_party(
        settings,
        log.registries(settings.code),
        report_entries(log.entries),
        year=year,
        submitted=submitted,
        version=version,
    )
    return rf, aef, log.stamp(source)
