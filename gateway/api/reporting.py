"""The reporting routes: a Party's structured summary and its AEF, computed from the log.

``GET /v1/summary`` answers what ``a6gw summary --check --json`` prints (the rows of CTF
Table 4 rows 5 and 7-14 per year, the rows the Party reported, the check's findings; the
check is not recorded), each block and inventory figure with the leaf index of its entry
so that an auditor can prove it included (``/v1/proofs/inclusion?index=``). ``GET
/v1/aef`` answers what ``a6gw aef export`` writes, once the Party's holdings roll forward:
the JSON document, a zip of the five CSV files and their manifest, or the XLSX workbook.

Both are computed at a published checkpoint: the latest, or ``?size=N``, which must be the
tree size of one (``RPT-SIZE``, 404, otherwise). Only the entries below it count, and each
answer names it (``checkpoint``: origin, size, root; in the CSV zip, the manifest; in the
workbook, its ``Checkpoint`` sheet) with the source of the Party's settings (``settings``:
``log`` or ``config``). Both call the use cases (:mod:`gateway.services.reporting`:
:func:`~gateway.services.reporting.summary_at`, :func:`~gateway.services.reporting.aef_at`)
over the entries ``[0, size)`` of the store, read for every request (see
:meth:`Reporting.log_at`).
The response models live here rather than in
:mod:`gateway.api.models`, which imports them for its route table.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from gateway.audit.cosignature import Cosigner
from gateway.audit.logstore import LogStore
from gateway.audit.note import Verifier
from gateway.config import PartyConfig
from gateway.core import aef_vocab as v
from gateway.core import summary_check as sc
from gateway.core import summary_log as sl
from gateway.core.aef import Aef
from gateway.core.aef_write import FORMATS, write
from gateway.core.report_stamp import Stamp
from gateway.errors import AuditError
from gateway.services import report_log as rl
from gateway.services.reporting import LABELS, SummaryAt, YearResult, aef_at, summary_at, today_utc

__all__ = [
    "STATUS",
    "XLSX",
    "ZIP",
    "AefOut",
    "Reporting",
    "SummaryOut",
    "aef_file",
    "summary_out",
]

ZIP = "application/zip"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: HTTP status of the codes these routes answer with (the server adds them to its own).
STATUS = {
    "API-PARTY": 404,
    "CTF-101": 409,  # the Party has no NDC period in the config
    "CTF-102": 400,  # a year outside the NDC period
    "CTF-103": 409,  # a recorded row or figure cannot be read
    rl.NO_SUCH_SIZE: 404,  # ?size= that is not a published checkpoint's
    rl.NO_SETTINGS: 409,
    "RPT-LOG": 409,  # a party-settings entry that cannot be read
    v.BAD_PARAMETER: 400,  # version, date or year of the submission
    v.MISSING: 409,
    v.UNKNOWN: 409,
    v.NO_ROLL_FORWARD: 409,
    v.INCONSISTENT: 409,
    v.UNWRITABLE: 409,
}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # as the XLSX writer's: the same files, the same bytes

#: The leaf index of an entry id.
Indexer = Callable[[str], int]


class _Model(BaseModel):  # as gateway.api.models's own base
    model_config = ConfigDict(extra="forbid", frozen=True)


class EntryRef(_Model):
    entry_id: str
    index: int = Field(ge=0, description="its leaf index (for /v1/proofs/inclusion?index=)")


class CountedOut(_Model):
    """One block behind a row: an Article 6 action row of an entry, as it was counted."""

    entry_id: str
    index: int = Field(ge=0, description="leaf index of the entry (/v1/proofs/inclusion?index=)")
    ca_id: str
    origin: str
    first: str = Field(description="first serial (decimal)")
    last: str = Field(description="last serial (decimal)")
    quantity: str
    action: str = Field(description="the action row's type, e.g. First transfer or Use")


class SummaryRowOut(_Model):
    label: str
    value: str | None = Field(description="decimal text; null when unknown or not applicable")
    status: str = Field(description="computed, unknown or not applicable")
    reason: str
    entries: list[EntryRef] = Field(description="R5, R14: the inventory entry of the figure")
    blocks: list[CountedOut] = Field(description="the blocks counted in the row, in log order")


class FigureOut(_Model):
    """A recorded inventory figure of the year."""

    entry_id: str
    index: int = Field(ge=0)
    submission_id: str
    emissions_tco2e: str
    decided_at: str
    current: bool = Field(description="the latest: the one R5 is")


class ReportedOut(_Model):
    """The latest rows the Party reported for the year (``summary.reported``)."""

    entry_id: str
    index: int = Field(ge=0)
    decided_at: str
    rows: dict[str, str | None] = Field(description="R7 ... R14; null: not applicable")


class RangeOut(_Model):
    ca_id: str
    origin: str
    first: str
    last: str


class FindingOut(_Model):
    code: str = Field(description="CTF-001 ... CTF-004 (gateway.core.summary_check)")
    row: str
    message: str
    reported: str | None
    computed: str | None
    blocks: list[RangeOut] = Field(description="the serial ranges behind the row")
    entry: EntryRef | None = Field(description="CTF-004: the entry of the unbacked use")


class SummaryYear(_Model):
    year: int
    rows: dict[str, SummaryRowOut] = Field(description="R5, R7, R8, ... R14")
    inventory: list[FigureOut] = Field(description="the year's recorded figures, latest last")
    reported: ReportedOut | None
    outcome: str = Field(
        description="consistent, inconsistent, or unreported (nothing reported, nothing found)"
    )
    findings: list[FindingOut]


class CheckpointRef(_Model):
    """The published checkpoint a report was computed at (only entries below ``size``)."""

    origin: str
    size: int = Field(ge=0, description="tree size: the report counts entries [0, size)")
    root: str = Field(description="root hash (hex) of the tree of that size")


SETTINGS = (
    "where the Party's NDC period and corresponding-adjustment method came from: log (its "
    "last party-settings entry below the checkpoint) or config (a log that records none)"
)


class SummaryOut(_Model):
    """A Party's structured summary (CTF Table 4 rows 5, 7-14), checked, per year."""

    checkpoint: CheckpointRef
    settings: str = Field(description=SETTINGS)
    party: str
    ca_method: str
    ca_year: str
    ndc_period: list[int]
    years: list[SummaryYear] = Field(description="none when the log has no data in the period")


class AefOut(_Model):
    """The AEF as one JSON document (``format=json``); csv and xlsx answer files."""

    checkpoint: CheckpointRef
    settings: str = Field(description=SETTINGS)
    party: str
    reported_year: int
    version: str
    tables: dict[str, list[dict[str, Any]]] = Field(
        description="per table, its rows keyed by the V2 field names in table order (the "
        "CARP's fields left out); an empty field is null"
    )


# -- pure parts ------------------------------------------------------------------------------


def _counted(b: sl.Counted, index: Indexer) -> CountedOut:
    return CountedOut(
        entry_id=b.entry_id,
        index=index(b.entry_id),
        ca_id=b.ca_id,
        origin=b.origin,
        first=str(b.first),
        last=str(b.last),
        quantity=str(b.quantity),
        action=b.action,
    )


def _year(r: YearResult, index: Indexer) -> SummaryYear:
    s, rep = r.summary, r.reported
    rows = {
        name: SummaryRowOut(
            label=LABELS[name],
            value=None if row.value is None else sl.text(row.value),
            status=row.status,
            reason=row.reason,
            entries=[EntryRef(entry_id=e, index=index(e)) for e in row.entries],
            blocks=[_counted(b, index) for b in row.blocks],
        )
        for name, row in s.rows.items()
    }
    inventory = [
        FigureOut(
            entry_id=f.entry_id,
            index=index(f.entry_id),
            submission_id=f.submission_id,
            emissions_tco2e=sl.text(f.emissions),
            decided_at=f.decided_at,
            current=n == len(s.inventory) - 1,
        )
        for n, f in enumerate(s.inventory)
    ]
    reported = None
    if rep is not None:
        reported = ReportedOut(
            entry_id=rep.entry_id,
            index=index(rep.entry_id),
            decided_at=rep.decided_at,
            rows={k: None if d is None else sl.text(d) for k, d in rep.rows.items()},
        )
    return SummaryYear(
        year=s.year,
        rows=rows,
        inventory=inventory,
        reported=reported,
        outcome=r.outcome,
        findings=[_finding(f, index) for f in r.findings],
    )


def _finding(f: sc.SummaryFinding, index: Indexer) -> FindingOut:
    return FindingOut(
        code=f.code,
        row=f.row,
        message=f.message,
        reported=None if f.reported is None else sl.text(f.reported),
        computed=None if f.computed is None else sl.text(f.computed),
        blocks=[
            RangeOut(ca_id=c, origin=o, first=str(first), last=str(last))
            for c, o, first, last in f.blocks
        ],
        entry=EntryRef(entry_id=f.entry_id, index=index(f.entry_id)) if f.entry_id else None,
    )


def summary_out(at: SummaryAt, index: Indexer) -> SummaryOut:
    """The answer of ``/v1/summary`` from checked year results."""
    method, rs = at.method, at.years
    return SummaryOut(
        checkpoint=CheckpointRef(**at.stamp.checkpoint()),
        settings=at.stamp.settings,
        party=method.code,
        ca_method=method.ca_method,
        ca_year=method.ca_year,
        ndc_period=list(method.ndc_period or ()),
        years=[_year(r, index) for r in rs],
    )


def zipped(files: Mapping[str, bytes]) -> bytes:
    """The files in one zip, byte-for-byte reproducible (fixed timestamps, given order)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def aef_file(aef: Aef, fmt: str, stamp: Stamp | None = None) -> tuple[bytes, str, str | None]:
    """(body, content type, attachment file name) of the answer of ``/v1/aef``.

    json: the document, as ``a6gw aef export`` writes it (no attachment); csv: the five
    files and the manifest in ``aef-<PARTY>-<YEAR>-csv.zip``; xlsx: the workbook, under its
    own name. Each carries ``stamp`` (:func:`gateway.core.aef_write.write`).
    """
    files = write(aef, fmt, stamp)
    if fmt == "csv":
        return zipped(files), ZIP, f"aef-{aef.party}-{aef.reported_year}-csv.zip"
    ((name, data),) = files.items()
    return (data, XLSX, name) if fmt == "xlsx" else (data, "application/json", None)


def _int_param(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise AuditError(f"parameter {name!r} is not an integer", code="API-REQUEST") from exc


def _year_param(params: Mapping[str, str]) -> int | None:
    return _int_param(params, "year")


# -- the routes ------------------------------------------------------------------------------


@dataclass
class Reporting:
    """``GET /v1/summary`` and ``GET /v1/aef`` at a published checkpoint of the store."""

    store: LogStore
    parties: Mapping[str, PartyConfig]  # the settings of a log that records none
    verifiers: Sequence[Verifier] = ()  # the log's keys, for the checkpoints' notes
    today: Callable[[], str] = today_utc  # the default date of submission, dd/mm/yyyy
    witnesses: Sequence[Cosigner] = ()  # the latest checkpoint: cosigned by >= quorum
    quorum: int = 0

    def party(self, params: Mapping[str, str], log: rl.LogAt) -> str:
        """:raises AuditError: API-REQUEST without a party, API-PARTY for a Party neither
        the log nor the config has settings for."""
        code = params.get("party")
        if not code:
            raise AuditError("parameter 'party' is required", code="API-REQUEST")
        if rl.settings_for(log, code, self.parties) is None:
            raise AuditError(f"no Party {code!r} in the log or the config", code="API-PARTY")
        return code

    def log_at(self, params: Mapping[str, str]) -> rl.LogAt:
        """The entries ``[0, size)`` of the checkpoint ``?size=`` names (default: the
        latest). The store is read in the server's thread; parsing and computing run in a
        worker thread, so other requests are served meanwhile.

        :raises GatewayError: RPT-SIZE (404) no checkpoint of that size; AUD-NOT-FOUND none
            published yet; API-REQUEST a size that is not an integer.
        """
        return rl.from_store(
            self.store,
            self.verifiers,
            _int_param(params, "size"),
            witnesses=self.witnesses,
            quorum=self.quorum,
        )

    def indexer(self) -> Indexer:
        """The leaf index of an entry id (one look-up per id and request)."""

        @cache
        def index(entry_id: str) -> int:
            found = self.store.index_of(entry_id)
            if found is None:  # it was read from this very store
                raise AuditError(f"entry {entry_id!r} has no leaf index", code="AUD-INDEX")
            return found

        return index

    async def get_summary(self, request: web.Request) -> BaseModel:
        params = dict(request.query)
        year = _year_param(params)
        log = self.log_at(params)

        def compute() -> SummaryAt:
            party = self.party(params, log)
            return summary_at(log, party, self.parties, year, check=True)

        return summary_out(await asyncio.to_thread(compute), self.indexer())

    async def get_aef(self, request: web.Request) -> web.Response:
        params = dict(request.query)
        year = _year_param(params)
        if year is None:
            raise AuditError("parameter 'year' is required", code="API-REQUEST")
        fmt = params.get("format") or "json"
        if fmt not in FORMATS:
            raise AuditError(f"format is one of {', '.join(FORMATS)}", code="API-REQUEST")
        log = self.log_at(params)
        submitted, version = params.get("date") or self.today(), params.get("version") or "1.0"

        def compute() -> tuple[bytes, str, str | None]:
            party = self.party(params, log)
            _, aef, stamp = aef_at(
                log, party, self.parties, year=year, submitted=submitted, version=version
            )
            return aef_file(aef, fmt, stamp)

        body, media, name = await asyncio.to_thread(compute)
        headers = {"Content-Disposition": f'attachment; filename="{name}"'} if name else {}
        return web.Response(body=body, content_type=media, headers=headers)
