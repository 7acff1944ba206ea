"""The reporting routes' pure parts: the summary's answer with leaf indices, the AEF's files
as answers, and what the route table says of them."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest

from gateway.api.openapi import openapi
from gateway.api.reporting import XLSX, ZIP, AefOut, aef_file, summary_out, zipped
from gateway.api.routes import ROUTES
from gateway.api.server import STATUS
from gateway.core import summary as sm
from gateway.core import summary_check as sc
from gateway.core import summary_log as sl
from gateway.core.aef_write import to_csv, to_json, to_xlsx
from gateway.core.report_stamp import Stamp
from gateway.services.reporting import SummaryAt, YearResult
from tests.unit.aeflog import aef_of, the_log

METHOD = sm.Method("MNG", (2021, 2030), "averaging")
STAMP = Stamp("a6gw.test/log", 13, "ab" * 32, "config")
INDEX = {"ev-ft-1": 7, "ev-ft-2": 9, "ev-inv-1": 3, "ev-inv-2": 11, "ev-ctf": 12, "ev-use": 5}


def _checked() -> YearResult:
    """2026 of an averaging Party: R7 from two first transfers, the inventory recalculated,
    the reported R7 short by the second block, and an unbacked use."""
    b1 = sl.Counted("ev-ft-1", "CA0001", "MNG01", 1, 2000, 2000, "First transfer")
    b2 = sl.Counted("ev-ft-2", "CA0001", "MNG01", 2401, 2500, 100, "First transfer")
    rows = {n: sm.Row(n, Decimal(0)) for n in sm.ROWS}
    rows["R7"] = sm.Row("R7", Decimal(2100), blocks=(b1, b2))
    rows["R5"] = sm.Row("R5", Decimal("45300000.5"), entries=("ev-inv-2",))
    rows["R11"] = sm.Row("R11", Decimal("350.000"), reason="averaging", blocks=(b1, b2))
    figures = (
        sl.Figure("ev-inv-1", "NIR-v1", Decimal(45000000), "2026-01-01T00:00:00.000Z"),
        sl.Figure("ev-inv-2", "NIR-v2", Decimal("45300000.5"), "2026-02-01T00:00:00.000Z"),
    )
    summary = sm.Summary("MNG", 2026, METHOD, rows, figures)
    theirs: dict[str, Decimal | None] = {f"R{n}": Decimal(0) for n in range(7, 15)}
    reported = sl.Reported("ev-ctf", "2026-11-01T00:00:00.000Z", theirs | {"R7": Decimal(2000)})
    found = [
        sc.SummaryFinding(
            "CTF-001", "MNG", 2026, "R7", Decimal(2000), Decimal(2100), "R7 differs",
            sc.refs((b1, b2)),
        ),
        sc.SummaryFinding(
            "CTF-004", "MNG", 2026, "R9", None, Decimal(10), "unbacked",
            (("CA0001", "JPN01", 1, 10),), "ev-use",
        ),
    ]  # fmt: skip
    return YearResult(summary, reported, found, checked=True)


def test_the_summary_answer_carries_every_leaf_index() -> None:
    asked: list[str] = []

    def index(entry_id: str) -> int:
        asked.append(entry_id)
        return INDEX[entry_id]

    out = summary_out(SummaryAt(METHOD, [_checked()], STAMP), index)
    assert out.checkpoint.model_dump() == {"origin": "a6gw.test/log", "size": 13, "root": "ab" * 32}
    assert out.settings == "config"
    assert (out.party, out.ca_method, out.ca_year, out.ndc_period) == (
        "MNG",
        "averaging",
        "first-transfer",
        [2021, 2030],
    )
    (year,) = out.years
    assert list(year.rows) == list(sm.ROWS)
    r7 = year.rows["R7"]
    assert (r7.label, r7.value, r7.status) == ("ITMOs first transferred (NDC)", "2100", "computed")
    assert [(b.entry_id, b.index, b.first, b.last, b.quantity) for b in r7.blocks] == [
        ("ev-ft-1", 7, "1", "2000", "2000"),
        ("ev-ft-2", 9, "2401", "2500", "100"),
    ]
    assert year.rows["R11"].value == "350.000"  # as `a6gw summary --json` writes it
    assert [(e.entry_id, e.index) for e in year.rows["R5"].entries] == [("ev-inv-2", 11)]
    assert [(f.index, f.current, f.emissions_tco2e) for f in year.inventory] == [
        (3, False, "45000000"),
        (11, True, "45300000.5"),
    ]
    assert year.reported is not None
    assert (year.reported.index, year.reported.rows["R7"]) == (12, "2000")
    assert year.outcome == "inconsistent"
    differs, unbacked = year.findings
    assert (differs.code, differs.row, differs.reported, differs.computed) == (
        "CTF-001",
        "R7",
        "2000",
        "2100",
    )
    assert [(b.first, b.last) for b in differs.blocks] == [("1", "2000"), ("2401", "2500")]
    assert differs.entry is None
    assert unbacked.entry is not None and (unbacked.entry.entry_id, unbacked.entry.index) == (
        "ev-use",
        5,
    )
    # the answer is what `a6gw summary --check --json` prints, with the indices added
    doc = _checked().to_dict()
    assert json.loads(out.model_dump_json())["years"][0]["rows"]["R7"]["blocks"] == [
        b | {"index": INDEX[b["entry_id"]]} for b in doc["rows"]["R7"]["blocks"]
    ]
    assert set(asked) == set(INDEX)


def test_no_years_is_an_empty_list() -> None:
    out = summary_out(SummaryAt(METHOD, [], STAMP), lambda _e: 0)
    assert out.years == [] and out.ndc_period == [2021, 2030]


def test_the_csv_files_come_zipped_and_reproducible() -> None:
    aef = aef_of(the_log(), "JPN", 2025)
    body, media, name = aef_file(aef, "csv")
    assert (media, name) == (ZIP, "aef-JPN-2025-csv.zip")
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert zf.namelist() == list(to_csv(aef))
        assert {n: zf.read(n) for n in zf.namelist()} == to_csv(aef)
    assert aef_file(aef, "csv")[0] == body == zipped(to_csv(aef))
    stamped, _, _ = aef_file(aef, "csv", STAMP)
    with zipfile.ZipFile(io.BytesIO(stamped)) as zf:
        manifest = json.loads(zf.read("aef-JPN-2025-v1.0-manifest.json"))
        assert manifest["checkpoint"] == STAMP.checkpoint() and manifest["settings"] == "config"
        assert sorted(manifest["files"]) == sorted(to_csv(aef))


def test_the_workbook_and_the_document_are_the_writers_bytes() -> None:
    aef = aef_of(the_log(), "JPN", 2025)
    assert aef_file(aef, "xlsx") == (*to_xlsx(aef).values(), XLSX, "aef-JPN-2025-v1.0.xlsx")
    body, media, name = aef_file(aef, "json", STAMP)
    assert (body, media, name) == (*to_json(aef, STAMP).values(), "application/json", None)
    AefOut.model_validate(json.loads(body))  # the document has the declared shape
    with pytest.raises(ValueError, match="unknown format"):
        aef_file(aef, "pdf")


def test_the_route_table_declares_the_files_and_the_codes_have_statuses() -> None:
    doc = openapi()
    aef = doc["paths"]["/v1/aef"]["get"]
    assert set(aef["responses"]["200"]["content"]) == {"application/json", ZIP, XLSX}
    assert set(aef["responses"]) == {"200", "400", "401", "403", "404", "409"}
    summary = doc["paths"]["/v1/summary"]["get"]
    assert summary["responses"]["200"]["content"] == {
        "application/json": {"schema": {"$ref": "#/components/schemas/SummaryOut"}}
    }
    assert [p["name"] for p in summary["parameters"] if p["required"]] == ["party"]
    for route in (aef, summary):
        assert "size" in [p["name"] for p in route["parameters"]]
    assert {"SummaryOut", "CountedOut", "AefOut"} <= set(doc["components"]["schemas"])
    assert [r.media for r in ROUTES if r.media] == [(ZIP, XLSX)]
    assert (STATUS["API-PARTY"], STATUS["CTF-102"], STATUS["A6-AEF-003"]) == (404, 400, 409)
    assert STATUS["AUD-NOT-FOUND"] == 404  # the server's own stay
    assert (STATUS["RPT-SIZE"], STATUS["RPT-SETTINGS"], STATUS["RPT-LOG"]) == (404, 409, 409)
